/* tests/unit/net/test_net_certs.c — certificate mode (net_config.tls_ca,
 * tls_cert, tls_key; docs/security.md "Certificates"): nodes with
 * certificates of one CA link; a certificate of another CA, an expired one
 * or none is refused with a line naming the reason; a certificate names one
 * node and a link may claim no other; a client certificate gets a client
 * link and can never stand for a node.
 *
 * The CA and the certificates are made at test time with OpenSSL's API
 * (EC P-256, a few milliseconds each) into a temp dir; an expired one is
 * one whose notAfter is an hour ago (X509_gmtime_adj). Everything runs in
 * this process on loopback, the forged hello on a thread of its own. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/frame.h"
#include "net/handshake.h"
#include "net/net.h"
#include "net/tls.h"
#include "tests/unit/net/harness.h"

#define MSG_SALT 13
#define DAY      (24 * 3600L)

/* ---- a small PKI ------------------------------------------------------------ */

/* One credential: certificate file and the private key's PEM bytes. */
struct cred {
	char cert[256];
	uint8_t key[4096];
	size_t key_len;
};

struct pki {
	char dir[64];
	char ca_path[256]; /* the CA bundle */
	EVP_PKEY *ca_key;
	X509 *ca;
};

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for `key` valid from now+from to now+to seconds, with
 * subject CN `cn` and (if not NULL) URI SAN `uri`, signed by the CA (or
 * self-signed as a CA when `issuer` is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *uri, X509 *issuer,
		       EVP_PKEY *issuer_key, long from, long to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	char san[300];

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (issuer) {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	} else {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	}
	if (uri) {
		snprintf(san, sizeof(san), "URI:%s", uri);
		add_ext(x, &ctx, NID_subject_alt_name, san);
	}
	ck_assert_int_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
	return x;
}

