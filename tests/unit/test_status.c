/* SPDX-License-Identifier: MIT */
/*
 * test_status.c — the status and metrics formats and the two request
 * protocols (control socket lines, HTTP for /metrics) on a pipeline put
 * together by hand: two sessions (alice, bob), one ended session of
 * alice, a per-session transform with counters.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "check-main.h"
#include "buf.h"
#include "conf.h"
#include "control.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "session.h"
#include "status.h"

static const struct tp_plugin p_tun = { .name = "tun", .kind = TP_KIND_SOURCE };
static const struct tp_plugin p_framer = { .name = "framer-ip", .kind = TP_KIND_TRANSFORM };
static const struct tp_plugin p_tls = { .name = "tls-http", .kind = TP_KIND_SINK };

struct fix {
	struct tp_loop *loop;
	struct tp_pipeline *pl;
	struct tp_session *s[2];
};

static struct tp_session *add_session(struct tp_pipeline *pl, unsigned id, const char *user,
				      const char *addr, const char *peer)
{
	struct tp_session *s = calloc(1, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	s->pl = pl;
	s->id = id;
	s->is_up = 1;
	s->up_since = 1700000000;
	s->lease = -1;
	s->info.size = sizeof(s->info);
	s->info.addr4.family = AF_INET;
	s->info.addr4.plen = 24;
	ck_assert_int_eq(inet_pton(AF_INET, addr, s->info.addr4.addr), 1);
	snprintf(s->info.user, sizeof(s->info.user), "%s", user);
	snprintf(s->info.peer, sizeof(s->info.peer), "%s", peer);
	s->nmid = 1;
	s->mid = calloc(1, sizeof(*s->mid));
	s->mid[0] = calloc(1, sizeof(struct tp_stage));
	tp_stage_init(s->mid[0], &pl->t[1], s);
	*tp_stage_counter(s->mid[0], "up_packets") = 10 * id;
	s->next = pl->sessions;
	if (s->next)
		s->next->prev = s;
	pl->sessions = s;
	pl->nsessions++;
	return s;
}

static void setup(struct fix *f)
{
	static const struct tp_plugin *ps[3] = { &p_tun, &p_framer, &p_tls };
	struct tp_pipeline *pl = calloc(1, sizeof(*pl));

	ck_assert_ptr_nonnull(pl);
	f->loop = tp_loop_new();
	f->pl = pl;
	snprintf(pl->name, sizeof(pl->name), "vpn");
	snprintf(pl->stack, sizeof(pl->stack), "framer-ip");
	snprintf(pl->router_stage.name, sizeof(pl->router_stage.name), "vpn/router");
	*tp_stage_counter(&pl->router_stage, "spoofed") = 2;
	pl->loop = f->loop;
	pl->pool = tp_pool_new(0, 0, 2048, 16);
	pl->n = 3;
	pl->t = calloc(3, sizeof(*pl->t));
	for (int i = 0; i < 3; i++) {
		pl->t[i].pl = pl;
		pl->t[i].p = ps[i];
		pl->t[i].index = i;
		snprintf(pl->t[i].name, sizeof(pl->t[i].name), "vpn/%s", ps[i]->name);
	}
	pl->top = calloc(1, sizeof(struct tp_stage));
	pl->bottom = calloc(1, sizeof(struct tp_stage));
	tp_stage_init(pl->top, &pl->t[0], NULL);
	tp_stage_init(pl->bottom, &pl->t[2], NULL);
	*tp_stage_counter(pl->top, "down_packets") = 7;
	/* An ended session of alice: folded into the totals. */
	*tp_counter_get(pl->t[1].totals, &pl->t[1].ntotals, TP_MAX_COUNTERS, "x", "up_packets") = 100;
	struct tp_user_total *u = tp_session_user_total(pl, "alice");
	u->traffic.rx_bytes = 1000;
	u->sessions = 1;
	pl->ended.rx_bytes = 1000;
	pl->sessions_up = 3;
	f->s[0] = add_session(pl, 1, "alice", "10.0.0.2", "192.0.2.7:4000");
	f->s[1] = add_session(pl, 2, "bob", "10.0.0.3", "[2001:db8::9]:5000");
	f->s[0]->traffic = (struct tp_traffic){ .rx_packets = 3, .rx_bytes = 300, .tx_packets = 4, .tx_bytes = 400 };
	f->s[1]->traffic = (struct tp_traffic){ .rx_packets = 5, .rx_bytes = 500, .tx_packets = 6, .tx_bytes = 600 };
}

