/* tests/unit/tools/test_prom.c — the Prometheus text of tools/prom.h, byte
 * for byte: label values escaped, a node without an answer has paxfs_up 0
 * and no other sample, per-peer samples, and histograms cumulative with
 * +Inf equal to _count and bounds written as plain decimals. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prom.h"

static char *text;
static size_t len;

static FILE *open_text(void)
{
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	return f;
}

static void close_text(FILE *f)
{
	ck_assert_int_eq(fclose(f), 0);
}

static void assert_has(const char *line)
{
	ck_assert_msg(strstr(text, line), "missing: %s\n--- in:\n%s", line, text);
}

START_TEST(status_families_and_escaping)
{
	Paxfs__StatusReply r = PAXFS__STATUS_REPLY__INIT;
	Paxfs__StatusPeer p = PAXFS__STATUS_PEER__INIT;
	Paxfs__StatusPeer *ps[1] = {&p};
	struct prom_node nodes[2] = {{1, NULL}, {2, &r}};
	const char *head =
	    "# HELP paxfs_up Who answered.\n"
	    "# TYPE paxfs_up gauge\n"
	    "paxfs_up{cluster=\"de\\\"mo\",node=\"1\"} 0\n"
	    "paxfs_up{cluster=\"de\\\"mo\",node=\"2\"} 1\n"
	    "# HELP paxfs_info The daemon's version, as a label; always 1.\n"
	    "# TYPE paxfs_info gauge\n"
	    "paxfs_info{cluster=\"de\\\"mo\",node=\"2\",version=\"1.0\\n\\\"x\\\\\"} 1\n"
	    "# HELP paxfs_voting ";
	FILE *f = open_text();

	r.node_id = 2;
	r.version.data = (uint8_t *)"1.0\n\"x\\";
	r.version.len = 7;
	r.uptime_ms = 61999;
	r.applied_entries = 42;
	p.node_id = 3;
	p.up = 1;
	p.bytes_out = 7;
	r.peers = ps;
	r.n_peers = 1;
	prom_up(f, "de\"mo", nodes, 2, "Who answered.");
	prom_status(f, "de\"mo", nodes, 2);
	close_text(f);
	ck_assert_msg(!strncmp(text, head, strlen(head)), "begins otherwise:\n%s", text);
	assert_has("# HELP paxfs_uptime_seconds Seconds since the daemon started.\n"
		   "# TYPE paxfs_uptime_seconds gauge\n"
		   "paxfs_uptime_seconds{cluster=\"de\\\"mo\",node=\"2\"} 61\n"
		   "# HELP ");
	assert_has("# TYPE paxfs_applied_entries_total counter\n"
		   "paxfs_applied_entries_total{cluster=\"de\\\"mo\",node=\"2\"} 42\n"
		   "# HELP ");
	assert_has("paxfs_peers_up{cluster=\"de\\\"mo\",node=\"2\"} 1\n");
	assert_has("paxfs_peer_sent_bytes_total{cluster=\"de\\\"mo\",node=\"2\",peer=\"3\"} 7\n");
	/* node 1 gave no answer: paxfs_up 0 and nothing else */
	ck_assert_ptr_null(strstr(text + strlen(head), "node=\"1\""));
	free(text);
}
END_TEST

START_TEST(histogram_is_cumulative)
{
	static const double le[3] = {0.0005, 2.5, 10};
	static const uint64_t counts[4] = {1, 0, 2, 3};
	FILE *f = open_text();

	prom_histogram(f, "x_seconds", "c", 4, "op", "read", le, 3, counts, 12.25);
	prom_histogram(f, "y_seconds", "c", 4, NULL, NULL, le, 3, counts, 0);
	close_text(f);
	ck_assert_str_eq(text,
			 "x_seconds_bucket{cluster=\"c\",node=\"4\",op=\"read\",le=\"0.0005\"} 1\n"
			 "x_seconds_bucket{cluster=\"c\",node=\"4\",op=\"read\",le=\"2.5\"} 1\n"
			 "x_seconds_bucket{cluster=\"c\",node=\"4\",op=\"read\",le=\"10\"} 3\n"
			 "x_seconds_bucket{cluster=\"c\",node=\"4\",op=\"read\",le=\"+Inf\"} 6\n"
			 "x_seconds_sum{cluster=\"c\",node=\"4\",op=\"read\"} 12.250000\n"
			 "x_seconds_count{cluster=\"c\",node=\"4\",op=\"read\"} 6\n"
			 "y_seconds_bucket{cluster=\"c\",node=\"4\",le=\"0.0005\"} 1\n"
			 "y_seconds_bucket{cluster=\"c\",node=\"4\",le=\"2.5\"} 1\n"
			 "y_seconds_bucket{cluster=\"c\",node=\"4\",le=\"10\"} 3\n"
			 "y_seconds_bucket{cluster=\"c\",node=\"4\",le=\"+Inf\"} 6\n"
			 "y_seconds_sum{cluster=\"c\",node=\"4\"} 0.000000\n"
			 "y_seconds_count{cluster=\"c\",node=\"4\"} 6\n");
	free(text);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("prom");
	tcase_add_test(tc, status_families_and_escaping);
	tcase_add_test(tc, histogram_is_cumulative);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return s;
}
