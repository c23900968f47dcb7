# tests/unit/net — links net/ (+ proto/, util/, libevent) only.

check_LIBRARIES += tests/unit/net/libnettest.a
tests_unit_net_libnettest_a_SOURCES = tests/unit/net/harness.c tests/unit/net/harness.h
tests_unit_net_libnettest_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)

NET_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
NET_TEST_LIBS = tests/unit/net/libnettest.a $(NET_LIBS) $(CHECK_LIBS)

NET_TESTS = \
	tests/unit/net/test_net_crypto \
	tests/unit/net/test_net_frame \
	tests/unit/net/test_net_mesh
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
