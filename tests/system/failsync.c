/* tests/system/failsync.c — an LD_PRELOAD shim for tests: fsync and
 * fdatasync fail with EIO while the file named by PAXFS_TEST_FAILSYNC
 * exists, as on a dying disk. Built by the test
 * that uses it (tests/system/failed_sync.sh); never linked into paxfs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void)
{
	const char *trigger = getenv("PAXFS_TEST_FAILSYNC");
	return trigger && access(trigger, F_OK) == 0;
}

int fsync(int fd)
{
	static int (*real)(int);
	if (failing()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (failing()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}
