# tools/ — paxfs-verify and its library; the test-only paxfs-corrupt.
# May use store/, net/, fs/, proto/, util/; never libfuse.
#
# libsummary.a is what a node and paxfs-verify share: an entity's summary
# and its wire form. The daemon (mount/) links it, and only it, to answer
# VerifyRequests with the same summaries that paxfs-verify compares.

noinst_LIBRARIES += tools/libsummary.a
tools_libsummary_a_SOURCES = \
	tools/chain.c tools/chain.h \
	tools/summary.c tools/summary.h \
	tools/wire.c tools/wire.h
tools_libsummary_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)

# libprom.a: the status families in Prometheus text format, written by
# `paxfsctl metrics` and by a node's HTTP endpoint (mount/metrics.c) alike.
noinst_LIBRARIES += tools/libprom.a
tools_libprom_a_SOURCES = tools/prom.c tools/prom.h
tools_libprom_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)

noinst_LIBRARIES += tools/libverify.a
tools_libverify_a_SOURCES = \
	tools/client.c tools/client.h \
	tools/compare.c tools/compare.h \
	tools/verify.h \
	tools/offline.c \
	tools/online.c \
	tools/report.c
tools_libverify_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)

VERIFY_LIBS = tools/libverify.a tools/libsummary.a $(FS_LIBS) $(NET_LIBS) $(STORE_LIBS) $(PROTO_LIBS) $(UTIL_LIBS) \
	$(LIBEVENT_LIBS)

bin_PROGRAMS += tools/paxfs-verify
tools_paxfs_verify_SOURCES = tools/main.c
tools_paxfs_verify_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
tools_paxfs_verify_LDADD = $(VERIFY_LIBS)

# Damages a stopped node's data dir on purpose: for the tests only.
check_PROGRAMS += tools/paxfs-corrupt
tools_paxfs_corrupt_SOURCES = tools/corrupt.c
tools_paxfs_corrupt_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
tools_paxfs_corrupt_LDADD = $(FS_LIBS) $(STORE_LIBS) $(PROTO_LIBS) $(LEVELDB_LIBS) $(UTIL_LIBS)

# paxfsctl: status and metrics of a running cluster (tools/ctl.h); the same
# client links as paxfs-verify (tools/client.h).
bin_PROGRAMS += tools/paxfsctl
tools_paxfsctl_SOURCES = tools/ctl.c tools/ctl.h tools/ask.c tools/ctl_status.c tools/ctl_metrics.c
tools_paxfsctl_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
tools_paxfsctl_LDADD = tools/libprom.a $(VERIFY_LIBS)
