/* util/conf.c — the cluster config parser: strict, every error with file:line. */
#include "util/conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool valid_cluster_name(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 63)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '-' && *v != '_' && *v != '.')
			return false;
	return true;
}

/* "host:port", "[v6]:port" → host (a buffer of hostsize bytes), port. */
static int parse_address(const char *v, char *hostbuf, size_t hostsize, uint16_t *portp)
{
	const char *colon, *host = v;
	size_t hlen;
	char *end;
	long port;

	if (*v == '[') {
		const char *close = strchr(v, ']');
		if (!close || close[1] != ':')
			return -1;
		host = v + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || strchr(v, ':') != colon)
			return -1;
		hlen = (size_t)(colon - v);
	}
	if (hlen == 0 || hlen >= hostsize)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -1;
	memcpy(hostbuf, host, hlen);
	hostbuf[hlen] = '\0';
	*portp = (uint16_t)port;
	return 0;
}

/* The ID of "node.ID" or "metrics.ID" (digits after the prefix): 1..255, or -1. */
static long parse_id(const char *digits)
{
	char *end;
	long id;
	errno = 0;
	id = strtol(digits, &end, 10);
	if (errno || *end || end == digits || !isdigit((unsigned char)*digits) || id < 1 ||
	    id > UTIL_CONF_MAX_NODES)
		return -1;
	return id;
}

