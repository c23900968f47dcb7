/* tests/unit/net/harness.c — see harness.h. */
#include "tests/unit/net/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "net/tls.h"

#include "util/log.h"
#include "util/prng.h"

SSL *th_tls_client(int fd, const char *cluster, const char *secret)
{
	return th_tls_client_as(fd, cluster, secret, false);
}

SSL *th_tls_client_as(int fd, const char *cluster, const char *secret, bool client_cred)
{
	struct timeval tv = {.tv_sec = 5};
	struct net_tls *t;
	char err[200], why[NET_TLS_WHY_LEN];
	SSL *ssl;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (client_cred ? net_tls_new(cluster, NULL, 0, (const uint8_t *)secret, strlen(secret), &t,
				      err, sizeof(err))
			: net_tls_new(cluster, (const uint8_t *)secret, strlen(secret), NULL, 0, &t,
				      err, sizeof(err)))
		abort();
	ssl = net_tls_conn(t, false, why);
	if (!ssl)
		abort();
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		ssl = NULL;
	}
	/* the PSK callbacks are done with `t`; the SSL holds its own
	 * references to the context and session */
	net_tls_free(t);
	return ssl;
}

int64_t th_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void th_free_ports(uint16_t *ports, size_t n)
{
	int fds[64];
	/* Hold every socket open until all are chosen, so the ports differ. */
	for (size_t i = 0; i < n && i < 64; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t len = sizeof(sa);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) < 0) {
			perror("th_free_ports");
			abort();
		}
		ports[i] = ntohs(sa.sin_port);
	}
	for (size_t i = 0; i < n && i < 64; i++)
		close(fds[i]);
}

void th_config(struct net_config *c, size_t n, const uint16_t *ports, uint32_t self)
{
	memset(c, 0, sizeof(*c));
	c->cluster = TH_CLUSTER;
	c->secret = (const uint8_t *)TH_SECRET;
	c->secret_len = strlen(TH_SECRET);
	c->self = self;
	c->n_nodes = n;
	for (size_t i = 0; i < n; i++) {
		c->nodes[i].id = (uint32_t)(i + 1);
		snprintf(c->nodes[i].host, sizeof(c->nodes[i].host), "127.0.0.1");
		c->nodes[i].port = ports[i];
	}
	c->heartbeat_ms = 100;
	c->dead_ms = 1000;
	c->reconnect_min_ms = 20;
	c->reconnect_max_ms = 300;
	c->handshake_timeout_ms = 2000;
	c->seed = 1000 + self;
}

void th_body_free(struct th_body *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void th_body_raw(struct th_body *b, const void *x, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, x, n);
	b->len += n;
}

