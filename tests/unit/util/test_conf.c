/* tests/unit/util/test_conf.c — the cluster config: good files parse, every
 * mistake is refused with file:line and the problem. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/conf.h"

static char dir[] = "/tmp/paxfs-conf-XXXXXX";
static struct util_conf conf;
static char err[512];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static int load(const char *text)
{
	char path[256];
	write_file("cluster.conf", text, 0644);
	snprintf(path, sizeof(path), "%s/cluster.conf", dir);
	err[0] = '\0';
	return util_conf_load(path, &conf, err, sizeof(err));
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("demo.key", "0123456789abcdef0123456789abcdef\n", 0600);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#define EXPECT_ERROR(text, rc, fragment)                                                           \
	do {                                                                                       \
		ck_assert_int_eq(load(text), (rc));                                                \
		ck_assert_msg(strstr(err, (fragment)), "error '%s' lacks '%s'", err, (fragment));  \
	} while (0)

START_TEST(good_config_parses)
{
	ck_assert_int_eq(load("# demo cluster\n"
			      "cluster = demo\n"
			      "secret_file = demo.key   # relative to this file\n"
			      "\n"
			      "node.3 = 127.0.0.1:7103\n"
			      "node.1 = 127.0.0.1:7101\n"
			      "node.2 = [::1]:7102\n"),
			 0);
	ck_assert_str_eq(conf.cluster, "demo");
	ck_assert_uint_eq(conf.n_nodes, 3);
	ck_assert_uint_eq(conf.nodes[0].id, 1);
	ck_assert_uint_eq(conf.nodes[2].id, 3);
	ck_assert_str_eq(util_conf_node(&conf, 2)->host, "::1");
	ck_assert_uint_eq(util_conf_node(&conf, 2)->port, 7102);
	ck_assert_ptr_null(util_conf_node(&conf, 4));
	ck_assert_uint_eq(conf.secret_len, 32); /* trailing newline dropped */
	ck_assert_int_eq(memcmp(conf.secret, "0123456789abcdef", 16), 0);
	util_conf_close(&conf);
	ck_assert_uint_eq(conf.secret_len, 0);
}
END_TEST

START_TEST(mistakes_name_file_line_and_problem)
{
	const char *head = "cluster = demo\nsecret_file = demo.key\n";
	char text[512];

	snprintf(text, sizeof(text), "%snod.1 = 127.0.0.1:7101\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:3: unknown key 'nod.1'");
	snprintf(text, sizeof(text), "%snode.1 = 127.0.0.1:7101\nnode.1 = 127.0.0.1:7102\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:4: node 1 given twice");
	snprintf(text, sizeof(text), "%snode.0 = 127.0.0.1:7101\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:3: 'node.0'");
	snprintf(text, sizeof(text), "%snode.256 = 127.0.0.1:7101\n", head);
	EXPECT_ERROR(text, -EINVAL, ":3:");
	snprintf(text, sizeof(text), "%snode.1 = 127.0.0.1:99999\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:3: node 1: '127.0.0.1:99999' is not host:port");
	snprintf(text, sizeof(text), "%snode.1 = 127.0.0.1\n", head);
	EXPECT_ERROR(text, -EINVAL, "is not host:port");
	snprintf(text, sizeof(text), "%snode.1 127.0.0.1:7101\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:3: expected 'key = value'");
	snprintf(text, sizeof(text), "%snode.1 =\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:3: 'node.1' has no value");
	snprintf(text, sizeof(text), "%scluster = other\nnode.1 = a:1\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:3: 'cluster' given twice");
	EXPECT_ERROR("cluster = my cluster\n", -EINVAL, "cluster.conf:1: cluster name");
	EXPECT_ERROR("secret_file = demo.key\nnode.1 = a:1\n", -EINVAL, "'cluster' is missing");
	EXPECT_ERROR("cluster = demo\nnode.1 = a:1\n", -EINVAL, "'secret_file'");
	EXPECT_ERROR(head, -EINVAL, "no 'node.N = host:port' line");
	snprintf(text, sizeof(text), "%snode.1 = a:1\nnode.2 = a:1\n", head);
	EXPECT_ERROR(text, -EINVAL, "nodes 1 and 2 have the same address a:1");
}
END_TEST