static int cmp_node(const void *a, const void *b)
{
	const struct util_conf_node *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_metrics(const void *a, const void *b)
{
	const struct util_conf_metrics *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* After the whole file is read (a metrics line may come before its node's):
 * each metrics line names a node of the file, and listens where nothing else
 * of this file does. */
static int check_metrics(const struct util_conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n_metrics; i++) {
		const struct util_conf_metrics *m = &c->metrics[i];
		if (!util_conf_node(c, m->id))
			return fail(err, errlen, -EINVAL,
				    "%s:%u: metrics.%u: node %u is not in this file (no 'node.%u' "
				    "line)",
				    c->path, m->line, m->id, m->id, m->id);
		for (size_t j = 0; j < c->n_nodes; j++)
			if (c->nodes[j].port == m->port && !strcmp(c->nodes[j].host, m->host))
				return fail(err, errlen, -EINVAL,
					    "%s:%u: metrics.%u: %s:%u is node %u's address",
					    c->path, m->line, m->id, m->host, m->port,
					    c->nodes[j].id);
		for (size_t j = 0; j < i; j++)
			if (c->metrics[j].port == m->port && !strcmp(c->metrics[j].host, m->host))
				return fail(err, errlen, -EINVAL,
					    "%s:%u: metrics.%u: %s:%u is metrics.%u's address too",
					    c->path, m->line, m->id, m->host, m->port,
					    c->metrics[j].id);
	}
	return 0;
}

/* Reads the private file `file` (named in errors as config key `key`) into
 * buf (`max` bytes), its length into *len: owned by us, mode 0600 or less. */
static int load_private(const struct util_conf *c, const char *key, const char *file, uint8_t *buf,
			size_t max, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t got;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(err, errlen, -errno, "%s: %s %s: %s", c->path, key, file,
			    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, -EINVAL, "%s: %s %s is not a regular file", c->path, key,
			    file);
	}
	/* Whoever owns the file can let others read it (or swap it): only the
	 * user this runs as may, as ssh refuses a key of another user. */
	if (st.st_uid != geteuid()) {
		close(fd);
		return fail(err, errlen, -EPERM,
			    "%s: %s %s is owned by uid %u, not by uid %u that runs this; "
			    "chown %u %s",
			    c->path, key, file, (unsigned)st.st_uid, (unsigned)geteuid(),
			    (unsigned)geteuid(), file);
	}
	if (st.st_mode & 077) {
		close(fd);
		return fail(err, errlen, -EPERM,
			    "%s: %s %s is accessible by group or others (mode %03o); "
			    "chmod 600 it",
			    c->path, key, file, (unsigned)(st.st_mode & 0777));
	}
	got = read(fd, buf, max);
	close(fd);
	if (got < 0)
		return fail(err, errlen, -EIO, "%s: %s %s: %s", c->path, key, file,
			    strerror(errno));
	if ((size_t)got == max)
		return fail(err, errlen, -EINVAL, "%s: %s %s is larger than %zu bytes", c->path,
			    key, file, max - 1);
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	if (got < UTIL_CONF_SECRET_MIN)
		return fail(err, errlen, -EINVAL,
			    "%s: %s %s holds %zd bytes; at least %d are needed", c->path, key, file,
			    got, UTIL_CONF_SECRET_MIN);
	*len = (size_t)got;
	return 0;
}

/* The secret files: UTIL_CONF_SECRET_MAX bytes at most. */
static int load_secret(const struct util_conf *c, const char *key, const char *file, uint8_t *buf,
		       size_t *len, char *err, size_t errlen)
{
	return load_private(c, key, file, buf, UTIL_CONF_SECRET_MAX, len, err, errlen);
}

/* Writes `value`, relative to the config file's directory, to out. */
static void resolve_relative(const struct util_conf *c, const char *value, char *out, size_t len)
{
	const char *slash = strrchr(c->path, '/');
	if (value[0] == '/' || !slash)
		snprintf(out, len, "%s", value);
	else
		snprintf(out, len, "%.*s/%s", (int)(slash - c->path), c->path, value);
}

/* The path buffer of file key `key` (a secret file or a tls_ file), or
 * NULL for another key. */
static char *secret_path(struct util_conf *c, const char *key)
{
	if (!strcmp(key, "secret_file"))
		return c->secret_file;
	if (!strcmp(key, "client_secret_file"))
		return c->client_secret_file;
	if (!strcmp(key, "next_secret_file"))
		return c->next_secret_file;
	if (!strcmp(key, "tls_ca"))
		return c->tls_ca;
	if (!strcmp(key, "tls_cert"))
		return c->tls_cert;
	if (!strcmp(key, "tls_key"))
		return c->tls_key;
	return NULL;
}

/* Certificate mode: the three tls_ keys together and alone, the key read
 * under the secret files' rules, the CA and the certificate readable. */
static int load_tls(struct util_conf *c, char *err, size_t errlen)
{
	const char *keys[] = {"tls_ca", "tls_cert", "tls_key"};
	const char *paths[] = {c->tls_ca, c->tls_cert, c->tls_key};
	int given = !!c->tls_ca[0] + !!c->tls_cert[0] + !!c->tls_key[0];

	if (!given)
		return 0;
	for (int i = 0; i < 3; i++)
		if (given != 3 && !paths[i][0])
			return fail(err, errlen, -EINVAL,
				    "%s: '%s' is missing: tls_ca, tls_cert and tls_key come "
				    "together (certificate mode)",
				    c->path, keys[i]);
	if (c->secret_file[0] || c->client_secret_file[0] || c->next_secret_file[0])
		return fail(err, errlen, -EINVAL,
			    "%s: '%s' beside tls_cert: certificate mode replaces the secret "
			    "files; remove one or the other",
			    c->path,
			    c->secret_file[0]          ? "secret_file"
			    : c->client_secret_file[0] ? "client_secret_file"
						       : "next_secret_file");
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (access(paths[i], R_OK) < 0 || stat(paths[i], &st) < 0)
			return fail(err, errlen, -errno, "%s: %s %s: %s", c->path, keys[i],
				    paths[i], strerror(errno));
		/* Public, but whoever may change the CA bundle may make a
		 * certificate for any node: only root or this user. */
		if (st.st_uid != geteuid() && st.st_uid != 0)
			return fail(err, errlen, -EPERM,
				    "%s: %s %s is owned by uid %u, not by root or uid %u that "
				    "runs this; chown %u %s",
				    c->path, keys[i], paths[i], (unsigned)st.st_uid,
				    (unsigned)geteuid(), (unsigned)geteuid(), paths[i]);
		if (st.st_mode & 022)
			return fail(err, errlen, -EPERM,
				    "%s: %s %s is writable by group or others (mode %03o); "
				    "chmod go-w %s",
				    c->path, keys[i], paths[i], (unsigned)(st.st_mode & 0777),
				    paths[i]);
	}
	return load_private(c, "tls_key", c->tls_key, c->tls_key_pem, sizeof(c->tls_key_pem),
			    &c->tls_key_len, err, errlen);
}