static void write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void pki_new(struct pki *p, const char *ca_name)
{
	snprintf(p->dir, sizeof(p->dir), "/tmp/paxfs-certs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(p->dir));
	p->ca_key = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(p->ca_key);
	p->ca = make_cert(p->ca_key, ca_name, NULL, NULL, NULL, -DAY, 365 * DAY);
	snprintf(p->ca_path, sizeof(p->ca_path), "%s/ca.pem", p->dir);
	write_cert(p->ca_path, p->ca);
}

/* Issues `file` for `uri` from the CA of `p`, valid from..to (seconds from
 * now), into *c. */
static void pki_issue(struct pki *p, struct cred *c, const char *file, const char *uri, long from,
		      long to)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	BIO *b = BIO_new(BIO_s_mem());
	X509 *x;
	char *data;
	long n;

	ck_assert_ptr_nonnull(key);
	x = make_cert(key, file, uri, p->ca, p->ca_key, from, to);
	snprintf(c->cert, sizeof(c->cert), "%s/%s.pem", p->dir, file);
	write_cert(c->cert, x);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &data);
	ck_assert(n > 0 && (size_t)n <= sizeof(c->key));
	memcpy(c->key, data, (size_t)n);
	c->key_len = (size_t)n;
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void pki_free(struct pki *p)
{
	nftw(p->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	X509_free(p->ca);
	EVP_PKEY_free(p->ca_key);
}

static const char *node_uri(uint32_t id)
{
	static char uri[4][80];
	static int i;
	i = (i + 1) % 4;
	snprintf(uri[i], sizeof(uri[i]), "paxfs://%s/node/%u", TH_CLUSTER, id);
	return uri[i];
}

/* A node (or client, self 0) config of `n` nodes in certificate mode. */
static void cert_config(struct net_config *c, size_t n, const uint16_t *ports, uint32_t self,
			const char *ca, const struct cred *cr)
{
	th_config(c, n, ports, self);
	c->secret = NULL;
	c->secret_len = 0;
	c->tls_ca = ca;
	c->tls_cert = cr->cert;
	c->tls_key = cr->key;
	c->tls_key_len = cr->key_len;
}

/* ---- meshes ------------------------------------------------------------------ */

struct world {
	struct net_mesh *n[3];
	uint64_t got[3], bad;
	uint32_t last_from[3];
};

static int recv_cb(struct world *w, int i, uint32_t from, const Paxfs__Envelope *env)
{
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t len;
	if (!th_msg_get(env, &seq, &tag, &pl, &len) || memcmp(pl, th_payload(seq, tag, len), len))
		w->bad++;
	w->got[i]++;
	w->last_from[i] = from;
	if (i == 0 && from >= NET_CLIENT_HANDLE_MIN)
		net_send(w->n[0], from, env); /* node 1 echoes to clients */
	return 0;
}
static int recv0(void *a, uint32_t f, const Paxfs__Envelope *e)
{
	return recv_cb(a, 0, f, e);
}
static int recv1(void *a, uint32_t f, const Paxfs__Envelope *e)
{
	return recv_cb(a, 1, f, e);
}
static int recv2(void *a, uint32_t f, const Paxfs__Envelope *e)
{
	return recv_cb(a, 2, f, e);
}

static void open_mesh(struct event_base *base, struct world *w, int i, const struct net_config *c)
{
	struct net_callbacks cb = {i == 0 ? recv0 : i == 1 ? recv1 : recv2, NULL, NULL};
	char err[512];
	ck_assert_msg(net_mesh_new(base, c, &cb, w, &w->n[i], err, sizeof(err)) == 0, "mesh %d: %s",
		      i, err);
}

static void close_world(struct event_base *base, struct world *w)
{
	for (int i = 2; i >= 0; i--)
		net_mesh_free(w->n[i]);
	event_base_free(base);
}

static bool linked_1_2(void *arg)
{
	struct world *w = arg;
	return net_peer_up(w->n[0], 2) && net_peer_up(w->n[1], 1);
}

static bool got_one(void *arg)
{
	return ((struct world *)arg)->got[1] >= 1;
}

/* Polls node 1's counters for a refused or failed connection (of node 2 or
 * of anybody). */
static bool node1_refused(void *arg)
{
	struct world *w = arg;
	struct net_peer_stats a, b;
	net_peer_stats(w->n[0], 0, &a);
	net_peer_stats(w->n[0], 2, &b);
	return a.auth_failures + a.refused + b.auth_failures + b.refused >= 1;
}

START_TEST(nodes_with_certificates_of_the_ca_link)
{
	struct pki p;
	struct cred c1, c2;
	struct net_config n1, n2;
	struct world w = {0};
	struct th_msg m;
	uint16_t ports[2];

	th_log_capture();
	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	pki_issue(&p, &c2, "node2", node_uri(2), -DAY, 30 * DAY);
	th_free_ports(ports, 2);
	cert_config(&n1, 2, ports, 1, p.ca_path, &c1);
	cert_config(&n2, 2, ports, 2, p.ca_path, &c2);
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	open_mesh(base, &w, 1, &n2);
	ck_assert_msg(th_run_until(base, linked_1_2, &w, 5000), "not linked: %s", th_log_capture());
	th_msg_init(&m, 7, MSG_SALT, th_payload(7, MSG_SALT, 5000), 5000);
	ck_assert_int_eq(net_send(w.n[0], 2, &m.env), 0);
	ck_assert(th_run_until(base, got_one, &w, 5000));
	ck_assert_uint_eq(w.last_from[1], 1);
	ck_assert_uint_eq(w.bad, 0);
	/* the log says what authenticated the link */
	ck_assert_msg(th_log_wait("link up", "certificate of node 2", 1000), "log: %s",
		      th_log_capture());
	close_world(base, &w);
	pki_free(&p);
}
END_TEST

/* Node 2's certificate is good but its CA is not node 1's: node 1 refuses
 * it, naming OpenSSL's reason. */
START_TEST(a_certificate_of_another_ca_is_refused)
{
	struct pki p, other;
	struct cred c1, c2;
	struct net_config n1, n2;
	struct world w = {0};
	uint16_t ports[2];

	th_log_capture();
	pki_new(&p, "paxfs test CA");
	pki_new(&other, "some other CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	pki_issue(&other, &c2, "node2", node_uri(2), -DAY, 30 * DAY);
	th_free_ports(ports, 2);
	cert_config(&n1, 2, ports, 1, p.ca_path, &c1);
	cert_config(&n2, 2, ports, 2, other.ca_path, &c2); /* trusts its own CA only */
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	open_mesh(base, &w, 1, &n2);
	ck_assert(th_run_until(base, node1_refused, &w, 5000));
	th_run_for(base, 300);
	ck_assert(!net_peer_up(w.n[0], 2) && !net_peer_up(w.n[1], 1));
	ck_assert_msg(th_log_wait("net(1)", "unable to get local issuer certificate", 1000),
		      "log: %s", th_log_capture());
	ck_assert_msg(th_log_wait("net(2)", "unable to get local issuer certificate", 1000),
		      "log: %s", th_log_capture());
	close_world(base, &w);
	pki_free(&other);
	pki_free(&p);
}
END_TEST

/* A peer with an expired certificate (a net_tls would not even load it:
 * a plain OpenSSL client) connects to node 1, which refuses it. */
struct expired {
	pthread_t th;
	uint16_t port;
	const struct cred *cr;
	volatile bool done;
	char alert[200]; /* what the client heard */
};

static void *expired_main(void *arg)
{
	struct expired *e = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(e->port)};
	struct timeval tv = {.tv_sec = 5};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *b = BIO_new_mem_buf(e->cr->key, (int)e->cr->key_len);
	EVP_PKEY *pk = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	SSL *ssl = NULL;
	char buf[64];
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!ctx || !pk || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_use_certificate_file(ctx, e->cr->cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1 || !(ssl = SSL_new(ctx)))
		goto out;
	SSL_set_fd(ssl, fd);
	/* TLS 1.3: the client is done before the server checked its
	 * certificate; the refusal comes as an alert on the first read */
	if (SSL_connect(ssl) == 1)
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			;
	snprintf(e->alert, sizeof(e->alert), "%s",
		 ERR_reason_error_string(ERR_peek_error())
		     ? ERR_reason_error_string(ERR_peek_error())
		     : "none");
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	EVP_PKEY_free(pk);
	BIO_free(b);
	if (fd >= 0)
		close(fd);
	e->done = true;
	return NULL;
}

static bool expired_done(void *arg)
{
	return ((struct expired *)arg)->done;
}

START_TEST(an_expired_certificate_is_refused)
{
	struct pki p;
	struct cred c1, c2;
	struct net_config n1;
	struct world w = {0};
	struct expired e = {0};
	struct net_peer_stats st;
	uint16_t ports[2];

	th_log_capture();
	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	pki_issue(&p, &c2, "node2", node_uri(2), -2 * DAY, -3600); /* expired an hour ago */
	th_free_ports(ports, 2);
	cert_config(&n1, 2, ports, 1, p.ca_path, &c1);
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	e.port = ports[0];
	e.cr = &c2;
	ck_assert_int_eq(pthread_create(&e.th, NULL, expired_main, &e), 0);
	ck_assert(th_run_until(base, expired_done, &e, 10000));
	pthread_join(e.th, NULL);
	ck_assert_msg(strstr(e.alert, "expired"), "the client heard '%s'", e.alert);
	ck_assert_msg(th_log_wait("net(1)", "certificate has expired", 1000), "log: %s",
		      th_log_capture());
	ck_assert_int_eq(net_peer_stats(w.n[0], 0, &st), 0);
	ck_assert_uint_eq(st.auth_failures, 1);
	ck_assert_uint_eq(w.got[0], 0);
	close_world(base, &w);
	pki_free(&p);
}
END_TEST

/* A node does not start with an expired certificate of its own: every
 * peer would refuse it. */
START_TEST(a_node_refuses_to_start_with_an_expired_certificate)
{
	struct pki p;
	struct cred c1;
	struct net_config n1;
	struct net_callbacks cb = {recv0, NULL, NULL};
	struct net_mesh *m = NULL;
	uint16_t port;
	char err[512];

	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -2 * DAY, -3600);
	th_free_ports(&port, 1);
	cert_config(&n1, 1, &port, 1, p.ca_path, &c1);
	struct event_base *base = event_base_new();
	ck_assert_int_eq(net_mesh_new(base, &n1, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "certificate has expired"), "err: %s", err);
	event_base_free(base);
	pki_free(&p);
}
END_TEST

