/* tests/unit/net/harness.h — what every net/ test needs: loopback configs,
 * test envelopes with a checkable payload, bounded event loops, log capture,
 * child processes that cannot outlive the test.
 *
 * Invariant: every wait here is bounded in time; every child process is
 * started with a parent-death signal and recorded so th_kill_children()
 * (registered with atexit by th_fork) stops exactly those pids. */
#ifndef PAXFS_TESTS_NET_HARNESS_H
#define PAXFS_TESTS_NET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/net.h"

struct event_base;

#define TH_CLUSTER "test-cluster"
#define TH_SECRET  "0123456789abcdef-test-secret"

/* Puts a TLS client (net/tls.h's settings, `cluster` and `secret`) on the
 * connected blocking socket `fd` and runs its handshake. Returns the SSL
 * (free with SSL_free; the socket stays the caller's), or NULL when the
 * handshake failed. Reads block at most 5 s (SO_RCVTIMEO). */
struct ssl_st *th_tls_client(int fd, const char *cluster, const char *secret);

/* The same with `secret` as the client credential when client_cred. */
struct ssl_st *th_tls_client_as(int fd, const char *cluster, const char *secret, bool client_cred);

/* Milliseconds on the monotonic clock. */
int64_t th_now_ms(void);

/* Fills `ports` with `n` distinct TCP ports free on 127.0.0.1 right now. */
void th_free_ports(uint16_t *ports, size_t n);

/* A config of nodes 1..n on 127.0.0.1:ports[i-1], this side `self` (0 for
 * a client), the test cluster and secret, fast timers for tests. */
void th_config(struct net_config *c, size_t n, const uint16_t *ports, uint32_t self);

/* A test envelope: one PaxosMsg whose entity is `seq`, ballot `tag`, and
 * value `len` bytes at `payload` (borrowed). */
struct th_msg {
	Paxfs__Envelope env;
	Paxfs__PaxosBatch batch;
	Paxfs__PaxosMsg msg;
	Paxfs__PaxosMsg *msgs[1];
};
void th_msg_init(struct th_msg *t, uint64_t seq, uint64_t tag, const void *payload, size_t len);

/* Reads back what th_msg_init wrote; false when `env` is not shaped so. */
bool th_msg_get(const Paxfs__Envelope *env, uint64_t *seq, uint64_t *tag, const uint8_t **payload,
		size_t *len);

/* A protobuf body built field by field, for shapes the generated packers
 * cannot make cheaply (a million empty repeated elements). Abort on OOM. */
struct th_body {
	uint8_t *p;
	size_t len, cap;
};
void th_body_free(struct th_body *b);
void th_body_raw(struct th_body *b, const void *x, size_t n);
/* Appends field `field` (length-delimited) holding n bytes of x. */
void th_body_field(struct th_body *b, unsigned field, const void *x, size_t n);
/* Appends `m` packed, as length-delimited field `field`. */
void th_body_msg(struct th_body *b, unsigned field, const ProtobufCMessage *m);
/* Appends `n` empty elements of the repeated message field `field`. */
void th_body_empties(struct th_body *b, unsigned field, size_t n);
/* Replaces *b by an Envelope (version 1) whose body field `field` holds the
 * old *b (10 paxos, 21 verify_reply: proto/envelope.proto). */
void th_body_envelope(struct th_body *b, unsigned field);

/* Deterministic payload bytes for (a, b): a window of a fixed random pool,
 * so generating and checking cost one memcmp. len <= TH_PAYLOAD_MAX. */
#define TH_PAYLOAD_MAX (2u << 20)
const uint8_t *th_payload(uint64_t a, uint64_t b, size_t len);

/* Runs `base` until pred(arg) is true or `timeout_ms` passed; returns pred's
 * last value. pred is checked every 2 ms. */
bool th_run_until(struct event_base *base, bool (*pred)(void *), void *arg, unsigned timeout_ms);

/* Runs `base` for `ms` milliseconds. */
void th_run_for(struct event_base *base, unsigned ms);

/* Sends this process's log to a fresh temp file; returns its path (static). */
const char *th_log_capture(void);

/* Number of lines of the captured log that contain every one of the
 * non-NULL strings a, b. */
int th_log_count(const char *a, const char *b);

/* Waits up to timeout_ms until th_log_count(a, b) >= 1. */
bool th_log_wait(const char *a, const char *b, unsigned timeout_ms);

/* Forks a child that runs fn(arg) and _exit()s with its result; the child
 * gets SIGKILL if the test process dies. Records the pid for
 * th_kill_children. Returns the pid. */
pid_t th_fork(int (*fn)(void *), void *arg);

/* Forgets a pid that was reaped. */
void th_forget(pid_t pid);

/* SIGKILLs and reaps every child th_fork started and did not forget. */
void th_kill_children(void);

/* waitpid with a deadline: returns the wait status, or -1 on timeout. */
int th_wait(pid_t pid, unsigned timeout_ms);

#endif
