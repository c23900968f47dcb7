# util/ — libc-only helpers: a budgeted allocator, command-line error lines, crc32c, logging, PRNG, byte order.

noinst_LIBRARIES += util/libutil.a
util_libutil_a_SOURCES = \
	util/budget.c util/budget.h \
	util/cli.c util/cli.h \
	util/clock.c util/clock.h \
	util/conf.c util/conf.h \
	util/crc32c.c util/crc32c.h \
	util/endian.h \
	util/log.c util/log.h \
	util/prng.c util/prng.h \
	util/u64map.c util/u64map.h

UTIL_LIBS = util/libutil.a -lpthread
