/* tests/system/failsync.c — an LD_PRELOAD shim for tests: fsync and
 * fdatasync fail with EIO while the file named by PAXFS_TEST_FAILSYNC
 * exists, as on a dying disk. Built by the test
 * that uses it (tests/system/failed_sync.sh); never linked into paxfs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* EIO while the trigger file exists, else the real call named `name`. */
static int sync_or_fail(const char *name, int fd)
{
	const char *trigger = getenv("PAXFS_TEST_FAILSYNC");
	if (trigger && access(trigger, F_OK) == 0) {
		errno = EIO;
		return -1;
	}
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
	return real(fd);
}

int fsync(int fd)
{
	return sync_or_fail("fsync", fd);
}

int fdatasync(int fd)
{
	return sync_or_fail("fdatasync", fd);
}
