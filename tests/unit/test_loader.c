/* SPDX-License-Identifier: MIT */
/*
 * test_loader.c — finding, loading and refusing plugin modules, and the
 * `tunpipe inspect` text generated from their descriptors.  The modules
 * are the test-only ones in tests/unit/plugins (built by `make check`).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "framer.h"
#include "harness.h"
#include "inspect.h"
#include "loader.h"

static char plugdir[4096]; /* $top_builddir/tests/unit/plugins */
static char libsdir[4200]; /* … /.libs, where libtool leaves the modules */

#define ck_assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (hay))

static struct tp_loader *test_loader(void)
{
	struct tp_loader *ld = tp_loader_new();
	ck_assert_ptr_nonnull(ld);
	tp_loader_add_path(ld, plugdir);
	return ld;
}

/* Expect `name` to be refused with a message containing each of `wants`. */
static void expect_refused(const char *name, const char *want1, const char *want2)
{
	struct tp_loader *ld = test_loader();
	char err[1024] = "";

	ck_assert_ptr_null(tp_loader_get(ld, name, err, sizeof(err)));
	ck_assert_has(err, want1);
	if (want2)
		ck_assert_has(err, want2);
	ck_assert_ptr_null(tp_loader_file(ld, name));
	tp_loader_free(ld);
}

START_TEST(good_plugin_loads_once)
{
	struct tp_loader *ld = test_loader();
	char err[1024] = "", want[4300];
	const struct tp_plugin *p = tp_loader_get(ld, "optdemo", err, sizeof(err));

	ck_assert_msg(p != NULL, "optdemo refused: %s", err);
	ck_assert_str_eq(p->name, "optdemo");
	ck_assert_int_eq(p->kind, TP_KIND_TRANSFORM);
	snprintf(want, sizeof(want), "%s/optdemo.so", libsdir);
	ck_assert_str_eq(tp_loader_file(ld, "optdemo"), want);
	ck_assert_ptr_eq(tp_loader_get(ld, "optdemo", err, sizeof(err)), p);
	tp_loader_free(ld);
}
END_TEST

START_TEST(newer_major_refused)
{
	char file[4300];

	snprintf(file, sizeof(file), "%s/abi_major.so: ", libsdir);
	expect_refused("abi_major", file,
		       "plugin 'abi_major' was built for plugin ABI 2.0; this tunpipe supports 1.2 "
		       "(major versions must match)");
}
END_TEST

START_TEST(newer_minor_refused)
{
	char file[4300];

	snprintf(file, sizeof(file), "%s/abi_minor.so: ", libsdir);
	expect_refused("abi_minor", file,
		       "plugin 'abi_minor' was built for plugin ABI 1.3; this tunpipe supports 1.2 "
		       "(built against a newer minor version)");
}
END_TEST

START_TEST(bad_option_table_refused)
{
	expect_refused("bad_table", "plugin 'bad_table' has a bad option table: option 'depth' "
		       "(integer) at offset 8 does not fit in config_size 8", NULL);
}
END_TEST

START_TEST(name_must_match_file)
{
	expect_refused("misnamed", "descriptor name 'not-misnamed' does not match the file name "
		       "'misnamed'", NULL);
}
END_TEST

START_TEST(missing_plugin_lists_searched_dirs)
{
	struct tp_loader *ld = test_loader();
	char err[8192] = "", want[8192];

	tp_loader_add_path(ld, "/nonexistent/a::/nonexistent/b");
	tp_loader_add_path(ld, plugdir); /* a duplicate is searched once */
	ck_assert_ptr_null(tp_loader_get(ld, "nosuch", err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "plugin 'nosuch' not found; searched: %s, /nonexistent/a, /nonexistent/b", plugdir);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tp_loader_get(ld, "../plugins/optdemo", err, sizeof(err)));
	ck_assert_str_eq(err, "invalid plugin name '../plugins/optdemo'");
	tp_loader_free(ld);
}
END_TEST

