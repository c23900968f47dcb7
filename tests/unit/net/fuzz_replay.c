/* tests/unit/net/fuzz_replay.c — runs the frame fuzz target without
 * libFuzzer: replays every file of the committed corpus, then a few
 * thousand seeded mutations of them, and prints TAP. Works with any
 * compiler, so `make check` exercises the target in both builds (the
 * sanitizer build catches what a bad input would break).
 *
 *   fuzz_replay [DIR...]          default: $PAXFS_SRCDIR/tests/unit/net/corpus
 *   fuzz_replay --write-seeds DIR  (re)writes the seed corpus */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"
#include "net/handshake.h"
#include "util/endian.h"
#include "util/prng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const struct net_hs_keys fuzz_keys;
extern const uint8_t fuzz_my_nonce_byte;
extern const uint8_t fuzz_channel_byte;
extern size_t fuzz_envelopes_after_auth;
extern size_t fuzz_amplified_after_auth;

#define MUTATIONS_PER_FILE 3000
#define FUZZ_MAX_INPUT     (1u << 20)

static int tap_n;

static void tap(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_n, what);
	fflush(stdout);
}

/* ---- seeds ------------------------------------------------------------------ */

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void put(struct buf *b, enum net_frame_type t, const ProtobufCMessage *m)
{
	b->n += net_frame_pack(t, m, b->b + b->n);
}

static void preamble(struct buf *b)
{
	net_preamble_encode(b->b + b->n);
	b->n += NET_PREAMBLE_LEN;
}

/* An envelope of `n` empty PaxosMsgs: 2 bytes each on the wire, ~260 in
 * memory once decoded. */
static void put_amplifier(struct buf *b, size_t n)
{
	size_t len = 2 + 1 + 2 + 2 * n; /* version, paxos field tag and 2-byte length */
	uint8_t *p = b->b + b->n + NET_FRAME_HDR_LEN;
	*p++ = 0x08; /* version = 1 */
	*p++ = 0x01;
	*p++ = 0x52; /* field 10 (paxos), length-delimited */
	*p++ = (uint8_t)(2 * n | 0x80);
	*p++ = (uint8_t)(2 * n >> 7);
	memset(p, 0, 2 * n);
	for (size_t i = 0; i < n; i++)
		p[2 * i] = 0x0a; /* PaxosBatch.msgs, empty */
	net_frame_seal(b->b + b->n, NET_FRAME_ENVELOPE, len);
	b->n += NET_FRAME_HDR_LEN + len;
}

/* A whole good session as node 2 dialing node 1: hello, a valid proof,
 * heartbeat, an envelope with two messages (or, `amplifying`, one of 3000
 * empty messages that would decode into 100 x its size), close. */
