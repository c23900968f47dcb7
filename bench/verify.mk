# bench/verify — paxfs-verify's time on a cluster of many files (bench/verify.sh,
# run by hand as root: it mounts a cluster).
EXTRA_DIST += bench/verify.sh

# Data dirs of a big cluster made without FUSE (bench/verify.sh --fill).
EXTRA_PROGRAMS += bench/verify_fill
bench_verify_fill_SOURCES = bench/verify_fill.c
bench_verify_fill_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_verify_fill_LDADD = $(FS_LIBS) $(STORE_LIBS) $(PROTO_LIBS) $(LEVELDB_LIBS) $(UTIL_LIBS)