START_TEST(default_paths_use_environment)
{
	struct tp_loader *ld = tp_loader_new();
	char err[8192] = "", want[8192];

	setenv("TUNPIPE_PLUGIN_PATH", plugdir, 1);
	tp_loader_add_path(ld, "/nonexistent/first");
	tp_loader_add_default_paths(ld);
	tp_loader_add_default_paths(ld); /* idempotent */
	ck_assert_ptr_nonnull(tp_loader_get(ld, "optdemo", err, sizeof(err)));
	ck_assert_ptr_null(tp_loader_get(ld, "nosuch", err, sizeof(err)));
	snprintf(want, sizeof(want), "searched: /nonexistent/first, %s, %s", plugdir, PKGLIBDIR);
	ck_assert_has(err, want);
	tp_loader_free(ld);
}
END_TEST

struct seen {
	int count, ok, broken;
	int optdemo_ok;
	char abi_major_err[1024];
};

static void each_cb(void *arg, const char *name, const char *file, const struct tp_plugin *p,
		    const char *err)
{
	struct seen *s = arg;

	s->count++;
	ck_assert_ptr_nonnull(file);
	ck_assert_msg((p == NULL) != (err == NULL), "%s: exactly one of p/err", name);
	if (p)
		s->ok++;
	else
		s->broken++;
	if (strcmp(name, "optdemo") == 0)
		s->optdemo_ok = p != NULL;
	if (strcmp(name, "abi_major") == 0 && err)
		snprintf(s->abi_major_err, sizeof(s->abi_major_err), "%s", err);
}

START_TEST(each_finds_every_module)
{
	struct tp_loader *ld = test_loader();
	struct seen s;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(tp_loader_each(ld, each_cb, &s), 5);
	ck_assert_int_eq(s.count, 5);
	ck_assert_int_eq(s.ok, 1);
	ck_assert_int_eq(s.broken, 4);
	ck_assert(s.optdemo_ok);
	ck_assert_has(s.abi_major_err, "major versions must match");
	tp_loader_free(ld);
}
END_TEST

/* ---- descriptor checks on hand-made descriptors ---- */

static void *fake_create(struct tp_stage *st, const struct tp_host *h, const void *c, char *e,
			 size_t n)
{
	(void)st; (void)h; (void)c; (void)e; (void)n;
	return NULL;
}

static void fake_destroy(void *ctx)
{
	(void)ctx;
}

static struct tp_plugin good_desc(void)
{
	struct tp_plugin p = {
		.abi_major = TP_ABI_MAJOR, .abi_minor = TP_ABI_MINOR, .size = sizeof(p),
		.name = "fake", .kind = TP_KIND_TRANSFORM, .description = "d",
		.top = TP_DATA_IP, .bottom = TP_DATA_STREAM,
		.create = fake_create, .destroy = fake_destroy,
	};
	return p;
}

static void expect_bad(const struct tp_plugin *p, const char *want)
{
	char err[1024] = "";

	ck_assert_int_eq(tp_plugin_check(p, "/x/fake.so", err, sizeof(err)), -1);
	ck_assert_has(err, "/x/fake.so: ");
	ck_assert_has(err, want);
}

START_TEST(descriptor_checks)
{
	struct tp_plugin p = good_desc();
	char err[256];

	ck_assert_int_eq(tp_plugin_check(&p, "/x/fake.so", err, sizeof(err)), 0);
	p.size = 16;
	expect_bad(&p, "descriptor is 16 bytes, ABI 1.0 needs at least");
	p = good_desc();
	p.kind = TP_KIND_SOURCE;
	expect_bad(&p, "is a source but declares top=0x1 bottom=0x4");
	p.top = 0;
	ck_assert_int_eq(tp_plugin_check(&p, "/x/fake.so", err, sizeof(err)), 0);
	p = good_desc();
	p.kind = TP_KIND_SINK;
	expect_bad(&p, "is a sink but declares top=0x1 bottom=0x4");
	p.bottom = 0;
	ck_assert_int_eq(tp_plugin_check(&p, "/x/fake.so", err, sizeof(err)), 0);
	p = good_desc();
	p.bottom = 0;
	expect_bad(&p, "is a transform but declares top=0x1 bottom=0x0");
	p.bottom = 0x80;
	expect_bad(&p, "is a transform but declares top=0x1 bottom=0x80");
	p = good_desc();
	p.kind = (enum tp_kind)9;
	expect_bad(&p, "plugin 'fake' has unknown kind 9");
	p = good_desc();
	p.create = NULL;
	expect_bad(&p, "plugin 'fake' has no create callback");
	p = good_desc();
	p.destroy = NULL;
	expect_bad(&p, "plugin 'fake' has no destroy callback");
	p = good_desc();
	p.description = NULL;
	expect_bad(&p, "plugin 'fake' has no description");
	p = good_desc();
	p.name = NULL;
	expect_bad(&p, "descriptor name '(null)' does not match the file name 'fake'");
}
END_TEST