static void body_varint(struct th_body *b, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;
	while (v >= 0x80) {
		x[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (uint8_t)v;
	th_body_raw(b, x, n);
}

void th_body_field(struct th_body *b, unsigned field, const void *x, size_t n)
{
	body_varint(b, (uint64_t)field << 3 | 2);
	body_varint(b, n);
	th_body_raw(b, x, n);
}

void th_body_msg(struct th_body *b, unsigned field, const ProtobufCMessage *m)
{
	uint8_t small[256];
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *x = n <= sizeof(small) ? small : malloc(n);
	if (!x)
		abort();
	protobuf_c_message_pack(m, x);
	th_body_field(b, field, x, n);
	if (x != small)
		free(x);
}

void th_body_empties(struct th_body *b, unsigned field, size_t n)
{
	for (size_t i = 0; i < n; i++)
		th_body_field(b, field, NULL, 0);
}

void th_body_envelope(struct th_body *b, unsigned field)
{
	struct th_body env = {0};
	th_body_raw(&env, "\x08\x01", 2); /* version = 1 */
	th_body_field(&env, field, b->p, b->len);
	th_body_free(b);
	*b = env;
}

void th_msg_init(struct th_msg *t, uint64_t seq, uint64_t tag, const void *payload, size_t len)
{
	paxfs__envelope__init(&t->env);
	paxfs__paxos_batch__init(&t->batch);
	paxfs__paxos_msg__init(&t->msg);
	t->env.version = 1;
	t->env.body_case = PAXFS__ENVELOPE__BODY_PAXOS;
	t->env.paxos = &t->batch;
	t->msgs[0] = &t->msg;
	t->batch.n_msgs = 1;
	t->batch.msgs = t->msgs;
	t->msg.entity = seq;
	t->msg.ballot = tag;
	t->msg.has_value = true;
	t->msg.value.data = (uint8_t *)payload;
	t->msg.value.len = len;
}

bool th_msg_get(const Paxfs__Envelope *env, uint64_t *seq, uint64_t *tag, const uint8_t **payload,
		size_t *len)
{
	if (env->body_case != PAXFS__ENVELOPE__BODY_PAXOS || !env->paxos || env->paxos->n_msgs != 1)
		return false;
	*seq = env->paxos->msgs[0]->entity;
	*tag = env->paxos->msgs[0]->ballot;
	*payload = env->paxos->msgs[0]->value.data;
	*len = env->paxos->msgs[0]->value.len;
	return true;
}

static uint8_t *pool;

const uint8_t *th_payload(uint64_t a, uint64_t b, size_t len)
{
	if (!pool) {
		struct util_prng p;
		pool = malloc(2 * TH_PAYLOAD_MAX);
		util_prng_seed(&p, 77);
		for (size_t i = 0; i < 2 * TH_PAYLOAD_MAX; i += 8) {
			uint64_t v = util_prng_next(&p);
			memcpy(pool + i, &v, 8);
		}
	}
	if (len > TH_PAYLOAD_MAX)
		abort();
	return pool + (a * 1000003u + b * 7919u) % TH_PAYLOAD_MAX;
}

struct until {
	struct event_base *base;
	bool (*pred)(void *);
	void *arg;
	int64_t deadline;
	bool result;
};

static void until_cb(evutil_socket_t fd, short what, void *arg)
{
	struct until *u = arg;
	if ((u->result = u->pred(u->arg)) || th_now_ms() >= u->deadline)
		event_base_loopbreak(u->base);
}

bool th_run_until(struct event_base *base, bool (*pred)(void *), void *arg, unsigned timeout_ms)
{
	struct until u = {base, pred, arg, th_now_ms() + timeout_ms, false};
	struct timeval tv = {0, 2000};
	struct event *ev;

	if ((u.result = pred(arg)))
		return true;
	ev = event_new(base, -1, EV_PERSIST, until_cb, &u);
	event_add(ev, &tv);
	event_base_dispatch(base);
	event_free(ev);
	return u.result;
}

static bool never(void *arg)
{
	return false;
}

void th_run_for(struct event_base *base, unsigned ms)
{
	th_run_until(base, never, NULL, ms);
}

static char log_path[64];

/* At exit (a failed assertion exits too), the captured log goes to stderr,
 * which the test driver keeps in the test's .log file. */
static void log_dump(void)
{
	char line[2048];
	FILE *f = fopen(log_path, "r");
	if (!f)
		return;
	fprintf(stderr, "# --- captured log ---\n");
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

const char *th_log_capture(void)
{
	static bool registered;
	int fd;
	snprintf(log_path, sizeof(log_path), "/tmp/paxfs-net-test-log-XXXXXX");
	fd = mkstemp(log_path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	/* The file is only needed while the test runs; unlink it at once so
	 * nothing is left behind whatever happens, and read it via /proc. */
	unlink(log_path);
	util_log_set_fd(fd);
	snprintf(log_path, sizeof(log_path), "/proc/self/fd/%d", fd);
	if (!registered) {
		atexit(log_dump);
		registered = true;
	}
	return log_path;
}

int th_log_count(const char *a, const char *b)
{
	char line[2048];
	int n = 0;
	FILE *f = fopen(log_path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if ((!a || strstr(line, a)) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

bool th_log_wait(const char *a, const char *b, unsigned timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	do {
		if (th_log_count(a, b) > 0)
			return true;
		usleep(10000);
	} while (th_now_ms() < end);
	return th_log_count(a, b) > 0;
}

#define MAX_CHILDREN 16
static pid_t children[MAX_CHILDREN];
static pid_t parent_pid;

void th_kill_children(void)
{
	if (getpid() != parent_pid)
		return;
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
}

pid_t th_fork(int (*fn)(void *), void *arg)
{
	static bool registered;
	pid_t pid;

	if (!registered) {
		parent_pid = getpid();
		atexit(th_kill_children);
		registered = true;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		abort();
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent_pid)
			_exit(99);
		_exit(fn(arg));
	}
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] <= 0) {
			children[i] = pid;
			break;
		}
	return pid;
}

void th_forget(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

int th_wait(pid_t pid, unsigned timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	int status;
	do {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			th_forget(pid);
			return status;
		}
		usleep(5000);
	} while (th_now_ms() < end);
	return -1;
}
