/*
 * loader.c — finding plugin modules on the search path, dlopen()ing them
 * and refusing descriptors this core cannot use.
 *
 * Descriptors are checked before anything else touches them: a plugin
 * built for another ABI major may have a different struct layout, so for
 * that case only the leading version fields are read and messages name the
 * plugin by its file name.
 *
 * The core never reads a plugin's descriptor past the plugin's `size`:
 * what tp_loader_get() hands out is a core-owned copy as long as the
 * core's struct, zero beyond what the plugin wrote, with its option table
 * (read with the plugin's row stride) and its framing copied the same way.
 * A framer's copy gets the core's framing glue (framer.c) as callbacks.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "framer.h"
#include "loader.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/tunpipe"
#endif

/* The descriptor as ABI 1.0 defines it ends with wire_id. */
#define TP_PLUGIN_SIZE_1_0 \
	(offsetof(struct tp_plugin, wire_id) + sizeof(((struct tp_plugin *)0)->wire_id))

/* An option row as ABI 1.0 defines it ends before `when`; 1.1's ends
 * with it. */
#define TP_OPTION_SIZE_1_0 offsetof(struct tp_option, when)
#define TP_OPTION_SIZE_1_1 (offsetof(struct tp_option, when) + sizeof(const char *))
#define MAX_ROWS 1024 /* a table without TP_OPTIONS_END is a plugin bug */

struct lplugin {
	struct lplugin *next;
	char *name;
	char *file;
	void *dl;
	const struct tp_plugin *p;   /* &desc */
	struct tp_plugin desc;       /* core copy, padded */
	struct tp_framer_class fc;   /* a framer's own callbacks and format */
	struct tp_framer_table *tbl; /* the converted option table */
};

struct tp_loader {
	char **dirs;
	size_t ndirs, cap;
	int defaults_added;
	struct lplugin *plugins;
};

struct tp_loader *tp_loader_new(void)
{
	return calloc(1, sizeof(struct tp_loader));
}

void tp_loader_free(struct tp_loader *ld)
{
	struct lplugin *lp, *next;
	size_t i;

	if (!ld)
		return;
	for (lp = ld->plugins; lp; lp = next) {
		next = lp->next;
		dlclose(lp->dl);
		free(lp->tbl);
		free(lp->name);
		free(lp->file);
		free(lp);
	}
	for (i = 0; i < ld->ndirs; i++)
		free(ld->dirs[i]);
	free(ld->dirs);
	free(ld);
}

static void add_dir(struct tp_loader *ld, const char *dir, size_t len)
{
	size_t i;
	char *copy;

	if (len == 0)
		return;
	for (i = 0; i < ld->ndirs; i++)
		if (strlen(ld->dirs[i]) == len && strncmp(ld->dirs[i], dir, len) == 0)
			return; /* searched already: keep the first position */
	if (ld->ndirs == ld->cap) {
		size_t cap = ld->cap ? ld->cap * 2 : 8;
		char **dirs = realloc(ld->dirs, cap * sizeof(*dirs));
		if (!dirs)
			return;
		ld->dirs = dirs;
		ld->cap = cap;
	}
	if ((copy = strndup(dir, len)))
		ld->dirs[ld->ndirs++] = copy;
}

void tp_loader_add_path(struct tp_loader *ld, const char *dirs)
{
	const char *p = dirs, *colon;

	while (p && *p) {
		colon = strchr(p, ':');
		add_dir(ld, p, colon ? (size_t)(colon - p) : strlen(p));
		p = colon ? colon + 1 : NULL;
	}
}

void tp_loader_add_default_paths(struct tp_loader *ld)
{
	const char *env = getenv("TUNPIPE_PLUGIN_PATH");

	if (ld->defaults_added)
		return;
	ld->defaults_added = 1;
	if (env)
		tp_loader_add_path(ld, env);
	tp_loader_add_path(ld, PKGLIBDIR);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Candidate `which` (0..3) for plugin `name` in `dir`: DIR/NAME.so,
 * DIR/.libs/NAME.so, DIR/NAME/.libs/NAME.so, DIR/NAME/NAME.so. */
static int candidate(char *buf, size_t len, const char *dir, const char *name, int which)
{
	int n;

	switch (which) {
	case 0: n = snprintf(buf, len, "%s/%s.so", dir, name); break;
	case 1: n = snprintf(buf, len, "%s/.libs/%s.so", dir, name); break;
	case 2: n = snprintf(buf, len, "%s/%s/.libs/%s.so", dir, name, name); break;
	default: n = snprintf(buf, len, "%s/%s/%s.so", dir, name, name); break;
	}
	return n > 0 && (size_t)n < len;
}

/* The first candidate file for `name` on the path, into buf; 0 or -1. */
static int find_file(struct tp_loader *ld, const char *name, char *buf, size_t len)
{
	size_t i;
	int j;

	for (i = 0; i < ld->ndirs; i++)
		for (j = 0; j < 4; j++)
			if (candidate(buf, len, ld->dirs[i], name, j) && is_file(buf))
				return 0;
	return -1;
}

/* "framer-ip" from ".../framer-ip.so". */
static void file_stem(const char *file, char *buf, size_t len)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base ? base + 1 : file;
	n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".so") == 0)
		n -= 3;
	snprintf(buf, len, "%.*s", (int)n, base);
}