/* TP_PLUGIN_LOCAL_ONLY belongs to transforms that leave the wire alone. */
START_TEST(local_only_flag_checks)
{
	struct tp_plugin p = good_desc();
	char err[256];

	p.flags = TP_PLUGIN_LOCAL_ONLY;
	ck_assert_int_eq(tp_plugin_check(&p, "/x/fake.so", err, sizeof(err)), 0);
	p.kind = TP_KIND_SINK;
	p.bottom = 0;
	expect_bad(&p, "plugin 'fake' is an endpoint but declares TP_PLUGIN_LOCAL_ONLY");
	p = good_desc();
	p.flags = 0x10;
	expect_bad(&p, "plugin 'fake' sets unknown flags 0x10");
}
END_TEST

/* ---- inspect ---- */

static char *capture_inspect(int (*fn)(struct tp_loader *, const char *, FILE *),
			     struct tp_loader *ld, const char *name, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	*rc = fn(ld, name, f);
	fclose(f);
	return text;
}

static int list_adapter(struct tp_loader *ld, const char *unused, FILE *out)
{
	(void)unused;
	return tp_inspect_list(ld, out);
}

START_TEST(inspect_one_shows_every_option)
{
	struct tp_loader *ld = test_loader();
	char want[4400];
	int rc;
	char *t = capture_inspect(tp_inspect_one, ld, "optdemo", &rc), *line;

	ck_assert_int_eq(rc, 0);
	ck_assert_has(t, "Name:          optdemo\n");
	snprintf(want, sizeof(want), "File:          %s/optdemo.so\n", libsdir);
	ck_assert_has(t, want);
	ck_assert_has(t, "Kind:          transform\n");
	ck_assert_has(t, "Description:   Option table demo for the loader tests\n");
	ck_assert_has(t, "ABI version:   1.2\n");
	ck_assert_has(t, "Top side:      takes/gives IP packets or messages\n");
	ck_assert_has(t, "Bottom side:   takes/gives byte stream\n");
	ck_assert_has(t, "Headroom:      4 bytes\n");
	ck_assert_has(t, "Tailroom:      2 bytes\n");
	ck_assert_has(t, "\nOptions:\n");
	ck_assert_has(t, "  label                string       default: \"demo\"\n"
		      "      A free-form label shown in logs.\n");
	ck_assert_has(t, "  width                integer      default: 4, range: 1..8\n"
		      "      Width of the demo prefix in bytes.");
	ck_assert_has(t, "  verbose              boolean      default: false\n");
	ck_assert_has(t, "  mode                 enum         required, choices: client|server\n"
		      "      Which end of the tunnel this is.\n");
	ck_assert_has(t, "  peers                string list\n      Peer names.\n");
	ck_assert_has(t, "  keyfile              path         default: demo.key\n");
	ck_assert_has(t, "  password             string       secret\n      Never shown.\n");
	/* an option of one role says so first */
	ck_assert_has(t, "  listen               string       only with mode=server, default: "
		      ":443\n      Where a server listens.\n");
	ck_assert_msg(strstr(t, "hunter2") == NULL, "secret default printed:\n%s", t);
	/* The long help is wrapped: no line over 78 columns, split over lines. */
	ck_assert_has(t, "\n      so that inspect has to wrap it over");
	/* (The File: line holds a path of any length: it is not wrapped.) */
	for (line = t; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, "File:", 5) != 0)
			ck_assert_int_le(strcspn(line, "\n"), 78);
	free(t);

	t = capture_inspect(tp_inspect_one, ld, "abi_major", &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_has(t, "tunpipe inspect: ");
	ck_assert_has(t, "major versions must match");
	free(t);
	tp_loader_free(ld);
}
END_TEST