static void session(struct buf *b, bool amplifying)
{
	uint8_t nonce[NET_NONCE_LEN], mine[NET_NONCE_LEN], proof[NET_PROOF_LEN];
	uint8_t channel[NET_CHANNEL_LEN];
	Paxfs__NetHello hello = PAXFS__NET_HELLO__INIT;
	Paxfs__NetAuth auth = PAXFS__NET_AUTH__INIT;
	Paxfs__NetHeartbeat hb = PAXFS__NET_HEARTBEAT__INIT;
	Paxfs__NetClose close = PAXFS__NET_CLOSE__INIT;
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	Paxfs__PaxosBatch batch = PAXFS__PAXOS_BATCH__INIT;
	Paxfs__PaxosMsg m1 = PAXFS__PAXOS_MSG__INIT, m2 = PAXFS__PAXOS_MSG__INIT;
	Paxfs__PaxosMsg *msgs[] = {&m1, &m2};

	memset(nonce, 0x11, sizeof(nonce));
	memset(mine, fuzz_my_nonce_byte, sizeof(mine));
	memset(channel, fuzz_channel_byte, sizeof(channel));
	b->n = 0;
	preamble(b);
	hello.cluster = (char *)fuzz_keys.cluster;
	hello.node_id = 2;
	hello.to_id = 1;
	hello.nonce.data = nonce;
	hello.nonce.len = sizeof(nonce);
	put(b, NET_FRAME_HELLO, &hello.base);
	net_hs_proof(&fuzz_keys, NET_ROLE_DIALER, 2, 1, nonce, mine, channel, proof);
	auth.proof.data = proof;
	auth.proof.len = sizeof(proof);
	put(b, NET_FRAME_AUTH, &auth.base);
	put(b, NET_FRAME_HEARTBEAT, &hb.base);
	m1.type = 1;
	m1.entity = 7;
	m1.entry = 3;
	m1.ballot = 0x102;
	m1.has_value = true;
	m1.value.data = (uint8_t *)"a value";
	m1.value.len = 7;
	m2.type = 2;
	m2.entity = 1;
	m2.chosen = 99;
	batch.n_msgs = 2;
	batch.msgs = msgs;
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_PAXOS;
	env.paxos = &batch;
	if (amplifying)
		put_amplifier(b, 3000);
	else
		put(b, NET_FRAME_ENVELOPE, &env.base);
	close.code = NET_CLOSE_SHUTDOWN;
	close.reason = "bye";
	put(b, NET_FRAME_CLOSE, &close.base);
}

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "fuzz_replay: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int write_seeds(const char *dir)
{
	struct buf b;
	int rc = 0;
	uint8_t junk[NET_FRAME_HDR_LEN + 11] = {0};

	session(&b, true);
	rc |= write_file(dir, "amplifying-envelope", b.b, b.n);
	session(&b, false);
	rc |= write_file(dir, "good-session", b.b, b.n);
	rc |= write_file(dir, "truncated-session", b.b, b.n - 20);
	b.b[b.n - 40] ^= 0x04; /* inside the envelope */
	rc |= write_file(dir, "bad-crc", b.b, b.n);
	rc |= write_file(dir, "wrong-magic", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);

	b.n = 0;
	preamble(&b);
	util_put_be32(b.b + b.n, 1u << 31);
	b.b[b.n + 4] = NET_FRAME_HELLO;
	b.n += NET_FRAME_HDR_LEN;
	rc |= write_file(dir, "oversized-length", b.b, b.n);

	b.n = 0;
	preamble(&b);
	memset(junk + NET_FRAME_HDR_LEN, 0xff, 10);
	junk[NET_FRAME_HDR_LEN + 10] = 1;
	net_frame_seal(junk, NET_FRAME_ENVELOPE, 11);
	memcpy(b.b + b.n, junk, sizeof(junk));
	b.n += sizeof(junk);
	rc |= write_file(dir, "undecodable-body", b.b, b.n);

	b.n = 0;
	preamble(&b);
	util_put_be32(b.b + 4, 7); /* version 7 */
	Paxfs__NetHello hello = PAXFS__NET_HELLO__INIT;
	uint8_t nonce[NET_NONCE_LEN] = {1};
	hello.cluster = "another";
	hello.node_id = 9;
	hello.nonce.data = nonce;
	hello.nonce.len = sizeof(nonce);
	put(&b, NET_FRAME_HELLO, &hello.base);
	rc |= write_file(dir, "wrong-version-and-cluster", b.b, b.n);
	return rc;
}