/* A node whose own certificate names another node does not start. */
START_TEST(a_node_refuses_to_start_with_another_nodes_certificate)
{
	struct pki p;
	struct cred c2;
	struct net_config n3;
	struct net_callbacks cb = {recv0, NULL, NULL};
	struct net_mesh *m = NULL;
	uint16_t ports[3];
	char err[512];

	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c2, "node2", node_uri(2), -DAY, 30 * DAY);
	th_free_ports(ports, 3);
	cert_config(&n3, 3, ports, 3, p.ca_path, &c2);
	struct event_base *base = event_base_new();
	ck_assert_int_eq(net_mesh_new(base, &n3, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "names node 2") && strstr(err, "node 3"), "err: %s", err);
	event_base_free(base);
	pki_free(&p);
}
END_TEST

/* ---- a certificate that claims another node ------------------------------------ */

struct forger {
	pthread_t th;
	uint16_t port;
	uint32_t claim;
	const char *ca;
	const struct cred *cr;
	bool client; /* the certificate is a client's */
	volatile bool done;
	bool tls_ok;
	char close_reason[300]; /* "code:reason" of node 1's CLOSE frame */
};

/* Plays a peer that holds a valid certificate and sends a hello claiming
 * node `claim`, then reads until node 1 hangs up. */