START_TEST(inspect_list)
{
	struct tp_loader *ld = test_loader();
	int rc;
	char *t = capture_inspect(list_adapter, ld, NULL, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_has(t, "  optdemo          transform  Option table demo for the loader tests\n");
	ck_assert_has(t, "  abi_major        (broken)   ");
	ck_assert_has(t, "  bad_table        (broken)   ");
	ck_assert_has(t, "\n5 plugins;");
	/* Sorted by name. */
	ck_assert(strstr(t, "abi_major") < strstr(t, "optdemo"));
	free(t);
	tp_loader_free(ld);

	ld = tp_loader_new();
	tp_loader_add_path(ld, "/nonexistent");
	t = capture_inspect(list_adapter, ld, NULL, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_has(t, "no plugins found");
	free(t);
	tp_loader_free(ld);
}
END_TEST

START_TEST(data_names)
{
	char buf[64];

	ck_assert_str_eq(tp_data_name(TP_DATA_IP, buf, sizeof(buf)), "IP packets");
	ck_assert_str_eq(tp_data_name(TP_DATA_IP | TP_DATA_MSG, buf, sizeof(buf)),
			 "IP packets or messages");
	ck_assert_str_eq(tp_data_name(TP_DATA_IP | TP_DATA_MSG | TP_DATA_STREAM, buf, sizeof(buf)),
			 "IP packets or messages or byte stream");
	ck_assert_str_eq(tp_data_name(0, buf, sizeof(buf)), "nothing");
	ck_assert_str_eq(tp_data_name(TP_DATA_STREAM | 0x10, buf, sizeof(buf)),
			 "byte stream or unknown (0x10)");
	/* Truncation stays NUL-terminated. */
	ck_assert_str_eq(tp_data_name(TP_DATA_IP | TP_DATA_MSG, buf, 8), "IP pack");
}
END_TEST

/* ---- a plugin built against ABI 1.0 (tests/abi-1.0, tests/plugins/tp-abi10.c) ---- */

/* The descriptor and option row as 1.0 defines them end before the 1.1
 * fields. */
#define PLUGIN_SIZE_1_0 \
	(offsetof(struct tp_plugin, wire_id) + sizeof(((struct tp_plugin *)0)->wire_id))

START_TEST(abi_1_0_descriptor_is_read_as_1_0)
{
	struct tp_loader *ld = tp_loader_new();
	char err[1024] = "";
	const struct tp_plugin *p;
	const char *names[] = { "label", "key", "mode", "verbose" };

	tp_loader_add_default_paths(ld); /* $TUNPIPE_PLUGIN_PATH has tests/plugins */
	p = tp_loader_get(ld, "tp-abi10", err, sizeof(err));
	ck_assert_msg(p != NULL, "tp-abi10 refused: %s", err);
	ck_assert_uint_eq(p->abi_minor, 0);
	ck_assert_uint_eq(p->size, PLUGIN_SIZE_1_0);
	/* the core's copy: 1.1 fields the plugin never wrote read as absent */
	ck_assert_ptr_null(p->framing);
	/* its rows were 1.0's (no `when`), converted to the core's */
	ck_assert_uint_eq(p->option_size, sizeof(struct tp_option));
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(p->options[i].name, names[i]);
		ck_assert_ptr_null(p->options[i].when);
	}
	ck_assert_int_eq(p->options[1].max, 255);
	ck_assert_str_eq(p->options[2].choices, "plain|shift");
	ck_assert_int_eq(p->options[4].type, TP_OPT_END);
	tp_loader_free(ld);
}
END_TEST

static void expect_bytes(struct tp_buf *b, const char *want)
{
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, strlen(want));
	ck_assert_int_eq(memcmp(b->data, want, b->len), 0);
}

