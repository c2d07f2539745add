# SPDX-License-Identifier: MIT
# Man pages.  tunpipe(8) and tunpipe-plugin(7) are written by hand, with the
# configured paths filled in; tunpipe.conf(5) is a hand-written head and
# tail around the PLUGINS section that the freshly built `tunpipe inspect
# --man` writes from the option tables of the plugins this build installs,
# so the page cannot drift from them.  All are made in the build directory
# (a read-only source tree under distcheck is fine) and none is shipped
# made: a tarball always regenerates them.
man8_MANS = man/tunpipe.8
man7_MANS = man/tunpipe-plugin.7
man5_MANS = man/tunpipe.conf.5
EXTRA_DIST += man/tunpipe.8.in man/tunpipe-plugin.7.in \
	man/tunpipe.conf.5.head.in man/tunpipe.conf.5.tail.in
CLEANFILES += $(man8_MANS) $(man7_MANS) $(man5_MANS) man/tunpipe.conf.5.tmp

# The plugins this build installs, by name (tun, tls-http, …).
TP_SHIPPED_PLUGINS = $(basename $(notdir $(pkglib_LTLIBRARIES)))

tp_man_subst = sed -e 's|@VERSION[@]|$(VERSION)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@pkglibdir[@]|$(pkglibdir)|g' \
	-e 's|@docdir[@]|$(docdir)|g' -e 's|@includedir[@]|$(includedir)|g'

man/tunpipe.8: $(srcdir)/man/tunpipe.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(tp_man_subst) $(srcdir)/man/tunpipe.8.in >$@
man/tunpipe-plugin.7: $(srcdir)/man/tunpipe-plugin.7.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(tp_man_subst) $(srcdir)/man/tunpipe-plugin.7.in >$@
# Only the build tree's plugins: TUNPIPE_PLUGIN_PATH points there, and the
# names are those of pkglib_LTLIBRARIES (an installed tunpipe's plugins in
# $(pkglibdir) come later on the path and are never reached).
man/tunpipe.conf.5: $(srcdir)/man/tunpipe.conf.5.head.in $(srcdir)/man/tunpipe.conf.5.tail.in \
		core/tunpipe$(EXEEXT) $(pkglib_LTLIBRARIES) Makefile
	$(AM_V_GEN)$(MKDIR_P) man && { \
	  $(tp_man_subst) $(srcdir)/man/tunpipe.conf.5.head.in && \
	  TUNPIPE_PLUGIN_PATH='$(abs_top_builddir)/plugins' \
	    core/tunpipe$(EXEEXT) inspect --man $(TP_SHIPPED_PLUGINS) && \
	  $(tp_man_subst) $(srcdir)/man/tunpipe.conf.5.tail.in; \
	} >man/tunpipe.conf.5.tmp && mv man/tunpipe.conf.5.tmp $@