/* metrics.ID = HOST:PORT: optional, node ID's HTTP metrics address. */
START_TEST(metrics_address_parses)
{
	const char *nodes = "cluster = demo\nsecret_file = demo.key\n"
			    "node.1 = 127.0.0.1:7101\nnode.2 = 127.0.0.1:7102\n";
	char text[512];

	snprintf(text, sizeof(text), "metrics.2 = [::1]:9102\n%smetrics.1 = 127.0.0.1:9101\n",
		 nodes);
	ck_assert_int_eq(load(text), 0);
	ck_assert_uint_eq(conf.n_metrics, 2);
	ck_assert_uint_eq(conf.metrics[0].id, 1); /* sorted by id */
	ck_assert_str_eq(util_conf_metrics(&conf, 1)->host, "127.0.0.1");
	ck_assert_uint_eq(util_conf_metrics(&conf, 1)->port, 9101);
	ck_assert_uint_eq(util_conf_metrics(&conf, 1)->line, 6);
	ck_assert_str_eq(util_conf_metrics(&conf, 2)->host, "::1");
	ck_assert_uint_eq(util_conf_metrics(&conf, 2)->line, 1);
	util_conf_close(&conf);

	ck_assert_int_eq(load(nodes), 0); /* optional */
	ck_assert_uint_eq(conf.n_metrics, 0);
	ck_assert_ptr_null(util_conf_metrics(&conf, 1));
	util_conf_close(&conf);
}
END_TEST

START_TEST(metrics_mistakes_name_file_line_and_problem)
{
	const char *head = "cluster = demo\nsecret_file = demo.key\nnode.1 = 127.0.0.1:7101\n";
	char text[512];

	snprintf(text, sizeof(text), "%smetrics.1 = 127.0.0.1\n", head);
	EXPECT_ERROR(text, -EINVAL,
		     "cluster.conf:4: metrics.1: '127.0.0.1' is not host:port (port 1-65535)");
	snprintf(text, sizeof(text), "%smetrics.1 = 127.0.0.1:0\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:4: metrics.1: '127.0.0.1:0' is not host:port");
	snprintf(text, sizeof(text), "%smetrics.1 = [::1:9101\n", head);
	EXPECT_ERROR(text, -EINVAL, "is not host:port");
	snprintf(text, sizeof(text), "%smetrics.1 =\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:4: 'metrics.1' has no value");
	snprintf(text, sizeof(text), "%smetrics.2 = 127.0.0.1:9102\n", head);
	EXPECT_ERROR(text, -EINVAL,
		     "cluster.conf:4: metrics.2: node 2 is not in this file (no 'node.2' line)");
	snprintf(text, sizeof(text), "%smetrics.0 = 127.0.0.1:9100\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:4: 'metrics.0': node ids are numbers");
	snprintf(text, sizeof(text), "%smetrics.x = 127.0.0.1:9100\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:4: 'metrics.x'");
	snprintf(text, sizeof(text), "%smetrics.1 = 127.0.0.1:9101\nmetrics.1 = 127.0.0.1:9102\n",
		 head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:5: metrics.1 given twice");
	snprintf(text, sizeof(text), "%smetrics.1 = 127.0.0.1:7101\n", head);
	EXPECT_ERROR(text, -EINVAL,
		     "cluster.conf:4: metrics.1: 127.0.0.1:7101 is node 1's address");
	snprintf(text, sizeof(text), "%snode.2 = b:1\nmetrics.1 = a:9\nmetrics.2 = a:9\n", head);
	EXPECT_ERROR(text, -EINVAL, "cluster.conf:6: metrics.2: a:9 is metrics.1's address too");
}
END_TEST

START_TEST(secret_file_is_checked)
{
	const char *text = "cluster = demo\nsecret_file = demo.key\nnode.1 = 127.0.0.1:7101\n";
	write_file("demo.key", "0123456789abcdef0123\n", 0644);
	EXPECT_ERROR(text, -EPERM, "chmod 600");
	write_file("demo.key", "short\n", 0600);
	EXPECT_ERROR(text, -EINVAL, "at least 16 are needed");
	unlink(strcat(strcpy(err, dir), "/demo.key"));
	EXPECT_ERROR(text, -ENOENT, "demo.key");
}
END_TEST

/* A secret file of another user is refused, as ssh refuses such a key: that
 * user, not this one, decides who reads the cluster's secret. As root the
 * test gives the file away; as another user a file of root's stands in. */
START_TEST(secret_file_of_another_user_is_refused)
{
	char text[600], path[300], want[700];
	uid_t other = geteuid() == 0 ? 65534 : 0;

	snprintf(path, sizeof(path), "%s/demo.key", dir);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(path, other, (gid_t)-1), 0);
	else
		snprintf(path, sizeof(path), "/etc/passwd");
	snprintf(text, sizeof(text), "cluster = demo\nsecret_file = %s\nnode.1 = 127.0.0.1:7101\n",
		 path);
	EXPECT_ERROR(text, -EPERM, path);
	snprintf(want, sizeof(want), "owned by uid %u", (unsigned)other);
	ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
	snprintf(want, sizeof(want), "chown %u %s", (unsigned)geteuid(), path);
	ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
}
END_TEST

