# tests/unit/net — links net/ (+ proto/, util/, libevent) only.

check_LIBRARIES += tests/unit/net/libnettest.a
tests_unit_net_libnettest_a_SOURCES = tests/unit/net/harness.c tests/unit/net/harness.h
tests_unit_net_libnettest_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS)

NET_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS)
NET_TEST_LIBS = tests/unit/net/libnettest.a $(NET_LIBS) $(CHECK_LIBS)

NET_TESTS = \
	tests/unit/net/test_net_crypto \
	tests/unit/net/test_net_frame \
	tests/unit/net/test_net_mesh \
	tests/unit/net/test_net_volume \
	tests/unit/net/test_net_restart \
	tests/unit/net/test_net_badinput \
	tests/unit/net/test_net_tls \
	tests/unit/net/test_net_roles \
	tests/unit/net/test_net_rotate \
	tests/unit/net/test_net_certs \
	tests/unit/net/fuzz_replay
check_PROGRAMS += $(NET_TESTS)
TESTS += $(NET_TESTS)

tests_unit_net_test_net_crypto_SOURCES = tests/unit/net/test_net_crypto.c tests/lib/check_main.h
tests_unit_net_test_net_crypto_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_crypto_LDADD = $(NET_TEST_LIBS)

tests_unit_net_test_net_frame_SOURCES = tests/unit/net/test_net_frame.c tests/lib/check_main.h
tests_unit_net_test_net_frame_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_frame_LDADD = $(NET_TEST_LIBS)

tests_unit_net_test_net_mesh_SOURCES = tests/unit/net/test_net_mesh.c tests/lib/check_main.h
tests_unit_net_test_net_mesh_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_mesh_LDADD = $(NET_TEST_LIBS)

tests_unit_net_test_net_volume_SOURCES = tests/unit/net/test_net_volume.c tests/lib/check_main.h
tests_unit_net_test_net_volume_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_volume_LDADD = $(NET_TEST_LIBS) -lpthread

tests_unit_net_test_net_restart_SOURCES = tests/unit/net/test_net_restart.c tests/lib/check_main.h
tests_unit_net_test_net_restart_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_restart_LDADD = $(NET_TEST_LIBS)

tests_unit_net_test_net_badinput_SOURCES = tests/unit/net/test_net_badinput.c tests/lib/check_main.h
tests_unit_net_test_net_badinput_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_badinput_LDADD = $(NET_TEST_LIBS) -lpthread

tests_unit_net_test_net_tls_SOURCES = tests/unit/net/test_net_tls.c tests/lib/check_main.h
tests_unit_net_test_net_tls_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_tls_LDADD = $(NET_TEST_LIBS) -lpthread

tests_unit_net_test_net_roles_SOURCES = tests/unit/net/test_net_roles.c tests/lib/check_main.h
tests_unit_net_test_net_roles_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_roles_LDADD = $(NET_TEST_LIBS) -lpthread

tests_unit_net_test_net_rotate_SOURCES = tests/unit/net/test_net_rotate.c tests/lib/check_main.h
tests_unit_net_test_net_rotate_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_rotate_LDADD = $(NET_TEST_LIBS) -lpthread

tests_unit_net_test_net_certs_SOURCES = tests/unit/net/test_net_certs.c tests/lib/check_main.h
tests_unit_net_test_net_certs_CFLAGS = $(NET_TEST_CFLAGS)
tests_unit_net_test_net_certs_LDADD = $(NET_TEST_LIBS) -lpthread

# The frame fuzz target: its corpus replays in `make check` (any compiler);
# `make fuzz-net` builds the libFuzzer binary with clang.
tests_unit_net_fuzz_replay_SOURCES = tests/unit/net/fuzz_replay.c tests/unit/net/fuzz_frame.c
tests_unit_net_fuzz_replay_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_net_fuzz_replay_LDADD = $(NET_LIBS)
EXTRA_DIST += tests/unit/net/corpus

FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined
FUZZ_NET_FILES = tests/unit/net/fuzz_frame.c net/frame.c net/handshake.c \
	util/budget.c util/crc32c.c

fuzz-net: $(PROTO_GEN_C) $(PROTO_GEN_H)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz-net needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	$(AM_V_CC)$(MKDIR_P) tests/unit/net && $(FUZZ_CC) $(FUZZ_CFLAGS) -I$(top_srcdir) -I$(top_builddir) \
		$(PROTOBUF_C_CFLAGS) $(addprefix $(top_srcdir)/,$(FUZZ_NET_FILES)) $(PROTO_GEN_C) \
		$(PROTOBUF_C_LIBS) $(OPENSSL_LIBS) -lpthread -o tests/unit/net/fuzz-net
	@echo "run: tests/unit/net/fuzz-net -max_total_time=60 FRESH_DIR $(top_srcdir)/tests/unit/net/corpus"
CLEANFILES += tests/unit/net/fuzz-net
.PHONY: fuzz-net
