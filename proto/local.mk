# proto/ — protobuf-c code generated at build time from proto/*.proto
# (never committed). Every module that speaks a schema links libproto.a.

PROTO_FILES = \
	proto/record.proto \
	proto/command.proto \
	proto/paxos.proto \
	proto/net.proto \
	proto/verify.proto \
	proto/status.proto \
	proto/envelope.proto \
	proto/fs.proto

PROTO_GEN_C = $(PROTO_FILES:.proto=.pb-c.c)
PROTO_GEN_H = $(PROTO_FILES:.proto=.pb-c.h)

noinst_LIBRARIES += proto/libproto.a
nodist_proto_libproto_a_SOURCES = $(PROTO_GEN_C) $(PROTO_GEN_H)
proto_libproto_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) -Wno-missing-prototypes
BUILT_SOURCES += $(PROTO_GEN_C) $(PROTO_GEN_H)
CLEANFILES += $(PROTO_GEN_C) $(PROTO_GEN_H)
EXTRA_DIST += $(PROTO_FILES)

PROTO_LIBS = proto/libproto.a $(PROTOBUF_C_LIBS)

AM_V_PROTOC = $(am__v_PROTOC_@AM_V@)
am__v_PROTOC_ = $(am__v_PROTOC_@AM_DEFAULT_V@)
am__v_PROTOC_0 = @echo "  PROTOC  " $@;
am__v_PROTOC_1 =

%.pb-c.c %.pb-c.h: %.proto
	$(AM_V_PROTOC)$(MKDIR_P) $(@D) && $(PROTOC_C) --proto_path=$(srcdir) --c_out=$(builddir) $<