/* The read-only credential: same file rules as secret_file, named as its
 * own key; with it, secret_file may be left out (a tools-only config). */
START_TEST(client_secret_file_is_read_and_checked)
{
	const char *both = "cluster = demo\nsecret_file = demo.key\n"
			   "client_secret_file = client.key\nnode.1 = 127.0.0.1:7101\n";
	const char *alone = "cluster = demo\nclient_secret_file = client.key\n"
			    "node.1 = 127.0.0.1:7101\n";

	write_file("client.key", "client-secret-0123456789\n", 0600);
	ck_assert_int_eq(load(both), 0);
	ck_assert_uint_eq(conf.client_secret_len, 24);
	ck_assert_int_eq(memcmp(conf.client_secret, "client-secret-0123456789", 24), 0);
	ck_assert_uint_eq(conf.secret_len, 32);
	ck_assert_ptr_nonnull(strstr(conf.client_secret_file, "/client.key"));
	util_conf_close(&conf);
	ck_assert_uint_eq(conf.client_secret_len, 0);
	ck_assert_int_eq(load(alone), 0);
	ck_assert_uint_eq(conf.secret_len, 0);
	ck_assert_uint_eq(conf.client_secret_len, 24);
	util_conf_close(&conf);
	/* no client_secret_file: as before */
	ck_assert_int_eq(load("cluster = demo\nsecret_file = demo.key\nnode.1 = a:1\n"), 0);
	ck_assert_uint_eq(conf.client_secret_len, 0);
	ck_assert_str_eq(conf.client_secret_file, "");
	util_conf_close(&conf);

	write_file("client.key", "client-secret-0123456789\n", 0640);
	EXPECT_ERROR(both, -EPERM, "client_secret_file");
	ck_assert_msg(strstr(err, "chmod 600"), "error '%s'", err);
	write_file("client.key", "short\n", 0600);
	EXPECT_ERROR(alone, -EINVAL, "client_secret_file");
	ck_assert_msg(strstr(err, "at least 16 are needed"), "error '%s'", err);
	/* the same bytes as the node secret would make it a node credential */
	write_file("client.key", "0123456789abcdef0123456789abcdef\n", 0600);
	EXPECT_ERROR(both, -EINVAL, "holds the node secret");
	EXPECT_ERROR("cluster = demo\nclient_secret_file = client.key\nclient_secret_file = x\n"
		     "node.1 = a:1\n",
		     -EINVAL, "cluster.conf:3: 'client_secret_file' given twice");
	EXPECT_ERROR("cluster = demo\nnode.1 = a:1\n", -EINVAL,
		     "'secret_file' (or, for the tools, 'client_secret_file') is missing");
	unlink(strcat(strcpy(err, dir), "/client.key"));
	EXPECT_ERROR(alone, -ENOENT, "client_secret_file");
}
END_TEST

