# mount/ — the paxfs daemon: the composition root (FUSE, loop, engine driver).

MOUNT_FUSE_CFLAGS = $(FUSE_CFLAGS) -DFUSE_USE_VERSION=35

noinst_LIBRARIES += mount/libmount.a
mount_libmount_a_SOURCES = \
	mount/apply.c \
	mount/compact.c mount/compact.h \
	mount/args.c mount/args.h \
	mount/daemon.c mount/daemon.h \
	mount/faults.c mount/faults.h \
	mount/hist.c mount/hist.h \
	mount/names.c mount/names.h \
	mount/node.c mount/node.h \
	mount/notify.c mount/notify.h \
	mount/ops.c \
	mount/peer.c \
	mount/progress.c mount/progress.h \
	mount/quorum.c mount/quorum.h \
	mount/syncer.c mount/syncer.h \
	mount/lock.c mount/lock.h \
	mount/lease.c mount/lease.h \
	mount/loopwatch.c mount/loopwatch.h \
	mount/metrics.c mount/metrics.h \
	mount/reply.h \
	mount/req.c mount/req.h \
	mount/retain.c mount/retain.h \
	mount/session.c mount/session.h \
	mount/snapshot.c mount/snapshot.h \
	mount/status.c mount/status.h \
	mount/storage.c \
	mount/turn.c \
	mount/verify.c mount/verify.h \
	mount/wbuf.c mount/wbuf.h
mount_libmount_a_CFLAGS = $(AM_CFLAGS) $(MOUNT_FUSE_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)

MOUNT_LIBS = mount/libmount.a tools/libsummary.a tools/libprom.a $(FS_LIBS) $(NODE_LIBS) $(NET_LIBS) $(STORE_LIBS) $(PROTO_LIBS) \
	$(UTIL_LIBS) $(FUSE_LIBS) $(LIBEVENT_LIBS)

sbin_PROGRAMS += mount/paxfs
mount_paxfs_SOURCES = mount/main.c
mount_paxfs_CFLAGS = $(AM_CFLAGS) $(MOUNT_FUSE_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
mount_paxfs_LDADD = $(MOUNT_LIBS)
