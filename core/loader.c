/* SPDX-License-Identifier: MIT */
/*
 * loader.c — finding plugin modules on the search path, dlopen()ing them
 * and refusing descriptors this core cannot use.
 *
 * What a plugin wrote is checked and copied in descriptor.c: the loader
 * hands out the core's copy (struct tp_import), never the plugin's own
 * descriptor.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "descriptor.h"
#include "loader.h"
#include "log.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/tunpipe"
#endif

struct lplugin {
	struct lplugin *next;
	char *name;
	char *file;
	void *dl;
	struct tp_import im; /* the core's copy of its descriptor */
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
		tp_import_release(&lp->im);
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

/*
 * $TUNPIPE_PLUGIN_PATH, unless we run as root: code loaded from a
 * directory named by the environment would run with every privilege, so
 * a root process honours it only when TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1
 * says the caller means it (the test suite, a developer).
 */
static const char *env_plugin_path(void)
{
	const char *env = getenv("TUNPIPE_PLUGIN_PATH"), *ok;

	if (!env || !*env || geteuid() != 0)
		return env;
	ok = getenv("TUNPIPE_ALLOW_ROOT_PLUGIN_PATH");
	if (ok && strcmp(ok, "1") == 0)
		return env;
	tp_log(TP_LOG_WARN, "loader",
	       "ignoring TUNPIPE_PLUGIN_PATH=%s: running as root (set "
	       "TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1 to use it anyway, or plugin_path in the config)",
	       env);
	return NULL;
}

void tp_loader_add_default_paths(struct tp_loader *ld)
{
	const char *env;

	if (ld->defaults_added)
		return;
	ld->defaults_added = 1;
	env = env_plugin_path();
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
	if (tp_import(&lp->im, p, file, err, errlen) < 0)
		goto fail;
	lp->dl = dl;
	lp->next = ld->plugins;
	ld->plugins = lp;
	return &lp->im.desc;
fail:
	if (lp) {
		tp_import_release(&lp->im);
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
		return &lp->im.desc;
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
