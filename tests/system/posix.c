/* tests/system/posix.c — POSIX semantics on real paxfs mounts, one syscall
 * at a time: every error a program can rely on, with its errno.
 *
 *   posix MOUNT1 MOUNT2   (two mounts of one cluster; TAP on stdout)
 *
 * Changes are made on MOUNT1 and, where it matters that the outcome is
 * decided identically everywhere, checked or contested from MOUNT2. Run as
 * root: the EACCES cases switch to another user in a child process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int n_tests, n_failed;
static char m1[4096], m2[4096];

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;
	n_tests++;
	if (!cond)
		n_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Expects `rc` to be -1 with errno `want`. */
static void fails(long rc, int want, const char *what)
{
	int got = errno;
	ok(rc == -1 && got == want, "%s fails with %s (got %s)", what, strerrorname_np(want),
	   rc == -1 ? strerrorname_np(got) : "success");
}

static void succeeds(long rc, const char *what)
{
	int got = errno;
	ok(rc >= 0, "%s succeeds%s%s", what, rc < 0 ? ": " : "", rc < 0 ? strerror(got) : "");
}

static const char *p1(const char *rel)
{
	static char buf[4][8192];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/posix/%s", m1, rel);
	return buf[i];
}

static const char *p2(const char *rel)
{
	static char buf[4][8192];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/posix/%s", m2, rel);
	return buf[i];
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static int content_is(const char *path, const char *text)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return !strcmp(buf, text);
}

/* Attributes as an open() sees them. open() is the read barrier (DESIGN.md):
 * a stat() on another node alone may lag a change by a moment. */
static int fresh_stat(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), rc;
	if (fd < 0)
		return -1;
	rc = fstat(fd, st);
	close(fd);
	return rc;
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	return fresh_stat(path, &st) == 0 ? st.st_ino : 0;
}

static int gone(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd >= 0)
		close(fd);
	return fd < 0 && errno == ENOENT;
}

