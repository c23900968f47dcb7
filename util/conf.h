/* util/conf.h — the cluster config file (DESIGN.md "Running it").
 *
 *     cluster = demo
 *     secret_file = demo.key        # peers prove they hold it
 *     client_secret_file = ro.key   # optional: the tools' read-only credential
 *     next_secret_file = new.key    # optional: accepted beside secret_file
 *     node.1 = 127.0.0.1:7101
 *     metrics.1 = 127.0.0.1:9101    # optional: Prometheus text at /metrics
 *
 * or, in certificate mode (docs/security.md "Certificates"), instead of
 * the three secret files:
 *
 *     tls_ca = ca.pem               # the CA bundle peers are verified against
 *     tls_cert = node1.pem          # this node's (or tool's) certificate chain
 *     tls_key = node1.key           # its private key
 *
 * One `key = value` per line; `#` starts a comment; blank lines are fine.
 * Every key once; node ids 1..255; a relative secret_file is relative to
 * the config file's directory. The secret file must be owned by the
 * effective user running this and not be readable by group or others (as
 * ssh refuses such a key), and must hold at least UTIL_CONF_SECRET_MIN
 * bytes; the errors say the chown or chmod that fixes it. client_secret_file
 * follows the same rules and must not hold the node secret; a config with
 * it may leave out secret_file (the tools' config: the daemon refuses one
 * without secret_file). next_secret_file (the node secret a rolling rotation
 * moves to: docs/security.md "Rotating the secret") follows the same rules,
 * needs secret_file and must differ from it and from the client secret.
 * tls_ca, tls_cert and tls_key come all three or not at all, and not
 * beside a secret file (certificate mode replaces the secrets on the wire);
 * tls_key follows the secret files' rules (owner, mode 0600; at most
 * UTIL_CONF_KEY_MAX bytes, read here and never printed), tls_ca and
 * tls_cert must be readable (their content is net/'s to check).
 * `metrics.ID` (optional, at most one per node) names where node ID serves
 * its metrics over HTTP: the same host:port syntax as node.ID, ID a node of
 * the file, an address no node or other metrics line uses. Every error
 * names the file, the line and the problem: "cluster.conf:3: unknown key
 * 'nod.1'". */
#ifndef PAXFS_UTIL_CONF_H
#define PAXFS_UTIL_CONF_H

#include <stddef.h>
#include <stdint.h>

#define UTIL_CONF_MAX_NODES  255
#define UTIL_CONF_SECRET_MIN 16
#define UTIL_CONF_SECRET_MAX 4096
#define UTIL_CONF_KEY_MAX    16384

struct util_conf_node {
	uint32_t id;    /* 1..255 */
	char host[256]; /* as written: an IPv4/IPv6 literal or a host name */
	uint16_t port;
};

struct util_conf_metrics {
	uint32_t id;    /* the node that serves them (one of the file's nodes) */
	char host[256]; /* as written */
	uint16_t port;
	unsigned line; /* of the metrics.ID line, for messages about it */
};

struct util_conf {
	char path[4096]; /* the config file, as given */
	char cluster[64];
	char secret_file[4096]; /* resolved path */
	uint8_t secret[UTIL_CONF_SECRET_MAX];
	size_t secret_len; /* 0 when only client_secret_file is given (a tools-only config) */
	char client_secret_file[4096]; /* resolved path, "" when the key is absent */
	uint8_t client_secret[UTIL_CONF_SECRET_MAX];
	size_t client_secret_len;    /* 0 when absent */
	char next_secret_file[4096]; /* resolved path, "" when the key is absent */
	uint8_t next_secret[UTIL_CONF_SECRET_MAX];
	size_t next_secret_len; /* 0 when absent */
	char tls_ca[4096];      /* resolved paths, "" when not in certificate mode */
	char tls_cert[4096];
	char tls_key[4096];
	uint8_t tls_key_pem[UTIL_CONF_KEY_MAX]; /* the private key's PEM bytes */
	size_t tls_key_len;                     /* 0 when absent */
	struct util_conf_node nodes[UTIL_CONF_MAX_NODES];
	size_t n_nodes; /* sorted by id */
	struct util_conf_metrics metrics[UTIL_CONF_MAX_NODES];
	size_t n_metrics; /* sorted by id */
};

/* Reads and checks `path` and its secret file into *out (caller-allocated;
 * it is large, so not on a small stack). Returns 0, or -errno with a message
 * for a person in `err`: -ENOENT / -EACCES for files that cannot be read,
 * -EINVAL for anything wrong in their content, -EPERM for a secret file
 * that others can read or another user owns. */
int util_conf_load(const char *path, struct util_conf *out, char *err, size_t errlen);

/* The node with this id, or NULL. */
const struct util_conf_node *util_conf_node(const struct util_conf *c, uint32_t id);

/* The metrics address of node `id`, or NULL when it has none. */
const struct util_conf_metrics *util_conf_metrics(const struct util_conf *c, uint32_t id);

/* Wipes the secrets and the private key from memory. */
void util_conf_close(struct util_conf *c);

#endif
