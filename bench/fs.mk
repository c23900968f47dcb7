# bench/fs — what fs/ costs per command on the real store (bench/fs_apply.c).
# Needs store/ (STORE_LIBS): until store/ is merged into this branch it is an
# EXTRA_PROGRAMS, built only on request (`make bench/fs_apply`).
EXTRA_PROGRAMS += bench/fs_apply
bench_fs_apply_SOURCES = bench/fs_apply.c
bench_fs_apply_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_fs_apply_LDADD = $(FS_LIBS) $(STORE_LIBS) $(PROTO_LIBS) $(LEVELDB_LIBS) $(UTIL_LIBS)