static void *forger_main(void *arg)
{
	struct forger *f = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port)};
	static uint8_t buf[1 << 16];
	uint8_t channel[NET_CHANNEL_LEN];
	struct timeval tv = {.tv_sec = 5};
	const struct net_hs_keys keys = {TH_CLUSTER, (const uint8_t *)"x", 1, f->client};
	char err[512], why[NET_TLS_WHY_LEN];
	size_t have = 0, off = NET_PREAMBLE_LEN, n;
	Paxfs__NetHello hello;
	enum net_tls_cred cred;
	struct net_tls *t = NULL;
	struct net_hs hs;
	SSL *ssl = NULL;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (net_tls_new_cert(TH_CLUSTER, f->ca, f->cr->cert, f->cr->key, f->cr->key_len, &t, err,
			     sizeof(err)) < 0)
		goto out;
	ssl = net_tls_conn(t, false, why);
	if (!ssl)
		goto out;
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1 || net_tls_established(ssl, channel, &cred, why, sizeof(why)))
		goto out;
	f->tls_ok = true;
	net_preamble_encode(buf);
	if (net_hs_start(&hs, NET_ROLE_DIALER, f->claim, 1))
		goto out;
	net_hs_bind(&hs, channel);
	net_hs_hello(&hs, &keys, &hello);
	n = NET_PREAMBLE_LEN + net_frame_pack(NET_FRAME_HELLO, &hello.base, buf + NET_PREAMBLE_LEN);
	if (SSL_write(ssl, buf, (int)n) != (int)n)
		goto out;
	for (;;) {
		int r = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == sizeof(buf))
			break;
	}
	while (off + NET_FRAME_HDR_LEN <= have) {
		struct net_frame_hdr h;
		struct net_frame_msg msg;
		if (net_frame_parse_header(buf + off, have, &h, NULL, 0) ||
		    off + NET_FRAME_HDR_LEN + h.len > have)
			break;
		if (h.type == NET_FRAME_CLOSE &&
		    !net_frame_decode(h.type, buf + off + NET_FRAME_HDR_LEN, h.len, &msg, NULL,
				      0)) {
			snprintf(f->close_reason, sizeof(f->close_reason), "%u:%s",
				 msg.u.close->code, msg.u.close->reason);
			net_frame_msg_free(&msg);
		}
		off += NET_FRAME_HDR_LEN + h.len;
	}
out:
	SSL_free(ssl);
	net_tls_free(t);
	if (fd >= 0)
		close(fd);
	f->done = true;
	return NULL;
}

static bool forger_done(void *arg)
{
	return ((struct forger *)arg)->done;
}

/* Runs a forger with `cr` claiming `claim` against node 1 (of 3 nodes:
 * 2 and 3 configured, never running) and checks node 1's CLOSE reason and
 * log line. */
