# fs/ — the file system as a replicated state machine (fs/fs.h). Uses
# store/, proto/ and util/ only: no libevent, no libfuse, no clock.

noinst_LIBRARIES += fs/libfs.a
fs_libfs_a_SOURCES = \
	fs/fs.h fs/fs_int.h fs/fs.c \
	fs/keys.h \
	fs/hash.c fs/hash.h \
	fs/txn.c fs/txn.h \
	fs/record.c fs/record.h \
	fs/apply_int.h fs/apply.c fs/apply_ns.c fs/apply_file.c \
	fs/lock.c fs/lock.h \
	fs/lease.c \
	fs/read.c \
	fs/cmd.c \
	fs/maint.c \
	fs/snapshot.c
fs_libfs_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)

FS_LIBS = fs/libfs.a