/* The node secret a rotation moves to (or, while swapping, the old one):
 * same file rules, needs secret_file, differs from it and from the client
 * secret. */
START_TEST(next_secret_file_is_read_and_checked)
{
	const char *next = "cluster = demo\nsecret_file = demo.key\n"
			   "next_secret_file = next.key\nnode.1 = 127.0.0.1:7101\n";

	write_file("next.key", "next-secret-0123456789ab\n", 0600);
	ck_assert_msg(load(next) == 0, "%s", err);
	ck_assert_uint_eq(conf.next_secret_len, 24);
	ck_assert_int_eq(memcmp(conf.next_secret, "next-secret-0123456789ab", 24), 0);
	ck_assert_uint_eq(conf.secret_len, 32);
	ck_assert_ptr_nonnull(strstr(conf.next_secret_file, "/next.key"));
	util_conf_close(&conf);
	ck_assert_uint_eq(conf.next_secret_len, 0);
	ck_assert_int_eq(load("cluster = demo\nsecret_file = demo.key\nnode.1 = a:1\n"), 0);
	ck_assert_uint_eq(conf.next_secret_len, 0);
	ck_assert_str_eq(conf.next_secret_file, "");
	util_conf_close(&conf);

	write_file("next.key", "next-secret-0123456789ab\n", 0604);
	EXPECT_ERROR(next, -EPERM, "next_secret_file");
	ck_assert_msg(strstr(err, "chmod 600"), "error '%s'", err);
	write_file("next.key", "short\n", 0600);
	EXPECT_ERROR(next, -EINVAL, "next_secret_file");
	ck_assert_msg(strstr(err, "at least 16 are needed"), "error '%s'", err);
	write_file("next.key", "0123456789abcdef0123456789abcdef\n", 0600);
	EXPECT_ERROR(next, -EINVAL, "holds the secret of secret_file");
	write_file("next.key", "client-secret-0123456789\n", 0600);
	write_file("client.key", "client-secret-0123456789\n", 0600);
	EXPECT_ERROR("cluster = demo\nsecret_file = demo.key\nclient_secret_file = client.key\n"
		     "next_secret_file = next.key\nnode.1 = a:1\n",
		     -EINVAL, "holds the client secret");
	EXPECT_ERROR("cluster = demo\nclient_secret_file = client.key\n"
		     "next_secret_file = next.key\nnode.1 = a:1\n",
		     -EINVAL, "'next_secret_file' without 'secret_file'");
	EXPECT_ERROR("cluster = demo\nsecret_file = demo.key\nnext_secret_file = next.key\n"
		     "next_secret_file = x\nnode.1 = a:1\n",
		     -EINVAL, "cluster.conf:4: 'next_secret_file' given twice");
	unlink(strcat(strcpy(err, dir), "/next.key"));
	EXPECT_ERROR(next, -ENOENT, "next_secret_file");
}
END_TEST

/* Certificate mode: the three tls_ keys together, instead of the secret
 * files; the key under the secret files' rules and read into memory; the
 * CA and the certificate readable. */