/* ---- replay ----------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = malloc(FUZZ_MAX_INPUT);
	if (!f || !p) {
		if (f)
			fclose(f);
		free(p);
		return NULL;
	}
	*len = fread(p, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	return p;
}

static void mutate(struct util_prng *r, const uint8_t *in, size_t n, uint8_t *out, size_t *outn)
{
	size_t len = n;
	memcpy(out, in, n);
	for (int k = 0, edits = 1 + (int)util_prng_below(r, 4); k < edits; k++) {
		size_t at = len ? (size_t)util_prng_below(r, len) : 0;
		switch (util_prng_below(r, 5)) {
		case 0: /* flip a bit */
			if (len)
				out[at] ^= (uint8_t)(1u << util_prng_below(r, 8));
			break;
		case 1: /* set a byte to an edge value */
			if (len)
				out[at] = (uint8_t[]){0, 0x7f, 0x80, 0xff}[util_prng_below(r, 4)];
			break;
		case 2: /* cut */
			len = at;
			break;
		case 3: /* duplicate a span */
			if (len && len < FUZZ_MAX_INPUT / 2) {
				size_t span = (size_t)util_prng_below(r, len - at) + 1;
				memmove(out + at + span, out + at, len - at);
				len += span;
			}
			break;
		case 4: /* fix up a frame's CRC after editing, so decoding is reached */
			if (len >= NET_PREAMBLE_LEN + NET_FRAME_HDR_LEN) {
				size_t body = util_get_be32(out + NET_PREAMBLE_LEN);
				if (body <= len - NET_PREAMBLE_LEN - NET_FRAME_HDR_LEN)
					net_frame_seal(
					    out + NET_PREAMBLE_LEN,
					    (enum net_frame_type)out[NET_PREAMBLE_LEN + 4], body);
			}
			break;
		}
	}
	*outn = len;
}

int main(int argc, char **argv)
{
	char dflt[4096];
	const char *dirs[16];
	int ndirs = 0, files = 0;
	uint8_t *inputs[256];
	size_t lens[256];
	struct util_prng r;

	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);
	for (int i = 1; i < argc && ndirs < 16; i++)
		dirs[ndirs++] = argv[i];
	if (!ndirs) {
		const char *src = getenv("PAXFS_SRCDIR");
		snprintf(dflt, sizeof(dflt), "%s/tests/unit/net/corpus", src ? src : ".");
		dirs[ndirs++] = dflt;
	}
	for (int d = 0; d < ndirs; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;
		if (!dir) {
			char what[4200];
			snprintf(what, sizeof(what), "corpus %s: %s", dirs[d], strerror(errno));
			tap(false, what);
			continue;
		}
		while ((e = readdir(dir)) && files < 256) {
			char path[4200];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
			inputs[files] = read_file(path, &lens[files]);
			if (!inputs[files]) {
				tap(false, path);
				continue;
			}
			size_t before = fuzz_envelopes_after_auth;
			size_t amplified = fuzz_amplified_after_auth;
			LLVMFuzzerTestOneInput(inputs[files], lens[files]);
			tap(true, path); /* a crash or sanitizer report never gets here */
			if (!strcmp(e->d_name, "good-session"))
				tap(fuzz_envelopes_after_auth == before + 1,
				    "good-session passes the handshake and reaches the envelope");
			if (!strcmp(e->d_name, "amplifying-envelope"))
				tap(fuzz_envelopes_after_auth == before &&
					fuzz_amplified_after_auth == amplified + 1,
				    "amplifying-envelope passes the handshake and its envelope is "
				    "refused");
			files++;
		}
		closedir(dir);
	}
	if (!files)
		tap(false, "the corpus is empty");

	uint8_t *out = malloc(FUZZ_MAX_INPUT);
	util_prng_seed(&r, 4242);
	for (int i = 0; i < files; i++)
		for (int k = 0; k < MUTATIONS_PER_FILE; k++) {
			size_t n;
			mutate(&r, inputs[i], lens[i], out, &n);
			/* exactly n bytes on the heap: a read past the end is caught */
			uint8_t *exact = malloc(n ? n : 1);
			memcpy(exact, out, n);
			LLVMFuzzerTestOneInput(exact, n);
			free(exact);
		}
	char what[64];
	snprintf(what, sizeof(what), "%d seeded mutations of the corpus",
		 files * MUTATIONS_PER_FILE);
	tap(true, what);
	free(out);
	for (int i = 0; i < files; i++)
		free(inputs[i]);
	printf("1..%d\n", tap_n);
	return 0;
}