int util_conf_load(const char *path, struct util_conf *c, char *err, size_t errlen)
{
	char line[8192];
	bool have_cluster = false;
	char *file;
	bool seen[UTIL_CONF_MAX_NODES + 1] = {false};
	bool seen_metrics[UTIL_CONF_MAX_NODES + 1] = {false};
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));

	while (fgets(line, sizeof(line), f)) {
		char *key, *value, *eq, *hash;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = fail(err, errlen, -EINVAL, "%s:%u: line too long", path, lineno);
			goto out;
		}
		/* '#' starts a comment at the line's start or after a blank. */
		for (hash = line; (hash = strchr(hash, '#')); hash++)
			if (hash == line || isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			rc = fail(err, errlen, -EINVAL, "%s:%u: expected 'key = value', got '%s'",
				  path, lineno, key);
			goto out;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (!*value) {
			rc = fail(err, errlen, -EINVAL, "%s:%u: '%s' has no value", path, lineno,
				  key);
			goto out;
		}
		if (!strcmp(key, "cluster")) {
			if (have_cluster) {
				rc = fail(err, errlen, -EINVAL, "%s:%u: 'cluster' given twice",
					  path, lineno);
				goto out;
			}
			if (!valid_cluster_name(value)) {
				rc = fail(err, errlen, -EINVAL,
					  "%s:%u: cluster name '%s' must be 1-63 letters, digits, "
					  "'-', '_' "
					  "or '.'",
					  path, lineno, value);
				goto out;
			}
			snprintf(c->cluster, sizeof(c->cluster), "%s", value);
			have_cluster = true;
		} else if ((file = secret_path(c, key))) {
			if (file[0]) {
				rc = fail(err, errlen, -EINVAL, "%s:%u: '%s' given twice", path,
					  lineno, key);
				goto out;
			}
			_Static_assert(sizeof(c->secret_file) == sizeof(c->client_secret_file) &&
					   sizeof(c->secret_file) == sizeof(c->next_secret_file) &&
					   sizeof(c->secret_file) == sizeof(c->tls_ca) &&
					   sizeof(c->secret_file) == sizeof(c->tls_cert) &&
					   sizeof(c->secret_file) == sizeof(c->tls_key),
				       "one size for the six paths");
			resolve_relative(c, value, file, sizeof(c->secret_file));
		} else if (!strncmp(key, "node.", 5)) {
			long id = parse_id(key + 5);
			struct util_conf_node *n;
			if (id < 0) {
				rc = fail(err, errlen, -EINVAL,
					  "%s:%u: '%s': node ids are numbers from 1 to %d", path,
					  lineno, key, UTIL_CONF_MAX_NODES);
				goto out;
			}
			if (seen[id]) {
				rc = fail(err, errlen, -EINVAL, "%s:%u: node %ld given twice", path,
					  lineno, id);
				goto out;
			}
			seen[id] = true;
			n = &c->nodes[c->n_nodes];
			n->id = (uint32_t)id;
			if (parse_address(value, n->host, sizeof(n->host), &n->port) < 0) {
				rc = fail(err, errlen, -EINVAL,
					  "%s:%u: node %ld: '%s' is not host:port (port 1-65535)",
					  path, lineno, id, value);
				goto out;
			}
			c->n_nodes++;
		} else if (!strncmp(key, "metrics.", 8)) {
			long id = parse_id(key + 8);
			struct util_conf_metrics *m;
			if (id < 0) {
				rc = fail(err, errlen, -EINVAL,
					  "%s:%u: '%s': node ids are numbers from 1 to %d", path,
					  lineno, key, UTIL_CONF_MAX_NODES);
				goto out;
			}
			if (seen_metrics[id]) {
				rc = fail(err, errlen, -EINVAL, "%s:%u: metrics.%ld given twice",
					  path, lineno, id);
				goto out;
			}
			seen_metrics[id] = true;
			m = &c->metrics[c->n_metrics];
			m->id = (uint32_t)id;
			m->line = lineno;
			if (parse_address(value, m->host, sizeof(m->host), &m->port) < 0) {
				rc =
				    fail(err, errlen, -EINVAL,
					 "%s:%u: metrics.%ld: '%s' is not host:port (port 1-65535)",
					 path, lineno, id, value);
				goto out;
			}
			c->n_metrics++;
		} else {
			rc = fail(err, errlen, -EINVAL, "%s:%u: unknown key '%s'", path, lineno,
				  key);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = fail(err, errlen, -EIO, "%s: read error", path);
		goto out;
	}
	if (!have_cluster)
		rc = fail(err, errlen, -EINVAL, "%s: 'cluster' is missing", path);
	else if (!c->secret_file[0] && !c->client_secret_file[0] && !c->tls_ca[0] &&
		 !c->tls_cert[0] && !c->tls_key[0])
		rc = fail(err, errlen, -EINVAL,
			  "%s: 'secret_file' (or, for the tools, 'client_secret_file') is missing "
			  "(or, in certificate mode, tls_ca, tls_cert and tls_key)",
			  path);
	else if (c->next_secret_file[0] && !c->secret_file[0])
		rc = fail(err, errlen, -EINVAL,
			  "%s: 'next_secret_file' without 'secret_file' (it is accepted beside "
			  "the node secret, never instead of it)",
			  path);
	else if (c->n_nodes == 0)
		rc = fail(err, errlen, -EINVAL, "%s: no 'node.N = host:port' line", path);
	if (rc)
		goto out;
	qsort(c->nodes, c->n_nodes, sizeof(c->nodes[0]), cmp_node);
	for (size_t i = 0; i < c->n_nodes; i++)
		for (size_t j = i + 1; j < c->n_nodes; j++)
			if (c->nodes[i].port == c->nodes[j].port &&
			    !strcmp(c->nodes[i].host, c->nodes[j].host)) {
				rc = fail(err, errlen, -EINVAL,
					  "%s: nodes %u and %u have the same address %s:%u", path,
					  c->nodes[i].id, c->nodes[j].id, c->nodes[i].host,
					  c->nodes[i].port);
				goto out;
			}
	rc = check_metrics(c, err, errlen);
	if (rc)
		goto out;
	qsort(c->metrics, c->n_metrics, sizeof(c->metrics[0]), cmp_metrics);
	rc = load_tls(c, err, errlen);
	if (!rc && c->secret_file[0])
		rc = load_secret(c, "secret_file", c->secret_file, c->secret, &c->secret_len, err,
				 errlen);
	if (!rc && c->client_secret_file[0])
		rc = load_secret(c, "client_secret_file", c->client_secret_file, c->client_secret,
				 &c->client_secret_len, err, errlen);
	/* The same bytes in both files would give whoever may run the tools
	 * the node credential. */
	if (!rc && c->secret_len && c->secret_len == c->client_secret_len &&
	    !memcmp(c->secret, c->client_secret, c->secret_len))
		rc = fail(err, errlen, -EINVAL,
			  "%s: client_secret_file %s holds the node secret (the one in %s); the "
			  "client credential must be a secret of its own",
			  path, c->client_secret_file, c->secret_file);
	if (!rc && c->next_secret_file[0])
		rc = load_secret(c, "next_secret_file", c->next_secret_file, c->next_secret,
				 &c->next_secret_len, err, errlen);
	if (!rc && c->next_secret_len && c->next_secret_len == c->secret_len &&
	    !memcmp(c->next_secret, c->secret, c->secret_len))
		rc = fail(err, errlen, -EINVAL,
			  "%s: next_secret_file %s holds the secret of secret_file %s; it must be "
			  "the new secret (or, while swapping, the old one)",
			  path, c->next_secret_file, c->secret_file);
	else if (!rc && c->next_secret_len && c->next_secret_len == c->client_secret_len &&
		 !memcmp(c->next_secret, c->client_secret, c->next_secret_len))
		rc = fail(err, errlen, -EINVAL,
			  "%s: next_secret_file %s holds the client secret (the one in %s)", path,
			  c->next_secret_file, c->client_secret_file);
out:
	fclose(f);
	if (rc)
		util_conf_close(c);
	return rc;
}

const struct util_conf_node *util_conf_node(const struct util_conf *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id == id)
			return &c->nodes[i];
	return NULL;
}

const struct util_conf_metrics *util_conf_metrics(const struct util_conf *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_metrics; i++)
		if (c->metrics[i].id == id)
			return &c->metrics[i];
	return NULL;
}

void util_conf_close(struct util_conf *c)
{
	/* volatile writes so the wipe is not optimised away */
	volatile uint8_t *p = c->secret, *q = c->client_secret, *r = c->next_secret;
	volatile uint8_t *k = c->tls_key_pem;
	for (size_t i = 0; i < sizeof(c->tls_key_pem); i++)
		k[i] = 0;
	c->tls_key_len = 0;
	for (size_t i = 0; i < sizeof(c->secret); i++)
		p[i] = 0;
	for (size_t i = 0; i < sizeof(c->client_secret); i++)
		q[i] = 0;
	for (size_t i = 0; i < sizeof(c->next_secret); i++)
		r[i] = 0;
	c->secret_len = 0;
	c->client_secret_len = 0;
	c->next_secret_len = 0;
}