static int valid_mask(uint32_t m)
{
	return m != 0 && (m & ~(uint32_t)(TP_DATA_IP | TP_DATA_MSG | TP_DATA_STREAM)) == 0;
}

/* The fields every version has: ABI major, minor and the size 1.0 needs. */
static int check_version(const struct tp_plugin *p, const char *file, const char *stem,
			 char *err, size_t errlen)
{
	if (!p) {
		snprintf(err, errlen, "%s: no plugin descriptor", file);
		return -1;
	}
	if (p->abi_major != TP_ABI_MAJOR) {
		snprintf(err, errlen, "%s: plugin '%s' was built for plugin ABI %u.%u; this tunpipe "
			 "supports %d.%d (major versions must match)", file, stem, p->abi_major,
			 p->abi_minor, TP_ABI_MAJOR, TP_ABI_MINOR);
		return -1;
	}
	if (p->abi_minor > TP_ABI_MINOR) {
		snprintf(err, errlen, "%s: plugin '%s' was built for plugin ABI %u.%u; this tunpipe "
			 "supports %d.%d (built against a newer minor version)", file, stem,
			 p->abi_major, p->abi_minor, TP_ABI_MAJOR, TP_ABI_MINOR);
		return -1;
	}
	if (p->size < TP_PLUGIN_SIZE_1_0) {
		snprintf(err, errlen, "%s: plugin '%s': descriptor is %u bytes, ABI %d.0 needs at "
			 "least %zu", file, stem, p->size, TP_ABI_MAJOR, TP_PLUGIN_SIZE_1_0);
		return -1;
	}
	return 0;
}

int tp_plugin_check(const struct tp_plugin *p, const char *file, char *err, size_t errlen)
{
	char stem[256], table_err[512];
	const char *kind = "?";
	int top_ok, bottom_ok;

	file_stem(file, stem, sizeof(stem));
	if (check_version(p, file, stem, err, errlen) < 0)
		return -1;
	if (!p->name || strcmp(p->name, stem) != 0) {
		snprintf(err, errlen, "%s: descriptor name '%s' does not match the file name '%s'",
			 file, p->name ? p->name : "(null)", stem);
		return -1;
	}
	switch (p->kind) {
	case TP_KIND_SOURCE:
		kind = "source";
		top_ok = p->top == 0;
		bottom_ok = valid_mask(p->bottom);
		break;
	case TP_KIND_SINK:
		kind = "sink";
		top_ok = valid_mask(p->top);
		bottom_ok = p->bottom == 0;
		break;
	case TP_KIND_TRANSFORM:
		kind = "transform";
		top_ok = valid_mask(p->top);
		bottom_ok = valid_mask(p->bottom);
		break;
	default:
		snprintf(err, errlen, "%s: plugin '%s' has unknown kind %d", file, stem, (int)p->kind);
		return -1;
	}
	if (!top_ok || !bottom_ok) {
		snprintf(err, errlen, "%s: plugin '%s' is a %s but declares top=0x%x bottom=0x%x "
			 "(a source has no top side, a sink no bottom side, every other side needs "
			 "known TP_DATA_* bits)", file, stem, kind, p->top, p->bottom);
		return -1;
	}
	if (!p->description) {
		snprintf(err, errlen, "%s: plugin '%s' has no description", file, stem);
		return -1;
	}
	if (!p->create || !p->destroy) {
		snprintf(err, errlen, "%s: plugin '%s' has no %s callback", file, stem,
			 p->create ? "destroy" : "create");
		return -1;
	}
	if (tp_options_check_table(p->options, p->config_size, table_err, sizeof(table_err)) < 0) {
		snprintf(err, errlen, "%s: plugin '%s' has a bad option table: %s", file, stem,
			 table_err);
		return -1;
	}
	return 0;
}

