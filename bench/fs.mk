# bench/fs — what fs/ costs per command on the real store (bench/fs_apply.c).
noinst_PROGRAMS += bench/fs_apply
bench_fs_apply_SOURCES = bench/fs_apply.c
bench_fs_apply_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_fs_apply_LDADD = $(FS_LIBS) $(STORE_LIBS) $(PROTO_LIBS) $(LEVELDB_LIBS) $(UTIL_LIBS)

# bench/fs.sh — the paxfs-vs-local table (issue 5); bench/fsbench does the timing.
noinst_PROGRAMS += bench/fsbench
bench_fsbench_SOURCES = bench/fsbench.c
EXTRA_DIST += bench/fs.sh
# bench/contend.sh — the engine's figures with writers on three nodes (docs/bench.md).
EXTRA_DIST += bench/contend.sh
