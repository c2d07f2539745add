/* SPDX-License-Identifier: MIT */
/*
 * inspect.c — `tunpipe inspect [NAME]`, written from the descriptors alone
 * (gst-inspect's idea): what a user reads is what the loader checks, so the
 * documentation of a plugin's options cannot drift from its code.
 */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "inspect.h"

#define HELP_INDENT 6
#define HELP_WIDTH 78

static const char *kind_name(enum tp_kind k)
{
	switch (k) {
	case TP_KIND_SOURCE: return "source";
	case TP_KIND_TRANSFORM: return "transform";
	case TP_KIND_SINK: return "sink";
	}
	return "unknown";
}

const char *tp_data_name(uint32_t mask, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } kinds[] = {
		{ TP_DATA_IP, "IP packets" },
		{ TP_DATA_MSG, "messages" },
		{ TP_DATA_STREAM, "byte stream" },
	};
	size_t off = 0, i;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (mask == 0) {
		snprintf(buf, len, "nothing");
		return buf;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && off < len; i++)
		if (mask & kinds[i].bit)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " or " : "",
						kinds[i].name);
	mask &= ~(uint32_t)(TP_DATA_IP | TP_DATA_MSG | TP_DATA_STREAM);
	if (mask && off < len)
		snprintf(buf + off, len - off, "%sunknown (0x%x)", off ? " or " : "", mask);
	return buf;
}

struct list_ctx {
	FILE *out;
	int n;
};

static void list_one(void *arg, const char *name, const char *file, const struct tp_plugin *p,
		     const char *err)
{
	struct list_ctx *lc = arg;

	lc->n++;
	if (p)
		fprintf(lc->out, "  %-16s %-10s %s\n", name, kind_name(p->kind), p->description);
	else
		fprintf(lc->out, "  %-16s %-10s %s\n", name, "(broken)", err ? err : file);
}

int tp_inspect_list(struct tp_loader *ld, FILE *out)
{
	struct list_ctx lc = { out, 0 };

	tp_loader_each(ld, list_one, &lc);
	if (lc.n == 0) {
		fprintf(out, "no plugins found (set plugin_path or TUNPIPE_PLUGIN_PATH)\n");
		return 1;
	}
	fprintf(out, "\n%d plugin%s; `tunpipe inspect NAME` shows one in detail.\n", lc.n,
		lc.n == 1 ? "" : "s");
	return 0;
}

/* Print `text` word-wrapped, every line indented by `indent`. */
static void wrap(FILE *out, const char *text, int indent, int width)
{
	const char *p = text;
	int col = 0;

	while (*p) {
		size_t w;

		while (*p == ' ' || *p == '\n')
			p++;
		if (!*p)
			break;
		w = strcspn(p, " \n");
		if (col > indent && col + 1 + (int)w > width) {
			fputc('\n', out);
			col = 0;
		}
		if (col == 0)
			col = fprintf(out, "%*s", indent, "");
		else
			col += fprintf(out, " ");
		col += fprintf(out, "%.*s", (int)w, p);
		p += w;
	}
	if (col)
		fputc('\n', out);
}

/*
 * An option row's facts, in the order both renderings give them: the role
 * first (the rest holds only within it), then required, secret, default,
 * range, choices.  `put` gets a label ("default: ") and the value, or NULL
 * for a bare label ("required"); `text` says the value is the plugin's
 * text (the man page escapes it) rather than digits of ours.
 */
typedef void (*fact_fn)(void *arg, const char *label, const char *value, int text);

static void option_facts(const struct tp_option *o, fact_fn put, void *arg)
{
	char range[64];

	if (o->when)
		put(arg, "only with ", o->when, 1);
	if (o->flags & TP_OPT_REQUIRED)
		put(arg, "required", NULL, 0);
	if (o->flags & TP_OPT_SECRET)
		put(arg, "secret", NULL, 0);
	/* A secret's default would be printed into terminals and bug reports. */
	if (o->def && !(o->flags & TP_OPT_SECRET))
		put(arg, "default: ", o->def, 1);
	if (o->type == TP_OPT_INT && (o->min || o->max)) {
		snprintf(range, sizeof(range), "%lld..%lld", (long long)o->min, (long long)o->max);
		put(arg, "range: ", range, 0);
	}
	if (o->type == TP_OPT_ENUM && o->choices)
		put(arg, "choices: ", o->choices, 1);
}

struct attrs {
	char s[512];
	size_t off;
};

/* `inspect`: the facts on one line, comma-separated. */
static void text_fact(void *arg, const char *label, const char *value, int text)
{
	struct attrs *a = arg;

	(void)text;
	if (a->off < sizeof(a->s))
		a->off += (size_t)snprintf(a->s + a->off, sizeof(a->s) - a->off, "%s%s%s",
					   a->off ? ", " : "", label, value ? value : "");
}

static void print_option(FILE *out, const struct tp_option *o)
{
	struct attrs a = { "", 0 };

	option_facts(o, text_fact, &a);
	if (a.s[0])
		fprintf(out, "  %-20s %-12s %s\n", o->name, tp_opt_type_name(o->type), a.s);
	else
		fprintf(out, "  %-20s %s\n", o->name, tp_opt_type_name(o->type));
	if (o->help)
		wrap(out, o->help, HELP_INDENT, HELP_WIDTH);
}

