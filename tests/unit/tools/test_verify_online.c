/* tests/unit/tools/test_verify_online.c — paxfs-verify CONFIG against fake
 * nodes (child processes running a real net/ mesh that answer as told):
 * a good node is compared while an unreachable one is reported with why;
 * a wrong secret, an answer that breaks the protocol, an error answer, a
 * config with a typo each give "could not check" (exit 2) with the cause.
 *
 * The fakes are this test's own children: they die with it (PDEATHSIG),
 * are stopped by pid, and listen on loopback only. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"
#include "tests/lib/tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net.h"
#include "tools/verify.h"
#include "util/conf.h"

static char tmp[PATH_MAX - 64];

static void tmp_setup(void)
{
	tmpdir_make(tmp, sizeof(tmp), "paxfs-vonline");
}

static void tmp_teardown(void)
{
	rm_rf(tmp);
}

#define CASE(suite, fn, timeout_s) FIXTURE_CASE(suite, fn, timeout_s, tmp_setup, tmp_teardown)

/* A loopback port nobody listens on right now. */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* A config naming nodes 1..n at the given ports, with key file `key`. */
static void write_conf(const char *name, const char *key, const uint16_t *ports, size_t n)
{
	char path[PATH_MAX], text[2048];
	size_t pos =
	    (size_t)snprintf(text, sizeof(text), "cluster = test\nsecret_file = %s\n", key);
	for (size_t i = 0; i < n; i++)
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "node.%zu = 127.0.0.1:%u\n",
					i + 1, ports[i]);
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	write_file(path, text, 0644);
}

static void conf_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmp, name);
}

/* ---- the fake node ----------------------------------------------------------------- */

enum fake_mode {
	FAKE_GOOD = 1,   /* one entity (the namespace), valid answers */
	FAKE_DISORDER,   /* entities out of order */
	FAKE_ERROR,      /* "could not answer" */
	FAKE_WRONG_KIND, /* answers with a message that is no verify reply */
};

struct fake {
	struct net_mesh *mesh;
	enum fake_mode mode;
};

static Paxfs__VerifyEntity *ns_entity(Paxfs__VerifyEntity *e, uint64_t id)
{
	paxfs__verify_entity__init(e);
	e->entity = id;
	e->state = FS_ENTITY_LIVE;
	e->has_apply = true;
	e->state_digest = 0x1234;
	return e;
}

static int fake_recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct fake *f = arg;
	Paxfs__Envelope out = PAXFS__ENVELOPE__INIT;
	Paxfs__VerifyReply reply = PAXFS__VERIFY_REPLY__INIT;
	Paxfs__SnapshotPiece piece = PAXFS__SNAPSHOT_PIECE__INIT;
	Paxfs__VerifyEntity ents[2], *ptrs[2];
	const Paxfs__VerifyRequest *m;

	if (env->body_case != PAXFS__ENVELOPE__BODY_VERIFY_REQUEST)
		return 0;
	m = env->verify_request;
	out.version = 1;
	out.body_case = PAXFS__ENVELOPE__BODY_VERIFY_REPLY;
	out.verify_reply = &reply;
	reply.request = m->request;
	switch (f->mode) {
	case FAKE_GOOD:
		if (m->n_entities) {
			reply.n_entities = 1;
			ptrs[0] = ns_entity(&ents[0], m->entities[0]);
		} else {
			reply.n_entities = m->after < 1 ? 1 : 0;
			ptrs[0] = ns_entity(&ents[0], 1);
			reply.next = 1;
			reply.done = true;
		}
		reply.entities = ptrs;
		break;
	case FAKE_DISORDER:
		ptrs[0] = ns_entity(&ents[0], 5);
		ptrs[1] = ns_entity(&ents[1], 3);
		reply.n_entities = 2;
		reply.entities = ptrs;
		reply.next = 5;
		break;
	case FAKE_ERROR:
		reply.error = EIO;
		reply.error_text.data = (uint8_t *)"disk on fire";
		reply.error_text.len = 12;
		break;
	case FAKE_WRONG_KIND:
		out.body_case = PAXFS__ENVELOPE__BODY_SNAPSHOT_PIECE;
		out.snapshot_piece = &piece;
		break;
	}
	net_send(f->mesh, from, &out);
	return 0;
}

