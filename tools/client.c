/* tools/client.c — a tool's link to one node (tools/client.h). */
#include "tools/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int verify_client_open(struct event_base *base, const struct util_conf *conf,
		       const struct util_conf_node *cn, unsigned timeout_ms, unsigned dead_ms,
		       const struct net_callbacks *cb, void *arg, struct net_mesh **out, char *err,
		       size_t errlen)
{
	struct net_config *cfg;
	int rc;

	*out = NULL;
	if (strlen(cn->host) >= sizeof(cfg->nodes[0].host)) {
		snprintf(err, errlen, "its host name is too long");
		return -ENAMETOOLONG;
	}
	/* large (255 nodes): not on the stack */
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return -ENOMEM;
	cfg->cluster = conf->cluster;
	/* With client_secret_file the tool proves the read-only credential
	 * only (net/ then ignores the node secret), else the node secret as
	 * before. */
	cfg->secret = conf->secret_len ? conf->secret : NULL;
	cfg->secret_len = conf->secret_len;
	cfg->client_secret = conf->client_secret_len ? conf->client_secret : NULL;
	cfg->client_secret_len = conf->client_secret_len;
	if (conf->tls_key_len) {
		/* certificate mode: a client certificate (read-only), or a
		 * node's (a node certificate may connect as a client) */
		cfg->tls_ca = conf->tls_ca;
		cfg->tls_cert = conf->tls_cert;
		cfg->tls_key = conf->tls_key_pem;
		cfg->tls_key_len = conf->tls_key_len;
	}
	cfg->self = 0;
	cfg->nodes[0].id = cn->id;
	snprintf(cfg->nodes[0].host, sizeof(cfg->nodes[0].host), "%s", cn->host);
	cfg->nodes[0].port = cn->port;
	cfg->n_nodes = 1;
	cfg->handshake_timeout_ms = timeout_ms;
	cfg->reconnect_min_ms = 50;
	cfg->reconnect_max_ms = 400;
	/* a node busy with a long answer is slow, not dead */
	cfg->heartbeat_ms = 2000;
	cfg->dead_ms = dead_ms;
	rc = net_mesh_new(base, cfg, cb, arg, out, err, errlen);
	free(cfg);
	return rc;
}

bool verify_client_unreachable(struct net_mesh *m, uint32_t id, bool past_deadline,
			       uint64_t elapsed_ms, char *why, size_t whylen)
{
	struct net_peer_stats st;

	if (net_peer_stats(m, id, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.auth_failures) {
		snprintf(why, whylen,
			 "refused: the handshake failed authentication (the secret differs from "
			 "the node's: the client secret when the config names one, else the "
			 "cluster secret; or, with certificates, one does not verify)%s%s",
			 st.last_error[0] ? ": " : "", st.last_error);
		return true;
	}
	if (st.refused) {
		snprintf(why, whylen,
			 "refused the connection (another cluster name, a node without "
			 "client_secret_file, or not node %u at that address?)",
			 id);
		return true;
	}
	if (st.decode_errors) {
		snprintf(why, whylen,
			 "answered garbage: frames that do not decode (is it a paxfs node?)");
		return true;
	}
	if (past_deadline || (st.dials >= VERIFY_CLIENT_EARLY_DIALS && !st.links_up)) {
		snprintf(why, whylen,
			 "unreachable: no connection after %llu attempt%s in %.1f s (%s)",
			 (unsigned long long)st.dials, st.dials == 1 ? "" : "s",
			 (double)elapsed_ms / 1000.0,
			 st.last_error[0] ? st.last_error
					  : "nothing listening there, or the host is down");
		return true;
	}
	return false;
}