START_TEST(abi_1_0_plugin_runs)
{
	struct tp_harness *h;
	struct tp_buf *b;

	/* every option given: key 3, shifted by one more */
	h = tp_harness_new("tp-abi10", "label = \"seen\"; key = 3; mode = \"shift\"; verbose = true;");
	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	tp_harness_push_down(h, "abc", 3);
	b = tp_harness_pull_down(h);
	expect_bytes(b, "efg");
	tp_harness_buf_free(h, b);
	tp_harness_push_up(h, "efg", 3);
	b = tp_harness_pull_up(h);
	expect_bytes(b, "abc");
	tp_harness_buf_free(h, b);
	ck_assert_uint_eq(tp_harness_counter(h, "seen"), 2);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);

	/* the 1.0 defaults */
	h = tp_harness_new("tp-abi10", NULL);
	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	tp_harness_push_down(h, "abc", 3);
	b = tp_harness_pull_down(h);
	expect_bytes(b, "bcd");
	tp_harness_buf_free(h, b);
	ck_assert_uint_eq(tp_harness_counter(h, "packets"), 1);
	tp_harness_free(h);

	/* the rows' ranges and choices hold */
	ck_assert_ptr_null(tp_harness_new("tp-abi10", "key = 256;"));
	ck_assert_has(tp_harness_last_error(), "option 'key' is 256, out of range 0..255");
	ck_assert_ptr_null(tp_harness_new("tp-abi10", "mode = \"rot\";"));
	ck_assert_has(tp_harness_last_error(), "expected one of: plain|shift");
}
END_TEST

/* A 1.0 framer on the host's deframer services, which the core keeps. */
START_TEST(abi_1_0_framer_on_host_deframer)
{
	static const uint8_t stream[] = { 0, 3, 'a', 'b', 'c', 0, 1, 'd', 0, 2, 'e', 'f' };
	static const char *const want[] = { "abc", "d", "ef" };
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "test" };
	struct tp_harness *h;
	struct tp_buf *b;

	for (size_t cut = 0; cut <= sizeof(stream); cut++) {
		h = tp_harness_new("tp-abi10-framer", NULL);
		ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
		tp_harness_push_up(h, stream, cut);
		tp_harness_push_up(h, stream + cut, sizeof(stream) - cut);
		for (int i = 0; i < 3; i++) {
			b = tp_harness_pull_up(h);
			expect_bytes(b, want[i]);
			tp_harness_buf_free(h, b);
		}
		ck_assert_uint_eq(tp_harness_queued_up(h), 0);
		tp_harness_event(h, &down);
		ck_assert_uint_eq(tp_harness_counter(h, "truncated"), 0);
		ck_assert_uint_eq(tp_harness_outstanding(h), 0);
		tp_harness_free(h);
	}

	h = tp_harness_new("tp-abi10-framer", "max = 2;");
	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	tp_harness_push_down(h, "xy", 2);
	b = tp_harness_pull_down(h);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, 4);
	ck_assert_int_eq(memcmp(b->data, "\0\2xy", 4), 0);
	tp_harness_buf_free(h, b);
	tp_harness_push_up(h, "\0\2xy\0\3abc", 9); /* the second exceeds max */
	b = tp_harness_pull_up(h);
	expect_bytes(b, "xy");
	tp_harness_buf_free(h, b);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "refused"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "dropped"), 5); /* the deframer's */
	tp_harness_free(h);

	h = tp_harness_new("tp-abi10-framer", NULL);
	tp_harness_push_up(h, "\0\5ab", 4);
	ck_assert_uint_eq(tp_harness_outstanding(h), 1); /* the frame's own buffer */
	tp_harness_event(h, &down);
	ck_assert_uint_eq(tp_harness_counter(h, "truncated"), 1);
	tp_harness_free(h);
}
END_TEST

/* ---- framing descriptors ---- */

static int64_t any_len(void *ctx, const uint8_t *p, size_t avail, char *why, size_t whylen)
{
	(void)ctx, (void)p, (void)avail, (void)why, (void)whylen;
	return 1;
}

static void any_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	(void)ctx, (void)s, (void)q;
}