static struct lplugin *cached(struct tp_loader *ld, const char *name)
{
	struct lplugin *lp;

	for (lp = ld->plugins; lp; lp = lp->next)
		if (strcmp(lp->name, name) == 0)
			return lp;
	return NULL;
}

/* "not found" with every directory searched, so a typo in plugin_path or
 * a missing `make` shows at once. */
static void not_found(struct tp_loader *ld, const char *name, char *err, size_t errlen)
{
	size_t i, off;

	off = (size_t)snprintf(err, errlen, "plugin '%s' not found; searched:", name);
	for (i = 0; i < ld->ndirs && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s %s", i ? "," : "", ld->dirs[i]);
	if (ld->ndirs == 0 && off < errlen)
		snprintf(err + off, errlen - off, " (no directories; set TUNPIPE_PLUGIN_PATH)");
}

/* Copy the option table `raw` with rows `stride` bytes apart into a table
 * of the core's rows (zero beyond `stride`); lp->tbl, always allocated. */
static int import_options(struct lplugin *lp, const struct tp_option *raw, size_t stride,
			  const char *file, char *err, size_t errlen)
{
	const unsigned char *row = (const unsigned char *)raw;
	size_t n = 0, i, take = stride < sizeof(struct tp_option) ? stride : sizeof(struct tp_option);

	/* `type` leads every row of every version: TP_OPT_END ends the table. */
	while (raw && ((const struct tp_option *)(row + n * stride))->type != TP_OPT_END)
		if (++n > MAX_ROWS) {
			snprintf(err, errlen, "%s: plugin '%s' has a bad option table: no "
				 "TP_OPTIONS_END within %d entries", file, lp->desc.name, MAX_ROWS);
			return -1;
		}
	lp->tbl = calloc(1, sizeof(*lp->tbl) + (n + 1) * sizeof(struct tp_option));
	if (!lp->tbl) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	lp->tbl->magic = TP_FRAMER_TABLE_MAGIC;
	for (i = 0; i < n; i++)
		memcpy(&lp->tbl->rows[i], row + i * stride, take);
	lp->desc.options = lp->tbl->rows;
	return 0;
}

/*
 * The core's copy of descriptor `raw` (checked for its version and 1.0
 * size first): padded to the core's struct, options converted, a framer's
 * glue installed, then checked in full.
 */
static int import(struct lplugin *lp, const struct tp_plugin *raw, const char *file, char *err,
		  size_t errlen)
{
	char stem[256], why[256];
	size_t stride;
	const struct tp_framing *fr;

	file_stem(file, stem, sizeof(stem));
	if (check_version(raw, file, stem, err, errlen) < 0)
		return -1;
	memcpy(&lp->desc, raw, raw->size < sizeof(lp->desc) ? raw->size : sizeof(lp->desc));
	/* 1.0 has no option_size: its rows end before `when`.  A 1.1 plugin
	 * that wrote its descriptor without TP_PLUGIN_DEFINE may have left it
	 * 0 too: its rows are 1.1's. */
	stride = lp->desc.option_size ? lp->desc.option_size
		 : lp->desc.abi_minor >= 1 ? TP_OPTION_SIZE_1_1 : TP_OPTION_SIZE_1_0;
	if (stride < TP_OPTION_SIZE_1_0) {
		snprintf(err, errlen, "%s: plugin '%s': option rows of %zu bytes, ABI %d.0 needs "
			 "at least %zu", file, stem, stride, TP_ABI_MAJOR, TP_OPTION_SIZE_1_0);
		return -1;
	}
	if (import_options(lp, raw->options, stride, file, err, errlen) < 0)
		return -1;
	lp->desc.option_size = sizeof(struct tp_option);
	if ((fr = lp->desc.framing)) {
		lp->fc.orig = lp->desc;
		memcpy(&lp->fc.framing, fr,
		       fr->size < sizeof(lp->fc.framing) ? fr->size : sizeof(lp->fc.framing));
		if (tp_framer_check(&lp->desc, &lp->fc.framing, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: plugin '%s': %s", file, stem, why);
			return -1;
		}
		lp->desc.framing = &lp->fc.framing;
		lp->tbl->fc = &lp->fc;
		tp_framer_install(&lp->desc, &lp->fc);
	}
	lp->p = &lp->desc;
	return tp_plugin_check(lp->p, file, err, errlen);
}

/* Load `file` as plugin `name`; on success it joins the cache. */
static const struct tp_plugin *load_file(struct tp_loader *ld, const char *name, const char *file,
					 char *err, size_t errlen)
{
	struct lplugin *lp = NULL;
	void *dl;
	const struct tp_plugin *p;

	if (!(dl = dlopen(file, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, errlen, "%s: cannot load: %s", file, dlerror());
		return NULL;
	}
	if (!(p = dlsym(dl, TP_PLUGIN_SYMBOL))) {
		snprintf(err, errlen, "%s: not a tunpipe plugin (no symbol '%s')", file,
			 TP_PLUGIN_SYMBOL);
		goto fail;
	}
	if (!(lp = calloc(1, sizeof(*lp))) || !(lp->name = strdup(name))
	    || !(lp->file = strdup(file))) {
		snprintf(err, errlen, "%s: out of memory", file);
		goto fail;
	}
	if (import(lp, p, file, err, errlen) < 0)
		goto fail;
	lp->dl = dl;
	lp->next = ld->plugins;
	ld->plugins = lp;
	return lp->p;
fail:
	if (lp) {
		free(lp->tbl);
		free(lp->file);
		free(lp->name);
		free(lp);
	}
	dlclose(dl);
	return NULL;
}

/* A name that cannot escape the search directories. */
static int valid_name(const char *name)
{
	return name && *name && name[0] != '.' && !strchr(name, '/') && strlen(name) < 128;
}

const struct tp_plugin *tp_loader_get(struct tp_loader *ld, const char *name, char *err,
				      size_t errlen)
{
	struct lplugin *lp;
	char file[4096];

	if (!valid_name(name)) {
		snprintf(err, errlen, "invalid plugin name '%s'", name ? name : "(null)");
		return NULL;
	}
	if ((lp = cached(ld, name)))
		return lp->p;
	if (find_file(ld, name, file, sizeof(file)) < 0) {
		not_found(ld, name, err, errlen);
		return NULL;
	}
	return load_file(ld, name, file, err, errlen);
}

const char *tp_loader_file(struct tp_loader *ld, const char *name)
{
	struct lplugin *lp = cached(ld, name);
	return lp ? lp->file : NULL;
}

/* ------------------------------------------------------------------------
 * tp_loader_each: every plugin name on the path, for `tunpipe inspect`.
 * ------------------------------------------------------------------------ */
struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *ns, const char *name, size_t len)
{
	size_t i;
	char *copy;

	for (i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == len && strncmp(ns->v[i], name, len) == 0)
			return;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return;
		ns->v = v;
		ns->cap = cap;
	}
	if ((copy = strndup(name, len)))
		ns->v[ns->n++] = copy;
}

/* Names of the *.so files in `dir`; with `want` set, only that one. */
static void scan_dir(struct names *ns, const char *dir, const char *want)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n <= 3 || strcmp(e->d_name + n - 3, ".so") != 0)
			continue;
		if (want && (strlen(want) != n - 3 || strncmp(want, e->d_name, n - 3) != 0))
			continue;
		names_add(ns, e->d_name, n - 3);
	}
	closedir(d);
}

