# SPDX-License-Identifier: MIT
# The core: a convenience library (also linked by the unit tests and the
# plugin harness) plus the tunpipe program.
noinst_LTLIBRARIES += core/libtpcore.la
core_libtpcore_la_SOURCES = \
	core/log.c core/log.h \
	core/loop.c core/loop.h core/timers.c core/timers.h \
	core/buf.c core/buf.h \
	core/conf.c core/conf.h core/conf-status.c core/options.c core/optset.c \
	core/loader.c core/loader.h core/descriptor.c core/descriptor.h \
	core/inspect.c core/inspect.h \
	core/addrpool.c core/addrpool.h \
	core/router.c core/router.h \
	core/counter.c core/counter.h \
	core/stage.c core/stage.h core/stage-queue.c core/stage-queue.h \
	core/session.c core/session.h \
	core/host.c core/host.h \
	core/pipeline.c core/pipeline.h \
	core/reconf.c core/reconf.h \
	core/deframe.c core/deframe.h \
	core/framer.c core/framer.h \
	core/gso.c core/gso.h core/super.c core/super.h \
	core/srv.c core/srv.h core/status.c core/status.h \
	core/control.c core/control.h core/metrics.c core/metrics.h
core_libtpcore_la_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
core_libtpcore_la_LIBADD = $(LIBCONFIG_LIBS) $(LIBS)
# Running as a service: sd_notify readiness, the privilege drop (libcap-ng).
core_libtpcore_la_SOURCES += core/notify.c core/notify.h core/privdrop.c core/privdrop.h
core_libtpcore_la_CFLAGS += $(CAPNG_CFLAGS)
core_libtpcore_la_LIBADD += $(CAPNG_LIBS)

sbin_PROGRAMS += core/tunpipe
core_tunpipe_SOURCES = core/main.c core/connect.c core/connect.h
core_tunpipe_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
core_tunpipe_LDADD = core/libtpcore.la
# Plugins resolve nothing from us, but keep the binary's symbols private.
EXTRA_DIST += core/README.md