static void teardown(struct fix *f)
{
	struct tp_pipeline *pl = f->pl;
	for (int i = 0; i < 2; i++) {
		free(f->s[i]->mid[0]);
		free(f->s[i]->mid);
		free(f->s[i]);
	}
	free(pl->top);
	free(pl->bottom);
	free(pl->t);
	free(pl->users);
	tp_pool_destroy(pl->pool);
	free(pl);
	tp_loop_free(f->loop);
}

static char *answer(tp_srv_handler h, void *arg, const char *req, int full, int *done)
{
	static struct tp_sbuf o;
	tp_sbuf_free(&o);
	tp_sbuf_init(&o, 1 << 20);
	*done = h(arg, req, strlen(req), full, &o);
	return o.p ? o.p : "";
}

START_TEST(json_strings_are_escaped_and_stay_valid_utf8)
{
	struct tp_sbuf o;
	tp_sbuf_init(&o, 0);
	tp_json_str(&o, "a\"b\\c\n\x01 \xc3\xa9 \xff \xed\xa0\x80 \xf0\x9f\x98\x80");
	ck_assert_str_eq(o.p, "\"a\\\"b\\\\c\\u000a\\u0001 \xc3\xa9 \\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\"");
	tp_sbuf_free(&o);
}
END_TEST

START_TEST(sbuf_stops_at_its_bound)
{
	struct tp_sbuf o;
	tp_sbuf_init(&o, 64);
	for (int i = 0; i < 10; i++)
		tp_sbuf_printf(&o, "0123456789");
	ck_assert(o.failed);
	ck_assert_uint_le(o.len, 64);
	tp_sbuf_free(&o);
}
END_TEST