static void forge(const char *ca, const struct cred *c1, const struct cred *cr, bool client,
		  uint32_t claim, const char *reason)
{
	struct net_config n1;
	struct world w = {0};
	struct forger f = {0};
	struct net_peer_stats st;
	uint16_t ports[3];
	char line[200];

	th_log_capture();
	th_free_ports(ports, 3);
	cert_config(&n1, 3, ports, 1, ca, c1);
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	f.port = ports[0];
	f.claim = claim;
	f.ca = ca;
	f.cr = cr;
	f.client = client;
	ck_assert_int_eq(pthread_create(&f.th, NULL, forger_main, &f), 0);
	ck_assert(th_run_until(base, forger_done, &f, 10000));
	pthread_join(f.th, NULL);
	ck_assert_msg(f.tls_ok, "TLS with the certificate failed: %s", th_log_capture());
	ck_assert_msg(strstr(f.close_reason, reason), "CLOSE frame '%s'", f.close_reason);
	snprintf(line, sizeof(line), "refused: %s", reason);
	ck_assert_msg(th_log_count(line, NULL) == 1, "log: %s", th_log_capture());
	ck_assert_int_eq(net_peer_stats(w.n[0], claim, &st), 0);
	ck_assert(!st.up);
	ck_assert_uint_eq(w.got[0], 0);
	close_world(base, &w);
}

START_TEST(a_certificate_for_node_2_cannot_claim_node_3)
{
	struct pki p;
	struct cred c1, c2;

	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	pki_issue(&p, &c2, "node2", node_uri(2), -DAY, 30 * DAY);
	forge(p.ca_path, &c1, &c2, false, 3, "certificate names node 2, link claims node 3");
	pki_free(&p);
}
END_TEST

START_TEST(a_client_certificate_cannot_claim_a_node_id)
{
	struct pki p;
	struct cred c1, cc;
	char uri[100];

	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	snprintf(uri, sizeof(uri), "paxfs://%s/client", TH_CLUSTER);
	pki_issue(&p, &cc, "client", uri, -DAY, 30 * DAY);
	forge(p.ca_path, &c1, &cc, true, 2, "the client credential cannot claim node 2");
	pki_free(&p);
}
END_TEST

/* ---- the client role ------------------------------------------------------------ */

static bool client_up(void *arg)
{
	return net_peer_up(((struct world *)arg)->n[2], 1);
}

static bool client_got(void *arg)
{
	return ((struct world *)arg)->got[2] >= 1;
}

/* A client certificate connects as a client (a handle, never a node id):
 * what mount/peer.c then serves clients is the read-only role. */
START_TEST(a_client_certificate_gets_a_client_link)
{
	struct pki p;
	struct cred c1, cc;
	struct net_config n1, ncl;
	struct world w = {0};
	struct th_msg m;
	uint16_t port;
	char uri[100];

	th_log_capture();
	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	snprintf(uri, sizeof(uri), "paxfs://%s/client", TH_CLUSTER);
	pki_issue(&p, &cc, "client", uri, -DAY, 30 * DAY);
	th_free_ports(&port, 1);
	cert_config(&n1, 1, &port, 1, p.ca_path, &c1);
	cert_config(&ncl, 1, &port, 0, p.ca_path, &cc);
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	open_mesh(base, &w, 2, &ncl);
	ck_assert_msg(th_run_until(base, client_up, &w, 5000), "client not up: %s",
		      th_log_capture());
	th_msg_init(&m, 9, MSG_SALT, th_payload(9, MSG_SALT, 100), 100);
	ck_assert_int_eq(net_send(w.n[2], 1, &m.env), 0);
	ck_assert_msg(th_run_until(base, client_got, &w, 5000), "no echo: %s", th_log_capture());
	ck_assert_uint_ge(w.last_from[0], NET_CLIENT_HANDLE_MIN);
	ck_assert_msg(th_log_wait("net(1): client 256", "client certificate", 1000), "log: %s",
		      th_log_capture());
	close_world(base, &w);
	pki_free(&p);
}
END_TEST

/* A certificate for another cluster names no role here. */
START_TEST(a_certificate_of_another_cluster_is_refused)
{
	struct pki p;
	struct cred c1, c2;
	struct net_config n1, n2;
	struct world w = {0};
	uint16_t ports[2];

	th_log_capture();
	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	pki_issue(&p, &c2, "node2", "paxfs://prod/node/2", -DAY, 30 * DAY);
	th_free_ports(ports, 2);
	cert_config(&n1, 2, ports, 1, p.ca_path, &c1);
	cert_config(&n2, 2, ports, 2, p.ca_path, &c2);
	n2.cluster = "prod"; /* node 2 believes it is in "prod" */
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	open_mesh(base, &w, 1, &n2);
	ck_assert(th_run_until(base, node1_refused, &w, 5000));
	th_run_for(base, 300);
	ck_assert(!net_peer_up(w.n[0], 2));
	ck_assert_msg(th_log_wait("net(1)", "names no role in cluster 'test-cluster'", 1000),
		      "log: %s", th_log_capture());
	close_world(base, &w);
	pki_free(&p);
}
END_TEST