static ssize_t fresh_getxattr(const char *path, const char *name, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t rc;
	if (fd < 0)
		return -1;
	rc = fgetxattr(fd, name, buf, size);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

static void names_and_creates(void)
{
	char longname[300];
	int fd;

	put(p1("f"), "data");
	fails(open(p1("f"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
	      "O_CREAT|O_EXCL on an existing file");
	fails(open(p2("f"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
	      "O_CREAT|O_EXCL from another node");
	fd = open(p2("f"), O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && content_is(p2("f"), "data"),
	   "O_CREAT without O_EXCL opens the existing file");
	if (fd >= 0)
		close(fd);
	fails(open(p1("missing"), O_RDONLY), ENOENT, "open of a missing file");
	fails(open(p1("f/x"), O_RDONLY | O_CREAT, 0644), ENOTDIR, "create under a regular file");
	fails(mkdir(p1("f/d"), 0755), ENOTDIR, "mkdir under a regular file");
	memset(longname, 'n', 256);
	longname[256] = '\0';
	fails(open(p1(longname), O_WRONLY | O_CREAT, 0644), ENAMETOOLONG, "a 256-byte name");
	longname[255] = '\0';
	succeeds(fd = open(p1(longname), O_WRONLY | O_CREAT, 0644), "a 255-byte name");
	if (fd >= 0)
		close(fd);
	ok(ino_of(p2(longname)) != 0, "the 255-byte name is seen on the other node");
	unlink(p1(longname));
	succeeds(mkdir(p1("d"), 0755), "mkdir");
	fails(mkdir(p1("d"), 0755), EEXIST, "mkdir of an existing name");
	fails(mkdir(p2("d"), 0755), EEXIST, "mkdir of an existing name from another node");
	fails(open(p1("d"), O_WRONLY), EISDIR, "open of a directory for writing");
	fails(unlink(p1("d")), EISDIR, "unlink of a directory");
	fails(rmdir(p1("f")), ENOTDIR, "rmdir of a regular file");
	put(p1("d/inside"), "x");
	fails(rmdir(p1("d")), ENOTEMPTY, "rmdir of a non-empty directory");
	fails(rmdir(p2("d")), ENOTEMPTY, "rmdir of a non-empty directory from another node");
	fails(link(p1("d"), p1("dlink")), EPERM, "a hard link to a directory");
	fails(rmdir(p1("missing")), ENOENT, "rmdir of a missing name");
	fails(unlink(p1("missing")), ENOENT, "unlink of a missing name");
	succeeds(symlink("loop2", p1("loop1")), "symlink");
	succeeds(symlink("loop1", p1("loop2")), "a second symlink");
	fails(open(p1("loop1"), O_RDONLY), ELOOP, "open through a symlink loop");
	fails(symlink("x", p1("f")), EEXIST, "symlink over an existing name");
	fails(mknod(p1("f"), S_IFIFO | 0644, 0), EEXIST, "mkfifo over an existing name");
}

static void renames(void)
{
	ino_t a, b;

	put(p1("ra"), "A");
	put(p1("rb"), "B");
	a = ino_of(p1("ra"));
	succeeds(rename(p1("ra"), p1("rb")), "rename over an existing file");
	ok(ino_of(p2("rb")) == a && content_is(p2("rb"), "A") && gone(p2("ra")),
	   "the other node sees the replacement");
	mkdir(p1("rd1"), 0755);
	mkdir(p1("rd2"), 0755);
	succeeds(rename(p1("rd1"), p1("rd2")), "rename of a directory over an empty directory");
	mkdir(p1("rd3"), 0755);
	put(p1("rd3/x"), "x");
	mkdir(p1("rd4"), 0755);
	fails(rename(p1("rd4"), p1("rd3")), ENOTEMPTY, "rename over a non-empty directory");
	fails(rename(p1("rd4"), p1("rb")), ENOTDIR, "rename of a directory over a file");
	fails(rename(p1("rb"), p1("rd4")), EISDIR, "rename of a file over a directory");
	mkdir(p1("rd4/sub"), 0755);
	fails(rename(p1("rd4"), p1("rd4/sub/inner")), EINVAL,
	      "rename of a directory into its own subtree");
	fails(rename(p1("nothing"), p1("x")), ENOENT, "rename of a missing name");
	put(p1("ea"), "A");
	put(p1("eb"), "B");
	fails(syscall(SYS_renameat2, AT_FDCWD, p1("ea"), AT_FDCWD, p1("eb"), RENAME_NOREPLACE),
	      EEXIST, "RENAME_NOREPLACE over an existing name");
	a = ino_of(p1("ea"));
	b = ino_of(p1("eb"));
	succeeds(syscall(SYS_renameat2, AT_FDCWD, p1("ea"), AT_FDCWD, p1("eb"), RENAME_EXCHANGE),
		 "RENAME_EXCHANGE");
	ok(ino_of(p2("ea")) == b && ino_of(p2("eb")) == a && content_is(p2("ea"), "B"),
	   "RENAME_EXCHANGE swapped both names, seen from the other node");
	fails(syscall(SYS_renameat2, AT_FDCWD, p1("ea"), AT_FDCWD, p1("nope"), RENAME_EXCHANGE),
	      ENOENT, "RENAME_EXCHANGE with a missing target");
	succeeds(rename(p1("rd3"), p1("rd2/moved")),
		 "rename of a directory into another directory");
	ok(content_is(p2("rd2/moved/x"), "x"), "its contents moved with it");
}

static void links_and_unlink(void)
{
	struct stat st;
	char buf[16] = {0};
	int fd;

	put(p1("l1"), "linked");
	succeeds(link(p1("l1"), p1("l2")), "link");
	ok(fresh_stat(p2("l1"), &st) == 0 && st.st_nlink == 2, "nlink is 2 on the other node");
	unlink(p1("l1"));
	ok(fresh_stat(p2("l2"), &st) == 0 && st.st_nlink == 1 && content_is(p2("l2"), "linked"),
	   "unlink of one name leaves the other");

	put(p1("open-unlinked"), "still here");
	fd = open(p1("open-unlinked"), O_RDONLY);
	succeeds(unlink(p1("open-unlinked")), "unlink of an open file");
	ok(fd >= 0 && pread(fd, buf, sizeof(buf) - 1, 0) == 10 && !strcmp(buf, "still here"),
	   "an unlinked file stays readable while open");
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0, "its link count is 0");
	ok(gone(p2("open-unlinked")), "its name is gone on the other node");
	if (fd >= 0)
		close(fd);
}

static void data_and_attrs(void)
{
	struct stat st;
	char buf[64];
	int fd;

	fd = open(p1("app"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	ok(fd >= 0 && write(fd, "12345", 5) == 5 && lseek(fd, 0, SEEK_SET) == 0 &&
	       write(fd, "678", 3) == 3,
	   "O_APPEND writes after a seek to 0");
	if (fd >= 0)
		close(fd);
	ok(content_is(p2("app"), "12345678"), "O_APPEND data lands at the end");
	put(p1("t"), "0123456789");
	succeeds(truncate(p1("t"), 4), "truncate down");
	ok(content_is(p2("t"), "0123"), "truncated content on the other node");
	succeeds(truncate(p1("t"), 8), "truncate up");
	fd = open(p2("t"), O_RDONLY);
	ok(fd >= 0 && read(fd, buf, sizeof(buf)) == 8 && !memcmp(buf, "0123\0\0\0\0", 8),
	   "truncate up reads zeros");
	if (fd >= 0)
		close(fd);
	fails(truncate(p1("d"), 0), EISDIR, "truncate of a directory");
	succeeds(chmod(p1("t"), 0604), "chmod");
	ok(fresh_stat(p2("t"), &st) == 0 && (st.st_mode & 07777) == 0604,
	   "mode seen on the other node");
	succeeds(chown(p1("t"), 4242, 4343), "chown");
	ok(fresh_stat(p2("t"), &st) == 0 && st.st_uid == 4242 && st.st_gid == 4343,
	   "owner seen on the other node");
	{
		struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
		succeeds(utimensat(AT_FDCWD, p1("t"), ts, 0), "utimensat");
		ok(fresh_stat(p2("t"), &st) == 0 && st.st_mtim.tv_sec == 1234567890 &&
		       st.st_mtim.tv_nsec == 123456789,
		   "mtime with nanoseconds seen on the other node");
	}
	fd = open(p1("fa"), O_RDWR | O_CREAT, 0644);
	succeeds(fd >= 0 ? fallocate(fd, 0, 0, 100000) : -1, "fallocate");
	ok(fresh_stat(p2("fa"), &st) == 0 && st.st_size == 100000, "fallocate extends the size");
	if (fd >= 0)
		close(fd);
	fd = open(p1("big"), O_RDWR | O_CREAT, 0644);
	ok(fd >= 0 && pwrite(fd, "far", 3, 5000000000LL) == 3, "a write past 4 GiB");
	if (fd >= 0)
		close(fd);
	fd = open(p2("big"), O_RDONLY);
	ok(fd >= 0 && pread(fd, buf, 3, 5000000000LL) == 3 && !memcmp(buf, "far", 3) &&
	       pread(fd, buf, 4, 4999999996LL) == 4 && !memcmp(buf, "\0\0\0\0", 4),
	   "read back past 4 GiB on the other node, hole as zeros");
	if (fd >= 0)
		close(fd);
}

static void xattrs(void)
{
	char buf[64];
	put(p1("x"), "x");
	succeeds(setxattr(p1("x"), "user.color", "blue", 4, 0), "setxattr");
	ok(fresh_getxattr(p2("x"), "user.color", buf, sizeof(buf)) == 4 && !memcmp(buf, "blue", 4),
	   "getxattr on the other node");
	fails(setxattr(p1("x"), "user.color", "red", 3, XATTR_CREATE), EEXIST,
	      "setxattr XATTR_CREATE on an existing attribute");
	fails(setxattr(p1("x"), "user.size", "1", 1, XATTR_REPLACE), ENODATA,
	      "setxattr XATTR_REPLACE of a missing attribute");
	fails(getxattr(p1("x"), "user.none", buf, sizeof(buf)), ENODATA,
	      "getxattr of a missing attribute");
	ok(listxattr(p2("x"), buf, sizeof(buf)) == 11 && !strcmp(buf, "user.color"), "listxattr");
	succeeds(removexattr(p1("x"), "user.color"), "removexattr");
	fails(fresh_getxattr(p2("x"), "user.color", buf, sizeof(buf)), ENODATA,
	      "the removed attribute is gone on the other node");
	succeeds(setxattr(p1("d"), "user.dir", "1", 1, 0), "setxattr on a directory");
}

/* Another user, with default_permissions: the kernel enforces modes. */
static void permissions(void)
{
	pid_t pid;
	int status;

	put(p1("secret"), "s");
	chmod(p1("secret"), 0600);
	mkdir(p1("closed"), 0755);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		if (open(p2("secret"), O_RDONLY) >= 0 || errno != EACCES)
			bad |= 1;
		if (open(p2("closed/new"), O_WRONLY | O_CREAT, 0644) >= 0 || errno != EACCES)
			bad |= 4;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 3),
	   "another user gets EACCES reading a 0600 file");
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 6),
	   "another user gets EACCES creating in a 0755 directory");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s MOUNT1 MOUNT2\n", argv[0]);
		return 2;
	}
	snprintf(m1, sizeof(m1), "%s", argv[1]);
	snprintf(m2, sizeof(m2), "%s", argv[2]);
	if (mkdir(p1(""), 0755) < 0) {
		printf("Bail out! mkdir %s: %s\n", p1(""), strerror(errno));
		return 1;
	}
	names_and_creates();
	renames();
	links_and_unlink();
	data_and_attrs();
	xattrs();
	permissions();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