static void expect_framing_refused(const struct tp_plugin *p, const struct tp_framing *fr,
				   const char *want)
{
	char err[256] = "";

	ck_assert_int_eq(tp_framer_check(p, fr, err, sizeof(err)), -1);
	ck_assert_has(err, want);
}

START_TEST(framing_checks)
{
	const struct tp_framing good = { .size = sizeof(struct tp_framing), .hdr_bytes = 2,
					 .frame_len = any_len };
	const struct tp_plugin fp = { .kind = TP_KIND_TRANSFORM, .top = TP_DATA_MSG,
				      .bottom = TP_DATA_STREAM };
	struct tp_framing fr;
	struct tp_plugin p;
	char err[256];

	ck_assert_int_eq(tp_framer_check(&fp, &good, err, sizeof(err)), 0);
	fr = good, fr.size = 8;
	expect_framing_refused(&fp, &fr, "shorter than ABI 1.1's");
	fr = good, fr.frame_len = NULL;
	expect_framing_refused(&fp, &fr, "no frame_len");
	fr = good, fr.hdr_bytes = 0;
	expect_framing_refused(&fp, &fr, "hdr_bytes is not within 1..64");
	fr = good, fr.hdr_bytes = 65;
	expect_framing_refused(&fp, &fr, "hdr_bytes is not within 1..64");
	p = fp, p.bottom = TP_DATA_MSG;
	expect_framing_refused(&p, &good, "byte stream (TP_DATA_STREAM) below");
	p = fp, p.down = any_down;
	expect_framing_refused(&p, &good, "leaves up() and down() to the core");
	p = fp, p.destroy = free;
	expect_framing_refused(&p, &good, "both create() and destroy() or neither");
}
END_TEST

/* The loader's copy of a framer: the core's callbacks, its own framing. */
START_TEST(framer_gets_the_core_glue)
{
	struct tp_loader *ld = tp_loader_new();
	char err[1024] = "";
	const struct tp_plugin *p;

	tp_loader_add_default_paths(ld);
	p = tp_loader_get(ld, "tp-framer-byte", err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_ptr_nonnull(p->framing);
	ck_assert_uint_eq(p->framing->hdr_bytes, 1);
	/* it declared neither: the core supplies them */
	ck_assert_ptr_nonnull(p->create);
	ck_assert_ptr_nonnull(p->destroy);
	ck_assert_ptr_nonnull(p->up);
	ck_assert_ptr_nonnull(p->down);
	ck_assert_ptr_nonnull(p->event);
	ck_assert_ptr_null(p->wire_id); /* none of its own: the plugin name */
	{
		int rc;
		char *t = capture_inspect(tp_inspect_one, ld, "tp-framer-byte", &rc);

		ck_assert_int_eq(rc, 0);
		ck_assert_has(t, "Framing:       core service, frame length from the first "
			      "1 bytes\n");
		free(t);
	}
	/* a config parsed against another table is refused, not trusted */
	{
		struct tp_diag d;
		struct tp_optset *o;

		tp_diag_init(&d, stderr);
		o = tp_options_parse(NULL, 0, NULL, NULL, "x", &d);
		ck_assert_ptr_nonnull(o);
		ck_assert_ptr_null(p->create(NULL, NULL, tp_optset_config(o), err, sizeof(err)));
		ck_assert_has(err, "not parsed against its own table");
		tp_optset_free(o);
	}
	tp_loader_free(ld);
}
END_TEST

/* tp_import reads what the plugin's size and option_size say, nothing more. */
struct wide_row {
	struct tp_option o;
	char later[16]; /* fields of a later row layout */
};

static void *imp_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen)
{
	(void)st, (void)host, (void)err, (void)errlen;
	return (void *)config;
}