START_TEST(tls_files_are_read_and_checked)
{
	const char *certs = "cluster = demo\ntls_ca = ca.pem\ntls_cert = node1.pem\n"
			    "tls_key = node1.key\nnode.1 = 127.0.0.1:7101\n";
	const char *pem = "-----BEGIN PRIVATE KEY-----\nnot really a key, but 16+ bytes\n"
			  "-----END PRIVATE KEY-----\n";

	write_file("ca.pem", "ca\n", 0644);
	write_file("node1.pem", "cert\n", 0644);
	write_file("node1.key", pem, 0600);
	ck_assert_msg(load(certs) == 0, "%s", err);
	ck_assert_uint_eq(conf.secret_len, 0);
	ck_assert_ptr_nonnull(strstr(conf.tls_ca, "/ca.pem"));
	ck_assert_ptr_nonnull(strstr(conf.tls_cert, "/node1.pem"));
	ck_assert_ptr_nonnull(strstr(conf.tls_key, "/node1.key"));
	ck_assert_uint_eq(conf.tls_key_len, strlen(pem) - 1); /* the last newline goes */
	ck_assert_int_eq(memcmp(conf.tls_key_pem, pem, conf.tls_key_len), 0);
	util_conf_close(&conf);
	ck_assert_uint_eq(conf.tls_key_len, 0);
	ck_assert_uint_eq(conf.tls_key_pem[0], 0);

	/* all three or none */
	EXPECT_ERROR("cluster = demo\ntls_ca = ca.pem\ntls_cert = node1.pem\nnode.1 = a:1\n",
		     -EINVAL, "'tls_key' is missing");
	EXPECT_ERROR("cluster = demo\ntls_key = node1.key\nnode.1 = a:1\n", -EINVAL,
		     "'tls_ca' is missing");
	/* not beside a secret */
	EXPECT_ERROR("cluster = demo\nsecret_file = demo.key\ntls_ca = ca.pem\n"
		     "tls_cert = node1.pem\ntls_key = node1.key\nnode.1 = a:1\n",
		     -EINVAL, "'secret_file' beside tls_cert");
	EXPECT_ERROR("cluster = demo\ntls_ca = ca.pem\ntls_ca = x\nnode.1 = a:1\n", -EINVAL,
		     "cluster.conf:3: 'tls_ca' given twice");
	/* the key as a secret file: mode, and never its bytes in an error */
	write_file("node1.key", pem, 0644);
	EXPECT_ERROR(certs, -EPERM, "tls_key");
	ck_assert_msg(strstr(err, "chmod 600"), "error '%s'", err);
	ck_assert(!strstr(err, "PRIVATE KEY"));
	write_file("node1.key", pem, 0600);
	/* the CA bundle and the certificate: nobody else may change them */
	write_file("ca.pem", "ca\n", 0664);
	EXPECT_ERROR(certs, -EPERM, "tls_ca");
	ck_assert_msg(strstr(err, "chmod go-w"), "error '%s'", err);
	write_file("ca.pem", "ca\n", 0644);
	write_file("node1.pem", "cert\n", 0646);
	EXPECT_ERROR(certs, -EPERM, "tls_cert");
	write_file("node1.pem", "cert\n", 0644);
	unlink(strcat(strcpy(err, dir), "/ca.pem"));
	EXPECT_ERROR(certs, -ENOENT, "tls_ca");
}
END_TEST

START_TEST(missing_config_file)
{
	ck_assert_int_eq(util_conf_load("/nonexistent/paxfs.conf", &conf, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/paxfs.conf"));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_config_parses);
	tcase_add_test(tc, mistakes_name_file_line_and_problem);
	tcase_add_test(tc, metrics_address_parses);
	tcase_add_test(tc, metrics_mistakes_name_file_line_and_problem);
	tcase_add_test(tc, secret_file_is_checked);
	tcase_add_test(tc, secret_file_of_another_user_is_refused);
	tcase_add_test(tc, client_secret_file_is_read_and_checked);
	tcase_add_test(tc, next_secret_file_is_read_and_checked);
	tcase_add_test(tc, tls_files_are_read_and_checked);
	tcase_add_test(tc, missing_config_file);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return s;
}
