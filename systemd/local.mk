# SPDX-License-Identifier: MIT
# systemd: the tunpipe@.service template, its paths filled in by make (so
# they follow --prefix/--sbindir/--sysconfdir), installed into
# --with-systemdsystemunitdir.
systemd/tunpipe@.service: $(srcdir)/systemd/tunpipe@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/systemd/tunpipe@.service.in >$@.tmp && mv $@.tmp $@
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = systemd/tunpipe@.service
endif
EXTRA_DIST += systemd/tunpipe@.service.in
CLEANFILES += systemd/tunpipe@.service
# distcheck installs into its own prefix: keep the unit there too.
AM_DISTCHECK_CONFIGURE_FLAGS += --with-systemdsystemunitdir='$${prefix}/lib/systemd/system'

# `systemd-analyze verify` on the unit, pointed at this build's binary.
TESTS += systemd/test-systemd-unit.sh
dist_noinst_SCRIPTS += systemd/test-systemd-unit.sh
check_DATA = systemd/tunpipe@.service

# The sd_notify datagrams, on sockets the test binds itself.
check_PROGRAMS += tests/unit/test_notify
TESTS += tests/unit/test_notify
tests_unit_test_notify_SOURCES = tests/unit/test_notify.c tests/unit/check-main.c
tests_unit_test_notify_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_notify_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

# Privilege drop and readiness, end to end in namespaces (root).
TESTS += tests/e2e/test-privdrop.sh
dist_noinst_SCRIPTS += tests/e2e/test-privdrop.sh

# log_target, user, group: parsing, messages, name look-ups.
check_PROGRAMS += tests/unit/test_service_conf
TESTS += tests/unit/test_service_conf
tests_unit_test_service_conf_SOURCES = tests/unit/test_service_conf.c tests/unit/check-main.c \
	tests/unit/conf-check.h
tests_unit_test_service_conf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_service_conf_LDADD = core/libtpcore.la $(CHECK_LIBS) $(LIBCONFIG_LIBS)

# Journal priority prefixes and log_target = "syslog" with the real daemon.
TESTS += tests/e2e/test-logtarget.sh
dist_noinst_SCRIPTS += tests/e2e/test-logtarget.sh

# The unit's SystemCallFilter= against the calls the daemon makes (strace).
TESTS += tests/e2e/test-syscalls.sh
dist_noinst_SCRIPTS += tests/e2e/test-syscalls.sh