START_TEST(import_reads_only_what_the_plugin_wrote)
{
	static const struct wide_row wide[] = {
		{ { .type = TP_OPT_INT, .name = "a", .def = "1", .offset = 0, .help = "" }, "junk" },
		{ { .type = TP_OPT_BOOL, .name = "b", .offset = 8, .help = "" }, "junk" },
		{ { .type = TP_OPT_END }, "" },
	};
	static const struct tp_framing fr = { .size = sizeof(struct tp_framing), .hdr_bytes = 1,
					      .frame_len = any_len };
	struct tp_plugin raw = { .abi_major = TP_ABI_MAJOR, .abi_minor = 0,
				 .size = PLUGIN_SIZE_1_0, .name = "imp", .kind = TP_KIND_TRANSFORM,
				 .description = "d", .top = TP_DATA_IP, .bottom = TP_DATA_STREAM,
				 .config_size = 16, .create = imp_create, .destroy = free,
				 /* past a 1.0 plugin's size: must read as absent */
				 .option_size = 3, .framing = &fr };
	struct tp_import im;
	char err[512] = "";

	memset(&im, 0, sizeof(im));
	ck_assert_msg(tp_import(&im, &raw, "/x/imp.so", err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(im.desc.framing);
	ck_assert_ptr_eq(im.desc.up, NULL); /* no framing glue either */
	ck_assert_uint_eq(im.desc.option_size, sizeof(struct tp_option));
	ck_assert_int_eq(im.desc.options[0].type, TP_OPT_END); /* no table: an empty one */
	tp_import_release(&im);

	/* rows wider than the core's (a later layout): every row found */
	raw.abi_minor = TP_ABI_MINOR;
	raw.size = sizeof(struct tp_plugin);
	raw.framing = NULL;
	raw.options = &wide[0].o;
	raw.option_size = sizeof(struct wide_row);
	memset(&im, 0, sizeof(im));
	ck_assert_msg(tp_import(&im, &raw, "/x/imp.so", err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(im.desc.options[0].name, "a");
	ck_assert_str_eq(im.desc.options[1].name, "b");
	ck_assert_int_eq(im.desc.options[2].type, TP_OPT_END);
	tp_import_release(&im);

	/* rows narrower than 1.0's cannot be read */
	raw.option_size = 8;
	memset(&im, 0, sizeof(im));
	ck_assert_int_eq(tp_import(&im, &raw, "/x/imp.so", err, sizeof(err)), -1);
	ck_assert_has(err, "plugin 'imp': option rows of 8 bytes, ABI 1.0 needs at least");
	tp_import_release(&im);

	/* a framer's glue is installed in the copy only */
	raw.option_size = 0;
	raw.options = NULL;
	raw.framing = &fr;
	raw.create = NULL;
	raw.destroy = NULL;
	memset(&im, 0, sizeof(im));
	ck_assert_msg(tp_import(&im, &raw, "/x/imp.so", err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(im.desc.up);
	ck_assert_ptr_eq(im.desc.framing, &im.fc.framing);
	ck_assert_ptr_null(raw.up);
	tp_import_release(&im);
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	const char *top = getenv("top_builddir");
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("loader");

	snprintf(plugdir, sizeof(plugdir), "%s/tests/unit/plugins", top ? top : ".");
	snprintf(libsdir, sizeof(libsdir), "%s/.libs", plugdir);
	tcase_add_test(tc, good_plugin_loads_once);
	tcase_add_test(tc, newer_major_refused);
	tcase_add_test(tc, newer_minor_refused);
	tcase_add_test(tc, bad_option_table_refused);
	tcase_add_test(tc, name_must_match_file);
	tcase_add_test(tc, missing_plugin_lists_searched_dirs);
	tcase_add_test(tc, default_paths_use_environment);
	tcase_add_test(tc, each_finds_every_module);
	tcase_add_test(tc, descriptor_checks);
	tcase_add_test(tc, local_only_flag_checks);
	tcase_add_test(tc, inspect_one_shows_every_option);
	tcase_add_test(tc, inspect_list);
	tcase_add_test(tc, data_names);
	tcase_add_test(tc, abi_1_0_descriptor_is_read_as_1_0);
	tcase_add_test(tc, abi_1_0_plugin_runs);
	tcase_add_test(tc, abi_1_0_framer_on_host_deframer);
	tcase_add_test(tc, framing_checks);
	tcase_add_test(tc, framer_gets_the_core_glue);
	tcase_add_test(tc, import_reads_only_what_the_plugin_wrote);
	suite_add_tcase(s, tc);
	return s;
}