START_TEST(totals_add_ended_live_and_dead_sessions)
{
	struct fix f;
	struct tp_counter c[TP_MAX_COUNTERS];
	struct tp_traffic t;
	int n;

	setup(&f);
	tp_status_stage_counters(f.pl, 1, c, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(c[0].v, 100 + 10 + 20);
	tp_status_stage_counters(f.pl, 0, c, &n);
	ck_assert_uint_eq(c[0].v, 7);
	tp_status_traffic(f.pl, &t);
	ck_assert_uint_eq(t.rx_bytes, 1000 + 300 + 500);
	ck_assert_int_eq(tp_status_user(f.pl, "alice", &t), 1);
	ck_assert_uint_eq(t.rx_bytes, 1300);
	ck_assert_uint_eq(t.tx_packets, 4);
	/* bob's session closes but is not freed yet: still counted, not live. */
	struct tp_session *b = f.s[1];
	f.pl->sessions = b->next;
	b->next->prev = NULL;
	b->next = NULL;
	f.pl->dead = b;
	ck_assert_int_eq(tp_status_user(f.pl, "bob", &t), 0);
	ck_assert_uint_eq(t.rx_bytes, 500);
	tp_status_stage_counters(f.pl, 1, c, &n);
	ck_assert_uint_eq(c[0].v, 130);
	f.pl->dead = NULL;
	f.pl->sessions->next = b; /* back, for teardown's sake */
	teardown(&f);
}
END_TEST

START_TEST(control_protocol)
{
	struct fix f;
	int done;

	setup(&f);
	struct tp_view v = { (struct tp_pipeline *const *)&f.pl, 1, 1 };
	answer(tp_control_handle, &v, "stat", 0, &done);
	ck_assert_int_eq(done, 0); /* no newline yet */
	ck_assert_str_eq(answer(tp_control_handle, &v, "statu", 1, &done), "ERR request longer than 255 bytes\n");
	ck_assert_int_eq(done, 1);
	ck_assert(!strncmp(answer(tp_control_handle, &v, "reboot\n", 0, &done), "ERR unknown request", 19));
	char *j = answer(tp_control_handle, &v, "status json\r\n", 0, &done);
	ck_assert(!strncmp(j, "OK\n{\"version\":", 14));
	ck_assert_ptr_nonnull(strstr(j, "{\"id\":1,\"user\":\"alice\",\"address\":\"10.0.0.2/24\",\"address6\":null,"
					 "\"gateway\":null,\"peer\":\"192.0.2.7:4000\",\"stack\":\"framer-ip\","
					 "\"local\":false,\"since\":\"2023-11-14T22:13:20Z\",\"since_epoch\":1700000000,"));
	ck_assert_ptr_nonnull(strstr(j, "\"rx_packets\":3,\"rx_bytes\":300,\"tx_packets\":4,\"tx_bytes\":400,"
					 "\"stages\":[{\"index\":2,\"plugin\":\"framer-ip\",\"counters\":{\"up_packets\":10}}]}"));
	ck_assert_ptr_nonnull(strstr(j, "{\"user\":\"alice\",\"sessions\":1,\"sessions_total\":1,\"rx_packets\":3,\"rx_bytes\":1300,"));
	ck_assert_ptr_nonnull(strstr(j, "\"router\":{\"spoofed\":2}"));
	/* Oldest session first. */
	ck_assert(strstr(j, "\"user\":\"alice\",\"address\"") < strstr(j, "\"user\":\"bob\",\"address\""));
	/* Balanced outside strings: one document. */
	int depth = 0, in = 0;
	for (char *p = j + 3; *p; p++) {
		if (in && *p == '\\')
			p++;
		else if (*p == '"')
			in = !in;
		else if (!in && (*p == '{' || *p == '['))
			depth++;
		else if (!in && (*p == '}' || *p == ']'))
			ck_assert_int_ge(--depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	char *t = answer(tp_control_handle, &v, "status\n", 0, &done);
	ck_assert_ptr_nonnull(strstr(t, "pipeline vpn (stack framer-ip): 2 sessions up, 3 since start\n"));
	ck_assert_ptr_nonnull(strstr(t, "  session 2: user bob, address 10.0.0.3/24, peer [2001:db8::9]:5000, stack framer-ip\n"));
	ck_assert_ptr_nonnull(strstr(t, "rx 5 packets 500 bytes, tx 6 packets 600 bytes\n"));

	ck_assert(!strncmp(answer(tp_control_handle, &v, "disconnect mallory\n", 0, &done), "ERR no session", 14));
	ck_assert(!strncmp(answer(tp_control_handle, &v, "disconnect 10.0.0.9\n", 0, &done), "ERR no session", 14));
	ck_assert_int_eq(f.s[0]->closing + f.s[1]->closing, 0);
	ck_assert_str_eq(answer(tp_control_handle, &v, "disconnect 2001:db8::9\n", 0, &done),
			 "OK\ndisconnected 1 session\n");
	ck_assert_int_eq(f.s[1]->closing, 1); /* bob, by his peer address */
	ck_assert_int_eq(f.s[0]->closing, 0);
	ck_assert_str_eq(answer(tp_control_handle, &v, "disconnect 10.0.0.2\n", 0, &done),
			 "OK\ndisconnected 1 session\n");
	ck_assert_int_eq(f.s[0]->closing, 1); /* alice, by her tunnel address */
	ck_assert_str_eq(answer(tp_control_handle, &v, "disconnect alice\n", 0, &done),
			 "ERR no session of a user or with an address 'alice'\n"); /* already closing */
	teardown(&f);
}
END_TEST

START_TEST(metrics_http)
{
	struct fix f;
	int done;

	setup(&f);
	struct tp_view v = { (struct tp_pipeline *const *)&f.pl, 1, 1 };
	answer(tp_metrics_http, &v, "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, &done);
	ck_assert_int_eq(done, 0);
	char *r = answer(tp_metrics_http, &v, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, &done);
	ck_assert_int_eq(done, 1);
	ck_assert(!strncmp(r, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4", 55));
	char *body = strstr(r, "\r\n\r\n") + 4;
	unsigned long cl = strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10);
	ck_assert_uint_eq(cl, strlen(body));
	ck_assert_ptr_nonnull(strstr(body, "# TYPE tunpipe_user_bytes_total counter\n"));
	ck_assert_ptr_nonnull(strstr(body, "tunpipe_user_bytes_total{pipeline=\"vpn\",user=\"alice\",direction=\"rx\"} 1300\n"));
	ck_assert_ptr_nonnull(strstr(body, "tunpipe_tunnel_bytes_total{pipeline=\"vpn\",direction=\"rx\"} 1800\n"));
	ck_assert_ptr_nonnull(strstr(body, "tunpipe_stage_total{pipeline=\"vpn\",stage=\"framer-ip\",counter=\"up_packets\"} 130\n"));
	ck_assert_ptr_nonnull(strstr(body, "tunpipe_stage_total{pipeline=\"vpn\",stage=\"router\",counter=\"spoofed\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(body, "tunpipe_sessions{pipeline=\"vpn\"} 2\n"));
	/* Each family's HELP appears once. */
	char *h = strstr(body, "# HELP tunpipe_stage_total");
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_null(strstr(h + 1, "# HELP tunpipe_stage_total"));

	r = answer(tp_metrics_http, &v, "HEAD /metrics?x=1 HTTP/1.0\n\n", 0, &done);
	ck_assert(!strncmp(r, "HTTP/1.0 200 OK\r\n", 17));
	ck_assert_str_eq(strstr(r, "\r\n\r\n"), "\r\n\r\n"); /* no body */
	ck_assert(!strncmp(answer(tp_metrics_http, &v, "POST /metrics HTTP/1.1\r\n\r\n", 0, &done),
			   "HTTP/1.0 405 Method Not Allowed\r\n", 33));
	ck_assert(!strncmp(answer(tp_metrics_http, &v, "GET /metricsx HTTP/1.1\r\n\r\n", 0, &done),
			   "HTTP/1.0 404 Not Found\r\n", 24));
	ck_assert(!strncmp(answer(tp_metrics_http, &v, "GET /metrics\r\n\r\n", 0, &done),
			   "HTTP/1.0 400 Bad Request\r\n", 26));
	ck_assert(!strncmp(answer(tp_metrics_http, &v, "GET /metrics HTTP/1.1\r\nX: aaaa", 1, &done),
			   "HTTP/1.0 431 ", 13));

	/* Per-user series off; label values escaped. */
	v.per_user = 0;
	body = answer(tp_metrics_http, &v, "GET /metrics HTTP/1.1\r\n\r\n", 0, &done);
	ck_assert_ptr_null(strstr(body, "user="));
	ck_assert_ptr_nonnull(strstr(body, "tunpipe_tunnel_bytes_total"));
	struct tp_sbuf o;
	tp_sbuf_init(&o, 0);
	snprintf(f.s[0]->info.user, sizeof(f.s[0]->info.user), "a\"b\\c\nd");
	tp_session_user_total(f.pl, f.s[0]->info.user); /* as session_up does */
	tp_metrics_format((struct tp_pipeline *const *)&f.pl, 1, 1, &o);
	ck_assert_ptr_nonnull(strstr(o.p, "tunpipe_user_sessions{pipeline=\"vpn\",user=\"a\\\"b\\\\c\\nd\"} 1\n"));
	tp_sbuf_free(&o);
	teardown(&f);
}
END_TEST

START_TEST(listen_addresses)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[160];

	ck_assert_int_eq(tp_conf_listen_addr("127.0.0.1:9810", &ss, &sl, err, sizeof(err)), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(tp_conf_listen_addr("[::1]:80", &ss, &sl, err, sizeof(err)), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(tp_conf_listen_addr("localhost:80", &ss, &sl, err, sizeof(err)), -1);
	ck_assert_int_eq(tp_conf_listen_addr("127.0.0.1", &ss, &sl, err, sizeof(err)), -1);
	ck_assert_int_eq(tp_conf_listen_addr("127.0.0.1:0", &ss, &sl, err, sizeof(err)), -1);
	ck_assert_int_eq(tp_conf_listen_addr("127.0.0.1:65536", &ss, &sl, err, sizeof(err)), -1);
	ck_assert_int_eq(tp_conf_listen_addr(":80", &ss, &sl, err, sizeof(err)), -1);
}
END_TEST

static uint64_t fake_clock(void *arg)
{
	return *(uint64_t *)arg;
}

static int connect_to(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (const struct sockaddr *)sa, sizeof(*sa)), 0);
	return fd;
}

/* Read what is there without waiting: bytes read, 0 at EOF, -1 if none yet. */
static int poke(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) != 1)
		return -1;
	ssize_t n = recv(fd, buf, len - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	return (int)n;
}

static void rounds(struct tp_loop *l)
{
	for (int i = 0; i < 5; i++)
		tp_loop_run_once(l, 10);
}

/* The server's bounds on a real loop: clients beyond max_clients are
 * closed at once, a silent client is closed at the timeout, and a request
 * is answered while silent clients hold their slots. */
START_TEST(server_bounds_clients_and_time)
{
	static const struct tp_srv_limits lim = { .max_request = 64, .max_answer = 4096, .max_clients = 3,
						  .timeout_ms = 1000 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t now = 1000;
	char buf[256];
	struct tp_loop *l = tp_loop_new();
	struct tp_view v = { NULL, 0, 0 };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/tp-test-status-%d.sock", (int)getpid());
	unlink(sa.sun_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	tp_loop_set_clock(l, fake_clock, &now);
	struct tp_srv *srv = tp_srv_new(l, lfd, "test", &lim, tp_control_handle, &v);
	ck_assert_ptr_nonnull(srv);

	int s1 = connect_to(&sa), s2 = connect_to(&sa);
	rounds(l);
	int s3 = connect_to(&sa);
	ck_assert_int_eq(send(s3, "status", 6, 0), 6); /* no newline yet: waits */
	int s4 = connect_to(&sa);
	rounds(l);
	ck_assert_int_eq(poke(s4, buf, sizeof(buf)), 0); /* the fourth: closed at once */
	ck_assert_int_eq(poke(s1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(poke(s3, buf, sizeof(buf)), -1);
	ck_assert_int_eq(send(s3, "\n", 1, 0), 1);
	rounds(l);
	ck_assert_int_eq(poke(s3, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "OK\n");
	ck_assert_int_eq(poke(s3, buf, sizeof(buf)), 0); /* then our FIN */
	close(s3);
	now += 999;
	rounds(l);
	ck_assert_int_eq(poke(s1, buf, sizeof(buf)), -1);
	now += 2;
	rounds(l);
	ck_assert_int_eq(poke(s1, buf, sizeof(buf)), 0); /* silent too long */
	ck_assert_int_eq(poke(s2, buf, sizeof(buf)), 0);
	int s5 = connect_to(&sa);
	ck_assert_int_eq(send(s5, "status json\n", 12, 0), 12);
	rounds(l);
	ck_assert_int_gt(poke(s5, buf, sizeof(buf)), 0);
	ck_assert(!strncmp(buf, "OK\n{\"version\":", 14));
	ck_assert_ptr_nonnull(strstr(buf, "\"pipelines\":[]}\n"));
	close(s1);
	close(s2);
	close(s4);
	close(s5);
	tp_srv_free(srv);
	tp_loop_free(l);
	unlink(sa.sun_path);
}
END_TEST

/* Out of fds, accept() fails and the listener stays readable: the server
 * pauses it instead of spinning, and accepts again a second later. */
START_TEST(server_pauses_when_out_of_fds)
{
	static const struct tp_srv_limits lim = { .max_request = 64, .max_answer = 4096, .max_clients = 3,
						  .timeout_ms = 5000 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t now = 1000;
	char buf[64];
	struct tp_loop *l = tp_loop_new();
	struct tp_view v = { NULL, 0, 0 };
	struct rlimit old, low;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/tp-test-status-fd-%d.sock", (int)getpid());
	unlink(sa.sun_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	tp_loop_set_clock(l, fake_clock, &now);
	struct tp_srv *srv = tp_srv_new(l, lfd, "test", &lim, tp_control_handle, &v);
	ck_assert_ptr_nonnull(srv);
	int c = connect_to(&sa);
	/* No fd above c may be opened now: accept() gets EMFILE. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)c + 1;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(tp_loop_run_once(l, 10), 1); /* the failed accept */
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);  /* paused: nothing spins */
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(send(c, "status\n", 7, 0), 7);
	rounds(l);
	ck_assert_int_eq(poke(c, buf, sizeof(buf)), -1);
	now += 1000;
	rounds(l);
	ck_assert_int_eq(poke(c, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "OK\n");
	close(c);
	tp_srv_free(srv);
	tp_loop_free(l);
	unlink(sa.sun_path);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tp_log_set_level(TP_LOG_ERROR);
	tcase_add_test(tc, json_strings_are_escaped_and_stay_valid_utf8);
	tcase_add_test(tc, sbuf_stops_at_its_bound);
	tcase_add_test(tc, totals_add_ended_live_and_dead_sessions);
	tcase_add_test(tc, control_protocol);
	tcase_add_test(tc, metrics_http);
	tcase_add_test(tc, listen_addresses);
	tcase_add_test(tc, server_bounds_clients_and_time);
	tcase_add_test(tc, server_pauses_when_out_of_fds);
	suite_add_tcase(s, tc);
	return s;
}