/* A node in certificate mode and a node with the cluster secret never
 * link, and both say why. */
START_TEST(a_psk_node_and_a_certificate_node_do_not_link)
{
	struct pki p;
	struct cred c1;
	struct net_config n1, n2;
	struct world w = {0};
	uint16_t ports[2];

	th_log_capture();
	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	th_free_ports(ports, 2);
	cert_config(&n1, 2, ports, 1, p.ca_path, &c1);
	th_config(&n2, 2, ports, 2);
	struct event_base *base = event_base_new();
	open_mesh(base, &w, 0, &n1);
	open_mesh(base, &w, 1, &n2);
	ck_assert(th_run_until(base, node1_refused, &w, 5000));
	th_run_for(base, 500);
	ck_assert(!net_peer_up(w.n[0], 2) && !net_peer_up(w.n[1], 1));
	ck_assert_msg(th_log_wait("net(2)", "showed a certificate", 1000), "log: %s",
		      th_log_capture());
	close_world(base, &w);
	pki_free(&p);
}
END_TEST

/* Config checks: all three or none, not beside a secret, a key that is
 * not the certificate's. */
START_TEST(certificate_config_is_checked)
{
	struct pki p;
	struct cred c1, c2;
	struct net_config n1;
	struct net_callbacks cb = {recv0, NULL, NULL};
	struct net_mesh *m = NULL;
	uint16_t port;
	char err[512];

	pki_new(&p, "paxfs test CA");
	pki_issue(&p, &c1, "node1", node_uri(1), -DAY, 30 * DAY);
	pki_issue(&p, &c2, "node1b", node_uri(1), -DAY, 30 * DAY);
	th_free_ports(&port, 1);
	struct event_base *base = event_base_new();

	cert_config(&n1, 1, &port, 1, p.ca_path, &c1);
	n1.tls_ca = NULL;
	ck_assert_int_eq(net_mesh_new(base, &n1, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "all three"), "err: %s", err);

	cert_config(&n1, 1, &port, 1, p.ca_path, &c1);
	n1.secret = (const uint8_t *)TH_SECRET;
	n1.secret_len = strlen(TH_SECRET);
	ck_assert_int_eq(net_mesh_new(base, &n1, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "secret"), "err: %s", err);

	cert_config(&n1, 1, &port, 1, p.ca_path, &c1);
	n1.tls_key = c2.key; /* another key */
	n1.tls_key_len = c2.key_len;
	ck_assert_int_eq(net_mesh_new(base, &n1, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "does not match"), "err: %s", err);
	/* the key's bytes never appear in an error */
	ck_assert(!strstr(err, "PRIVATE KEY"));

	cert_config(&n1, 1, &port, 1, "/nonexistent/ca.pem", &c1);
	ck_assert_int_lt(net_mesh_new(base, &n1, &cb, NULL, &m, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "/nonexistent/ca.pem"), "err: %s", err);
	event_base_free(base);
	pki_free(&p);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_certs");
	TEST_CASE(s, nodes_with_certificates_of_the_ca_link, 30);
	TEST_CASE(s, a_certificate_of_another_ca_is_refused, 30);
	TEST_CASE(s, an_expired_certificate_is_refused, 30);
	TEST_CASE(s, a_node_refuses_to_start_with_an_expired_certificate, 30);
	TEST_CASE(s, a_node_refuses_to_start_with_another_nodes_certificate, 30);
	TEST_CASE(s, a_certificate_for_node_2_cannot_claim_node_3, 30);
	TEST_CASE(s, a_client_certificate_cannot_claim_a_node_id, 30);
	TEST_CASE(s, a_client_certificate_gets_a_client_link, 30);
	TEST_CASE(s, a_certificate_of_another_cluster_is_refused, 30);
	TEST_CASE(s, a_psk_node_and_a_certificate_node_do_not_link, 30);
	TEST_CASE(s, certificate_config_is_checked, 30);
	return s;
}