static void print_side(FILE *out, const char *label, uint32_t mask, const char *none)
{
	char buf[128];

	if (mask)
		fprintf(out, "%-14s takes/gives %s\n", label, tp_data_name(mask, buf, sizeof(buf)));
	else
		fprintf(out, "%-14s none (%s)\n", label, none);
}

int tp_inspect_one(struct tp_loader *ld, const char *name, FILE *out)
{
	char err[1024];
	const struct tp_plugin *p = tp_loader_get(ld, name, err, sizeof(err));
	const struct tp_option *o;

	if (!p) {
		fprintf(out, "tunpipe inspect: %s\n", err);
		return 1;
	}
	fprintf(out, "%-14s %s\n", "Name:", p->name);
	fprintf(out, "%-14s %s\n", "File:", tp_loader_file(ld, name));
	fprintf(out, "%-14s %s\n", "Kind:", kind_name(p->kind));
	fprintf(out, "%-14s %s\n", "Description:", p->description);
	fprintf(out, "%-14s %u.%u\n", "ABI version:", p->abi_major, p->abi_minor);
	print_side(out, "Top side:", p->top, "top endpoint");
	print_side(out, "Bottom side:", p->bottom, "bottom endpoint");
	fprintf(out, "%-14s %u bytes\n", "Headroom:", p->headroom);
	fprintf(out, "%-14s %u bytes\n", "Tailroom:", p->tailroom);
	if (p->flags & TP_PLUGIN_LOCAL_ONLY)
		fprintf(out, "%-14s local only (not part of the stack the peers agree on)\n", "Wire:");
	if (p->framing)
		fprintf(out, "%-14s core service, frame length from the first %u bytes\n",
			"Framing:", p->framing->hdr_bytes);
	fprintf(out, "\nOptions:\n");
	if (!p->options || p->options[0].type == TP_OPT_END) {
		fprintf(out, "  (none)\n");
		return 0;
	}
	fprintf(out, "  %-20s %-12s %s\n", "NAME", "TYPE", "DETAILS");
	for (o = p->options; o->type != TP_OPT_END; o++)
		print_option(out, o);
	return 0;
}

/* ------------------------------------------------------------------------
 * tp_inspect_man: the same descriptors as roff, for tunpipe.conf(5).
 * ------------------------------------------------------------------------ */

/* Text as roff: a backslash printed as such, a hyphen as \- (so names
 * copied from the page work in a UTF-8 terminal), and a leading dot or
 * quote kept from being read as a request. */
static void roff_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else if (*s == '\n')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

/* tunpipe.conf(5): the same facts after the type, semicolon-separated. */
static void man_fact(void *arg, const char *label, const char *value, int text)
{
	FILE *out = arg;

	fprintf(out, "; %s", label);
	if (value && text)
		roff_text(out, value);
	else if (value)
		fputs(value, out);
}

/* "(type; facts)" then the help. */
static void man_option(FILE *out, const struct tp_option *o)
{
	fputs(".TP\n.B ", out);
	roff_text(out, o->name);
	fputs("\n(\\fI", out);
	roff_text(out, tp_opt_type_name(o->type));
	fputs("\\fR", out);
	option_facts(o, man_fact, out);
	fputs(")\n", out);
	if (o->help) {
		fputs(".br\n", out);
		roff_text(out, o->help);
		fputc('\n', out);
	}
}

static void man_plugin(FILE *out, const char *name, const struct tp_plugin *p)
{
	char top[128], bottom[128];
	const struct tp_option *o;
	size_t n;

	fputs(".SS ", out);
	roff_text(out, name);
	fputc('\n', out);
	roff_text(out, p->description);
	n = strlen(p->description);
	fputs(n && p->description[n - 1] == '.' ? "\n.br\nA " : ".\n.br\nA ", out);
	fputs(kind_name(p->kind), out);
	fprintf(out, "; top side: %s; bottom side: %s.\n",
		p->top ? tp_data_name(p->top, top, sizeof(top)) : "none",
		p->bottom ? tp_data_name(p->bottom, bottom, sizeof(bottom)) : "none");
	if (!p->options || p->options[0].type == TP_OPT_END) {
		fputs("No options.\n", out);
		return;
	}
	for (o = p->options; o->type != TP_OPT_END; o++)
		man_option(out, o);
}

struct man_ctx {
	FILE *out;
	int failed;
};

static void man_each(void *arg, const char *name, const char *file, const struct tp_plugin *p,
		     const char *err)
{
	struct man_ctx *mc = arg;

	if (p) {
		man_plugin(mc->out, name, p);
		return;
	}
	fprintf(stderr, "tunpipe inspect --man: %s\n", err ? err : file);
	mc->failed = 1;
}

int tp_inspect_man(struct tp_loader *ld, char *const *names, int n, FILE *out)
{
	struct man_ctx mc = { out, 0 };
	char err[1024];
	int i;

	if (n == 0) {
		if (tp_loader_each(ld, man_each, &mc) == 0) {
			fprintf(stderr, "tunpipe inspect --man: no plugins found\n");
			return 1;
		}
		return mc.failed;
	}
	for (i = 0; i < n; i++) {
		const struct tp_plugin *p = tp_loader_get(ld, names[i], err, sizeof(err));

		if (!p) {
			fprintf(stderr, "tunpipe inspect --man: %s\n", err);
			return 1;
		}
		man_plugin(out, names[i], p);
	}
	return 0;
}