/* Starts node `id` of config `conf` answering as `mode`; returns its pid
 * once it listens. */
static pid_t fake_start(const char *conf, uint32_t id, enum fake_mode mode)
{
	int fds[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		static struct util_conf uc;
		static struct net_config cfg;
		struct net_callbacks cb = {.recv_cb = fake_recv_cb};
		struct fake f = {.mode = mode};
		struct event_base *base;
		char err[512];
		/* Check's runner handles SIGTERM by killing its process group: the
		 * fake must not inherit that, or stopping it kills the test. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(60);
		close(fds[0]);
		if (util_conf_load(conf, &uc, err, sizeof(err)) < 0)
			_exit(3);
		const struct util_conf_node *me = util_conf_node(&uc, id);
		cfg.cluster = uc.cluster;
		cfg.secret = uc.secret;
		cfg.secret_len = uc.secret_len;
		cfg.self = id;
		cfg.nodes[0].id = id;
		snprintf(cfg.nodes[0].host, sizeof(cfg.nodes[0].host), "%.63s", me->host);
		cfg.nodes[0].port = me->port;
		cfg.n_nodes = 1;
		base = event_base_new();
		if (!base || net_mesh_new(base, &cfg, &cb, &f, &f.mesh, err, sizeof(err)) < 0)
			_exit(4);
		if (write(fds[1], "r", 1) != 1)
			_exit(5);
		event_base_dispatch(base);
		_exit(0);
	}
	close(fds[1]);
	struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void fake_stop(pid_t pid)
{
	int st;
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

/* Runs verify_online on config `name` with a short timeout. */
static int run(const char *name, struct verify_result *r)
{
	char path[PATH_MAX];
	struct verify_opts opt = {.timeout_ms = 3000, .rounds = 1};
	conf_path(path, sizeof(path), name);
	return verify_online(path, &opt, r);
}

static void keys(void)
{
	char path[PATH_MAX];
	conf_path(path, sizeof(path), "good.key");
	write_file(path, "0123456789abcdef0123456789abcdef\n", 0600);
	conf_path(path, sizeof(path), "other.key");
	write_file(path, "fedcba9876543210fedcba9876543210\n", 0600);
}

/* ---- the cases ------------------------------------------------------------------------ */

START_TEST(a_good_node_is_compared_and_an_unreachable_one_reported)
{
	uint16_t ports[2] = {free_port(), free_port()};
	char conf[PATH_MAX];
	struct verify_result r;
	keys();
	write_conf("c.conf", "good.key", ports, 2);
	conf_path(conf, sizeof(conf), "c.conf");
	pid_t pid = fake_start(conf, 1, FAKE_GOOD);
	ck_assert_int_eq(run("c.conf", &r), VERIFY_EXIT_UNCHECKED);
	fake_stop(pid);
	ck_assert(r.nodes[0].checked);
	ck_assert_uint_eq(verify_cmp_listed(r.cmp, 0), 1);
	ck_assert_uint_eq(verify_cmp_counts(r.cmp)->entities, 1);
	ck_assert(!r.nodes[1].checked);
	ck_assert_ptr_nonnull(strstr(r.nodes[1].reason, "unreachable"));
	ck_assert_str_eq(r.cluster, "test");
	verify_result_close(&r);
}
END_TEST

START_TEST(two_good_nodes_agree)
{
	uint16_t ports[2] = {free_port(), free_port()};
	char conf[PATH_MAX];
	struct verify_result r;
	keys();
	write_conf("c.conf", "good.key", ports, 2);
	conf_path(conf, sizeof(conf), "c.conf");
	pid_t a = fake_start(conf, 1, FAKE_GOOD), b = fake_start(conf, 2, FAKE_GOOD);
	ck_assert_int_eq(run("c.conf", &r), VERIFY_EXIT_AGREE);
	fake_stop(a);
	fake_stop(b);
	ck_assert_uint_eq(verify_cmp_counts(r.cmp)->digests, 1);
	verify_result_close(&r);
}
END_TEST

START_TEST(a_wrong_secret_is_refused)
{
	uint16_t ports[1] = {free_port()};
	char conf[PATH_MAX];
	struct verify_result r;
	keys();
	write_conf("node.conf", "good.key", ports, 1);
	write_conf("client.conf", "other.key", ports, 1);
	conf_path(conf, sizeof(conf), "node.conf");
	pid_t pid = fake_start(conf, 1, FAKE_GOOD);
	ck_assert_int_eq(run("client.conf", &r), VERIFY_EXIT_UNCHECKED);
	fake_stop(pid);
	ck_assert(!r.nodes[0].checked);
	ck_assert_ptr_nonnull(strstr(r.nodes[0].reason, "secret"));
	verify_result_close(&r);
}
END_TEST

static void one_bad(enum fake_mode mode, const char *says)
{
	uint16_t ports[2] = {free_port(), free_port()};
	char conf[PATH_MAX];
	struct verify_result r;
	keys();
	write_conf("c.conf", "good.key", ports, 2);
	conf_path(conf, sizeof(conf), "c.conf");
	pid_t a = fake_start(conf, 1, FAKE_GOOD), b = fake_start(conf, 2, mode);
	ck_assert_int_eq(run("c.conf", &r), VERIFY_EXIT_UNCHECKED);
	fake_stop(a);
	fake_stop(b);
	ck_assert(r.nodes[0].checked);
	ck_assert(!r.nodes[1].checked);
	ck_assert_msg(strstr(r.nodes[1].reason, says), "reason: %s", r.nodes[1].reason);
	verify_result_close(&r);
}

START_TEST(a_node_answering_out_of_order_is_garbage)
{
	one_bad(FAKE_DISORDER, "garbage");
}
END_TEST

START_TEST(a_node_answering_another_message_is_garbage)
{
	one_bad(FAKE_WRONG_KIND, "garbage");
}
END_TEST

START_TEST(a_node_answering_an_error_is_reported)
{
	one_bad(FAKE_ERROR, "disk on fire");
}
END_TEST

START_TEST(a_config_with_a_typo_is_refused)
{
	char path[PATH_MAX];
	struct verify_result r;
	keys();
	conf_path(path, sizeof(path), "typo.conf");
	write_file(path, "cluster = test\nsecret_file = good.key\nnod.1 = 127.0.0.1:7000\n", 0644);
	ck_assert_int_eq(run("typo.conf", &r), VERIFY_EXIT_UNCHECKED);
	ck_assert_msg(strstr(r.error, "typo.conf:3"), "error: %s", r.error);
	verify_result_close(&r);
	ck_assert_int_eq(run("missing.conf", &r), VERIFY_EXIT_UNCHECKED);
	ck_assert_ptr_nonnull(strstr(r.error, "missing.conf"));
	verify_result_close(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("verify_online");
	CASE(s, a_good_node_is_compared_and_an_unreachable_one_reported, 30);
	CASE(s, two_good_nodes_agree, 30);
	CASE(s, a_wrong_secret_is_refused, 30);
	CASE(s, a_node_answering_out_of_order_is_garbage, 30);
	CASE(s, a_node_answering_another_message_is_garbage, 30);
	CASE(s, a_node_answering_an_error_is_reported, 30);
	CASE(s, a_config_with_a_typo_is_refused, 30);
	return s;
}
