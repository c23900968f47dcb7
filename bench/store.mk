# bench/store — synced batches/s, records/s, 1 MiB values MB/s, next to the
# disk's raw fsync rate and sequential write rate. Run by hand:
#   nice build/bench/store [--secs S] [--mib N] [DIR]
noinst_PROGRAMS += bench/store
bench_store_SOURCES = bench/store.c
bench_store_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_store_LDADD = $(STORE_LIBS)