/* The same layouts find_file() tries: DIR, DIR/.libs, DIR/NAME[/.libs]. */
static void scan_path_dir(struct names *ns, const char *dir)
{
	char sub[4096];
	DIR *d;
	struct dirent *e;

	scan_dir(ns, dir, NULL);
	snprintf(sub, sizeof(sub), "%s/.libs", dir);
	scan_dir(ns, sub, NULL);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s/.libs", dir, e->d_name);
		scan_dir(ns, sub, e->d_name);
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		scan_dir(ns, sub, e->d_name);
	}
	closedir(d);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tp_loader_each(struct tp_loader *ld, tp_loader_each_cb cb, void *arg)
{
	struct names ns = { NULL, 0, 0 };
	char err[1024], file[4096];
	size_t i;
	int count = 0;

	for (i = 0; i < ld->ndirs; i++)
		scan_path_dir(&ns, ld->dirs[i]);
	if (ns.n)
		qsort(ns.v, ns.n, sizeof(*ns.v), cmp_names);
	for (i = 0; i < ns.n; i++) {
		const struct tp_plugin *p;

		err[0] = '\0';
		if (!valid_name(ns.v[i]) || find_file(ld, ns.v[i], file, sizeof(file)) < 0)
			continue;
		p = tp_loader_get(ld, ns.v[i], err, sizeof(err));
		cb(arg, ns.v[i], file, p, p ? NULL : err);
		count++;
	}
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	return count;
}
