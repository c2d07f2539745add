/* SPDX-License-Identifier: MIT */
/*
 * test_core.c — the address pool, the router, and pipelines built and run
 * by the real core (loader, options, links, sessions, the event loop) with
 * the test plugins from tests/plugins.
 */
#include <arpa/inet.h>
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "addrpool.h"
#include "conf.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "router.h"
#include "session.h"

static struct tp_prefix v4(const char *s, int plen)
{
	struct tp_prefix p = { .family = AF_INET, .plen = (uint8_t)plen };
	ck_assert_int_eq(inet_pton(AF_INET, s, p.addr), 1);
	return p;
}

static const char *str4(const struct tp_prefix *p)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;
	i = (i + 1) % 4;
	return inet_ntop(AF_INET, p->addr, buf[i], sizeof(buf[i]));
}

START_TEST(pool_allocates_the_rest_of_the_subnet)
{
	struct tp_net_info net = { .size = sizeof(net), .addr4 = v4("10.0.0.1", 29), .mtu = 1400 };
	char err[128];
	struct tp_addrpool *p = tp_addrpool_new(&net, err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	/* /29: .0 network, .7 broadcast, .1 us → .2 … .6 */
	ck_assert_uint_eq(tp_addrpool_available(p), 5);
	struct tp_session_info si = { 0 };
	int l = tp_addrpool_lease(p, "alice", &si);
	ck_assert_int_ge(l, 0);
	ck_assert_str_eq(str4(&si.addr4), "10.0.0.2");
	ck_assert_uint_eq(si.addr4.plen, 29);
	ck_assert_str_eq(str4(&si.gw4), "10.0.0.1");
	ck_assert_uint_eq(si.mtu, 1400);
	for (int i = 0; i < 4; i++)
		ck_assert_int_ge(tp_addrpool_lease(p, "x", &si), 0);
	ck_assert_uint_eq(tp_addrpool_available(p), 0);
	ck_assert_int_eq(tp_addrpool_lease(p, "late", &si), -1); /* exhausted */
	tp_addrpool_release(p, l);
	ck_assert_uint_eq(tp_addrpool_available(p), 1);
	tp_addrpool_free(p);
}
END_TEST

START_TEST(pool_is_sticky_per_user)
{
	struct tp_net_info net = { .size = sizeof(net), .addr4 = v4("10.0.0.1", 24),
				   .pool4_first = v4("10.0.0.10", 32), .pool4_last = v4("10.0.0.12", 32) };
	char err[128];
	struct tp_addrpool *p = tp_addrpool_new(&net, err, sizeof(err));
	struct tp_session_info a = { 0 }, b = { 0 }, c = { 0 };
	ck_assert_ptr_nonnull(p);
	int la = tp_addrpool_lease(p, "alice", &a);
	int lb = tp_addrpool_lease(p, "bob", &b);
	ck_assert_str_eq(str4(&a.addr4), "10.0.0.10");
	ck_assert_str_eq(str4(&b.addr4), "10.0.0.11");
	tp_addrpool_release(p, la);
	tp_addrpool_release(p, lb);
	/* carol gets a fresh address, not alice's or bob's old one */
	tp_addrpool_lease(p, "carol", &c);
	ck_assert_str_eq(str4(&c.addr4), "10.0.0.12");
	/* bob comes back first and still gets his own */
	tp_addrpool_lease(p, "bob", &b);
	ck_assert_str_eq(str4(&b.addr4), "10.0.0.11");
	tp_addrpool_free(p);
}
END_TEST

START_TEST(pool_rejects_bad_ranges)
{
	char err[128];
	struct tp_net_info net = { .size = sizeof(net), .addr4 = v4("10.0.0.1", 24),
				   .pool4_first = v4("10.0.1.10", 32), .pool4_last = v4("10.0.1.20", 32) };
	ck_assert_ptr_null(tp_addrpool_new(&net, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "subnet"));
	struct tp_net_info none = { .size = sizeof(none) };
	ck_assert_ptr_null(tp_addrpool_new(&none, err, sizeof(err)));
}
END_TEST

static void ipv4(uint8_t *pkt, const char *src, const char *dst)
{
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	pkt[3] = 20;
	inet_pton(AF_INET, src, pkt + 12);
	inet_pton(AF_INET, dst, pkt + 16);
}

static struct tp_prefix v6(const char *s, int plen)
{
	struct tp_prefix p = { .family = AF_INET6, .plen = (uint8_t)plen };
	ck_assert_int_eq(inet_pton(AF_INET6, s, p.addr), 1);
	return p;
}

START_TEST(pool_pairs_ipv6_and_never_hands_out_our_own)
{
	/* Our IPv6 address fd00::2 is the twin of 10.0.0.2: that one is skipped. */
	struct tp_net_info net = { .size = sizeof(net), .addr4 = v4("10.0.0.1", 24), .addr6 = v6("fd00::2", 64) };
	char err[160], a6[INET6_ADDRSTRLEN];
	struct tp_addrpool *p = tp_addrpool_new(&net, err, sizeof(err));
	struct tp_session_info si = { 0 };
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(tp_addrpool_available(p), 252); /* .1 (us) and .2 (twin of us) out */
	ck_assert_int_ge(tp_addrpool_lease(p, "alice", &si), 0);
	ck_assert_str_eq(str4(&si.addr4), "10.0.0.3");
	ck_assert_str_eq(inet_ntop(AF_INET6, si.addr6.addr, a6, sizeof(a6)), "fd00::3");
	ck_assert_uint_eq(si.addr6.plen, 64);
	tp_addrpool_free(p);

	/* A /120 cannot hold the 8 host bits of a /24. */
	net.addr6 = v6("fd00::1", 121);
	ck_assert_ptr_null(tp_addrpool_new(&net, err, sizeof(err)));
	ck_assert_msg(strstr(err, "/120 or shorter"), "%s", err);
}
END_TEST

START_TEST(pool_refuses_a_huge_range)
{
	char err[160];
	struct tp_net_info net = { .size = sizeof(net), .addr4 = v4("10.0.0.1", 8) };
	ck_assert_ptr_null(tp_addrpool_new(&net, err, sizeof(err)));
	ck_assert_msg(strstr(err, "'pool'"), "%s", err);
	net.pool4_first = v4("10.1.0.1", 32);
	net.pool4_last = v4("10.1.0.250", 32);
	struct tp_addrpool *p = tp_addrpool_new(&net, err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(tp_addrpool_available(p), 250);
	tp_addrpool_free(p);
}
END_TEST

START_TEST(router_finds_the_owner_and_checks_sources)
{
	struct tp_router *r = tp_router_new();
	struct tp_session *s1 = (struct tp_session *)0x1, *s2 = (struct tp_session *)0x2;
	struct tp_prefix a = v4("10.0.0.2", 32), b = v4("10.0.0.3", 32);
	uint8_t pkt[20];

	tp_router_add(r, &a, s1);
	tp_router_add(r, &b, s2);
	ipv4(pkt, "10.0.0.1", "10.0.0.3");
	ck_assert_ptr_eq(tp_router_lookup(r, pkt, sizeof(pkt)), s2);
	ipv4(pkt, "10.0.0.1", "10.0.0.9");
	ck_assert_ptr_null(tp_router_lookup(r, pkt, sizeof(pkt)));
	ck_assert_ptr_null(tp_router_lookup(r, pkt, 10)); /* truncated */
	tp_router_del_session(r, s2);
	ipv4(pkt, "10.0.0.1", "10.0.0.3");
	ck_assert_ptr_null(tp_router_lookup(r, pkt, sizeof(pkt)));
	ipv4(pkt, "10.0.0.2", "10.0.0.1");
	ck_assert(tp_ip_src_is(pkt, sizeof(pkt), &a));
	ck_assert(!tp_ip_src_is(pkt, sizeof(pkt), &b));
	tp_router_free(r);
}
END_TEST

/* ---- pipelines from config files ---- */

static char *write_conf(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/tp-core-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Build `text`; return the diagnostics printed, count in *errors. */
static char *build(const char *text, int *errors, int check_only)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct tp_diag d;
	struct tp_conf c;
	char *file = write_conf(text);
	struct tp_loader *ld = tp_loader_new();
	struct tp_loop *loop = tp_loop_new();
	int n = 0;

	tp_diag_init(&d, f);
	tp_loader_add_default_paths(ld);
	if (tp_conf_load(&c, file, &d) == 0) {
		struct tp_pipeline **v = tp_pipelines_build(&c, ld, loop, &d, check_only, &n);
		for (int i = 0; i < n; i++)
			tp_pipeline_free(v[i]);
		free(v);
	}
	tp_conf_free(&c);
	tp_loop_free(loop);
	tp_loader_free(ld);
	unlink(file);
	fclose(f);
	*errors = d.errors;
	return out;
}

START_TEST(good_pipeline_checks)
{
	int errors;
	char *out = build("pipelines = ( { name = \"loop\"; stages = (\n"
			  "  { plugin = \"tp-gen\"; count = 5; },\n"
			  "  { plugin = \"tp-count\"; },\n"
			  "  { plugin = \"tp-loop\"; } ); } );\n", &errors, 1);
	ck_assert_msg(errors == 0, "unexpected errors: %s", out);
	free(out);
}
END_TEST

START_TEST(mismatched_neighbours_are_refused_with_both_names_and_lines)
{
	int errors;
	char *out = build("pipelines = ( { name = \"vpn\"; stages = (\n"
			  "  { plugin = \"tp-gen\"; },\n"
			  "  { plugin = \"compress-lz4\"; },\n"
			  "  { plugin = \"framer-ip\"; },\n"
			  "  { plugin = \"tp-loop\"; } ); } );\n", &errors, 1);
	ck_assert_int_eq(errors, 1);
	ck_assert_msg(strstr(out, ":4: pipeline 'vpn' stage 3 'framer-ip': cannot be linked below stage 2 'compress-lz4' (line 3)"), "%s", out);
	ck_assert_msg(strstr(out, "framer-len"), "no hint in: %s", out);
	free(out);
}
END_TEST

START_TEST(stages_in_the_wrong_place_and_missing_plugins_are_all_reported)
{
	int errors;
	char *out = build("pipelines = ( { name = \"p\"; stages = (\n"
			  "  { plugin = \"tp-count\"; },\n"
			  "  { plugin = \"no-such-plugin\"; },\n"
			  "  { plugin = \"tp-gen\"; count = \"many\"; } ); } );\n", &errors, 1);
	ck_assert_int_ge(errors, 4);
	ck_assert_msg(strstr(out, ":2: pipeline 'p' stage 1 'tp-count': 'tp-count' is a transform but stands where a source"), "%s", out);
	ck_assert_msg(strstr(out, ":3: pipeline 'p' stage 2 'no-such-plugin':"), "%s", out);
	ck_assert_msg(strstr(out, ":4: pipeline 'p' stage 3 'tp-gen': 'tp-gen' is a source"), "%s", out);
	ck_assert_msg(strstr(out, "'count'"), "%s", out); /* wrong type, same run */
	free(out);
}
END_TEST

static void stop_loop(void *arg, int signo)
{
	(void)signo;
	tp_loop_stop(arg);
}

static uint64_t total(struct tp_pipeline *pl, int stage, const char *name)
{
	struct tp_tmpl *t = &pl->t[stage];
	struct tp_stage *st = tp_stage_at(pl, NULL, stage); /* endpoints; transforms: NULL */
	const struct tp_counter *c = st ? st->counters : t->totals;
	int n = st ? st->ncounters : t->ntotals;
	for (int i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return c[i].v;
	return 0;
}

START_TEST(a_pipeline_runs_both_ways_through_the_loop)
{
	struct tp_diag d;
	struct tp_conf c;
	char *file = write_conf("pipelines = ( { name = \"loop\"; stages = (\n"
				"  { plugin = \"tp-gen\"; count = 500; batch = 16; },\n"
				"  { plugin = \"tp-count\"; },\n"
				"  { plugin = \"tp-count\"; },\n"
				"  { plugin = \"tp-loop\"; } ); } );\n");
	struct tp_loader *ld = tp_loader_new();
	struct tp_loop *loop = tp_loop_new();
	int n;

	tp_diag_init(&d, stderr);
	tp_loader_add_default_paths(ld);
	ck_assert_int_eq(tp_conf_load(&c, file, &d), 0);
	struct tp_pipeline **v = tp_pipelines_build(&c, ld, loop, &d, 0, &n);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v[0]->stack, "tp-count,tp-count");
	/* tp-gen raises SIGTERM once every packet came back. */
	ck_assert_int_eq(tp_loop_signal(loop, SIGTERM, stop_loop, loop), 0);
	ck_assert_int_eq(tp_pipeline_start(v[0]), 0);
	ck_assert_uint_eq(v[0]->nsessions, 1);
	alarm(20);
	ck_assert_int_eq(tp_loop_run(loop), 0);
	alarm(0);
	tp_pipeline_stop(v[0]);
	ck_assert_uint_eq(v[0]->nsessions, 0);
	ck_assert_uint_eq(total(v[0], 0, "up_packets"), 500);
	ck_assert_uint_eq(total(v[0], 0, "up_bad"), 0);
	ck_assert_uint_eq(total(v[0], 0, "session_up"), 1);
	for (int i = 1; i <= 2; i++) {
		ck_assert_uint_eq(total(v[0], i, "down_packets"), 500);
		ck_assert_uint_eq(total(v[0], i, "up_packets"), 500);
		ck_assert_uint_eq(total(v[0], i, "session_up"), 1);
		ck_assert_uint_eq(total(v[0], i, "session_down"), 1);
	}
	struct tp_pool_stats ps;
	tp_pool_get_stats(v[0]->pool, &ps);
	ck_assert_uint_eq(ps.outstanding, 0);
	tp_pipeline_free(v[0]);
	free(v);
	tp_conf_free(&c);
	tp_loop_free(loop);
	tp_loader_free(ld);
	unlink(file);
}
END_TEST

/* A local-only transform runs in the data path but is no part of the
 * stack string the peers compare (host->stack()). */
START_TEST(local_only_stages_are_left_out_of_the_stack)
{
	struct tp_diag d;
	struct tp_conf c;
	char *file = write_conf("pipelines = ( { name = \"loop\"; stages = (\n"
				"  { plugin = \"tp-gen\"; count = 100; batch = 10; },\n"
				"  { plugin = \"tp-count-local\"; },\n"
				"  { plugin = \"tp-count\"; },\n"
				"  { plugin = \"tp-count-local\"; },\n"
				"  { plugin = \"tp-loop\"; } ); } );\n");
	struct tp_loader *ld = tp_loader_new();
	struct tp_loop *loop = tp_loop_new();
	int n;

	tp_diag_init(&d, stderr);
	tp_loader_add_default_paths(ld);
	ck_assert_int_eq(tp_conf_load(&c, file, &d), 0);
	struct tp_pipeline **v = tp_pipelines_build(&c, ld, loop, &d, 0, &n);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v[0]->stack, "tp-count");
	ck_assert_str_eq(v[0]->host->stack(v[0]->top), "tp-count");
	ck_assert_int_eq(tp_loop_signal(loop, SIGTERM, stop_loop, loop), 0);
	ck_assert_int_eq(tp_pipeline_start(v[0]), 0);
	alarm(20);
	ck_assert_int_eq(tp_loop_run(loop), 0);
	alarm(0);
	tp_pipeline_stop(v[0]);
	/* ...and yet every packet went through both local-only instances */
	for (int i = 1; i <= 3; i++) {
		ck_assert_uint_eq(total(v[0], i, "down_packets"), 100);
		ck_assert_uint_eq(total(v[0], i, "up_packets"), 100);
	}
	tp_pipeline_free(v[0]);
	free(v);
	tp_conf_free(&c);
	tp_loop_free(loop);
	tp_loader_free(ld);
	unlink(file);
}
END_TEST

/* ---- the call sequence: a stage's callbacks never nest ---- */

struct run {
	struct tp_conf c;
	struct tp_loader *ld;
	struct tp_loop *loop;
	struct tp_pipeline **v;
	char *file;
};

/* Build `text` (one pipeline led by tp-gen), run it until tp-gen has all
 * its packets back, and stop it: counters stay readable until run_free. */
static struct tp_pipeline *build_pl(struct run *r, const char *text)
{
	struct tp_diag d;
	int n;

	r->file = write_conf(text);
	r->ld = tp_loader_new();
	r->loop = tp_loop_new();
	tp_diag_init(&d, stderr);
	tp_loader_add_default_paths(r->ld);
	ck_assert_int_eq(tp_conf_load(&r->c, r->file, &d), 0);
	r->v = tp_pipelines_build(&r->c, r->ld, r->loop, &d, 0, &n);
	ck_assert_ptr_nonnull(r->v);
	return r->v[0];
}

static struct tp_pipeline *run(struct run *r, const char *text)
{
	build_pl(r, text);
	ck_assert_int_eq(tp_loop_signal(r->loop, SIGTERM, stop_loop, r->loop), 0);
	ck_assert_int_eq(tp_pipeline_start(r->v[0]), 0);
	alarm(20);
	ck_assert_int_eq(tp_loop_run(r->loop), 0);
	alarm(0);
	tp_pipeline_stop(r->v[0]);
	return r->v[0];
}

static void run_free(struct run *r)
{
	struct tp_pool_stats ps;

	tp_pool_get_stats(r->v[0]->pool, &ps);
	ck_assert_uint_eq(ps.outstanding, 0);
	tp_pipeline_free(r->v[0]);
	free(r->v);
	tp_conf_free(&r->c);
	tp_loop_free(r->loop);
	tp_loader_free(r->ld);
	unlink(r->file);
}

/* tp-reenter emits hellos from its SESSION_UP handler, i.e. inside the
 * sink's session_up(), once from the sink's start() and once from a timer
 * of the sink; the sink answers every packet at once, i.e. inside the
 * transform's and tp-gen's emit_down().  Each of those used to run a
 * callback of the very instance that was still inside its host call. */
static const char *reenter_conf =
	"pipelines = ( { name = \"re\"; stages = (\n"
	"  { plugin = \"tp-gen\"; count = 1000; batch = 16; },\n"
	"  { plugin = \"tp-reenter\"; hello = 3; },\n"
	"  { plugin = \"tp-reenter-sink\"; hello = 3; again_ms = 5; } ); } );\n";

START_TEST(no_host_call_reenters_the_calling_stage)
{
	struct run r;
	struct tp_pipeline *pl = run(&r, reenter_conf);

	ck_assert_uint_eq(total(pl, 1, "reentered"), 0);
	ck_assert_uint_eq(total(pl, 2, "reentered"), 0);
	/* Nothing was lost on the way: every queued delivery was made. */
	ck_assert_uint_eq(total(pl, 1, "hello_sent"), 6);
	ck_assert_uint_eq(total(pl, 2, "hello_seen"), 6);
	ck_assert_uint_eq(total(pl, 1, "hello_back"), 6);
	ck_assert_uint_eq(total(pl, 2, "data_seen"), 1000);
	ck_assert_uint_eq(total(pl, 0, "up_packets"), 1000);
	run_free(&r);
}
END_TEST

START_TEST(held_back_deliveries_keep_their_order)
{
	struct run r;
	struct tp_pipeline *pl = run(&r, reenter_conf);

	/* The hellos sent from start() reach the sink before any data, and
	 * each kind arrives in the order it was sent, both ways. */
	ck_assert_uint_eq(total(pl, 2, "data_before_hello"), 0);
	ck_assert_uint_eq(total(pl, 2, "hello_order_bad"), 0);
	ck_assert_uint_eq(total(pl, 2, "data_order_bad"), 0);
	ck_assert_uint_eq(total(pl, 1, "hello_back_bad"), 0);
	ck_assert_uint_eq(total(pl, 0, "up_bad"), 0);
	run_free(&r);
}
END_TEST

/* A plugin's structs say their size: the core reads and writes no more,
 * takes a newer (larger) one, and refuses one no release ever had. */
START_TEST(struct_sizes_are_honoured_both_ways)
{
	struct run r;
	struct tp_pipeline *pl = build_pl(&r, "pipelines = ( { name = \"sz\"; stages = (\n"
				       "  { plugin = \"tp-gen\"; }, { plugin = \"tp-loop\"; } ); } );\n");
	struct {
		struct tp_net_info n;
		uint8_t newer[16]; /* fields of a later minor the core does not know */
	} net;
	struct {
		struct tp_session_info i;
		uint8_t guard[16];
	} si;
	struct tp_session s = { .pl = pl, .lease = -1 };

	memset(&net, 0xab, sizeof(net));
	memset(&net.n, 0, sizeof(net.n));
	net.n.size = sizeof(net);
	net.n.addr4 = v4("10.0.0.1", 24);
	ck_assert_int_eq(tp_net_announce(pl, "test", &net.n), 0);
	ck_assert_uint_eq(tp_addrpool_available(pl->apool), 253);
	net.n.size = 8;
	ck_assert_int_eq(tp_net_announce(pl, "test", &net.n), -1);
	net.n.size = 0;
	ck_assert_int_eq(tp_net_announce(pl, "test", &net.n), -1);

	memset(&si, 0x5a, sizeof(si));
	si.i.size = sizeof(si.i);
	ck_assert_int_eq(tp_session_lease(pl, &s, "alice", &si.i), 0);
	ck_assert_str_eq(str4(&si.i.addr4), "10.0.0.2");
	ck_assert_uint_eq(si.i.size, sizeof(si.i));
	for (size_t i = 0; i < sizeof(si.guard); i++)
		ck_assert_uint_eq(si.guard[i], 0x5a); /* nothing written past its size */
	si.i.size = 4;
	ck_assert_int_eq(tp_session_lease(pl, &s, "bob", &si.i), -1);
	ck_assert_int_eq(tp_session_up(pl, &s, &si.i), -1);
	ck_assert_int_eq(s.is_up, 0);
	run_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("core");
	TCase *t = tcase_create("addrpool");
	tcase_add_test(t, pool_allocates_the_rest_of_the_subnet);
	tcase_add_test(t, pool_is_sticky_per_user);
	tcase_add_test(t, pool_rejects_bad_ranges);
	tcase_add_test(t, pool_pairs_ipv6_and_never_hands_out_our_own);
	tcase_add_test(t, pool_refuses_a_huge_range);
	suite_add_tcase(s, t);
	t = tcase_create("router");
	tcase_add_test(t, router_finds_the_owner_and_checks_sources);
	suite_add_tcase(s, t);
	t = tcase_create("pipeline");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, good_pipeline_checks);
	tcase_add_test(t, mismatched_neighbours_are_refused_with_both_names_and_lines);
	tcase_add_test(t, stages_in_the_wrong_place_and_missing_plugins_are_all_reported);
	tcase_add_test(t, a_pipeline_runs_both_ways_through_the_loop);
	tcase_add_test(t, local_only_stages_are_left_out_of_the_stack);
	suite_add_tcase(s, t);
	t = tcase_create("call sequence");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, no_host_call_reenters_the_calling_stage);
	tcase_add_test(t, held_back_deliveries_keep_their_order);
	tcase_add_test(t, struct_sizes_are_honoured_both_ways);
	suite_add_tcase(s, t);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	tp_log_set_level(TP_LOG_WARN);
	return suite();
}
