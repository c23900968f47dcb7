# store/ — the leveldb-backed store: key layout, CRC framing, batches,
# PLog records, metas, fs state. Uses leveldb's C API, proto/, util/.

noinst_LIBRARIES += store/libstore.a
store_libstore_a_SOURCES = \
	store/store.h store/internal.h \
	store/keys.c store/keys.h \
	store/frame.c store/frame.h \
	store/dirsync.c store/dirsync.h \
	store/compact.c \
	store/db.c \
	store/open.c \
	store/recover.c \
	store/batch.c \
	store/record.c \
	store/meta.c \
	store/state.c
store_libstore_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
# The generated record.pb-c.h must exist before store/ compiles against it.
$(store_libstore_a_OBJECTS): proto/record.pb-c.h

# What a program linking store/ needs (store first: static link order).
STORE_LIBS = store/libstore.a $(PROTO_LIBS) $(LEVELDB_LIBS) $(UTIL_LIBS)
