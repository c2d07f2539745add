# SPDX-License-Identifier: MIT
# tun plugin: the top endpoint (a TUN device configured through netlink).
pkglib_LTLIBRARIES += plugins/tun/tun.la
plugins_tun_tun_la_SOURCES = \
	plugins/tun/tun.c plugins/tun/tun.h \
	plugins/tun/apply.c \
	plugins/tun/pin.c plugins/tun/cover.c plugins/tun/cover.h \
	plugins/tun/dns.c plugins/tun/hooks.c plugins/tun/hookenv.c plugins/tun/hookenv.h \
	plugins/tun/resolv.c plugins/tun/resolv.h \
	plugins/tun/run.c plugins/tun/run.h \
	plugins/tun/netlink.c plugins/tun/netlink.h \
	plugins/tun/prefix.c plugins/tun/prefix.h \
	core/gso.c core/gso.h \
	plugins/tun/gro.c plugins/tun/gro.h \
	plugins/tun/offload.c
plugins_tun_tun_la_CFLAGS = $(AM_CFLAGS) $(MNL_CFLAGS) -I$(top_srcdir)/core
plugins_tun_tun_la_LIBADD = $(MNL_LIBS)
plugins_tun_tun_la_LDFLAGS = $(TP_MODULE_FLAGS)
EXTRA_DIST += plugins/tun/README.md

# Unit test: option parsing, netlink helpers and the plugin's data path
# through the plugin harness, in a private network namespace (needs root for the
# device parts; without it only the parsing tests run).
check_PROGRAMS += tests/unit/test_tun_netlink
TESTS += tests/unit/test_tun_netlink
tests_unit_test_tun_netlink_SOURCES = tests/unit/test_tun_netlink.c tests/unit/check-main.c \
	plugins/tun/prefix.c
tests_unit_test_tun_netlink_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tun -I$(top_srcdir)/tests
tests_unit_test_tun_netlink_CFLAGS = $(AM_CFLAGS) $(MNL_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_tun_netlink_LDADD = tests/libtpharness.la $(CHECK_LIBS)

# End-to-end: the real daemon with tun in a namespace it creates.
TESTS += tests/e2e/test-tun.sh
dist_noinst_SCRIPTS += tests/e2e/test-tun.sh

# End-to-end: IPv6-only tunnel over an IPv6 underlay; -t refusals.
TESTS += tests/e2e/test-ipv6only.sh
dist_noinst_SCRIPTS += tests/e2e/test-ipv6only.sh

# Unit test: the server's address from the peer string, route cover.
check_PROGRAMS += tests/unit/test_tun_cover
TESTS += tests/unit/test_tun_cover
tests_unit_test_tun_cover_SOURCES = tests/unit/test_tun_cover.c tests/unit/check-main.c \
	plugins/tun/cover.c plugins/tun/prefix.c
tests_unit_test_tun_cover_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tun
tests_unit_test_tun_cover_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_tun_cover_LDADD = $(CHECK_LIBS)

# End-to-end: full tunnel behind a router, host route to the server.
TESTS += tests/e2e/test-fulltunnel.sh
dist_noinst_SCRIPTS += tests/e2e/test-fulltunnel.sh

# Unit test: the environment of the up/down hooks.
check_PROGRAMS += tests/unit/test_tun_hookenv
TESTS += tests/unit/test_tun_hookenv
tests_unit_test_tun_hookenv_SOURCES = tests/unit/test_tun_hookenv.c tests/unit/check-main.c \
	plugins/tun/hookenv.c plugins/tun/prefix.c
tests_unit_test_tun_hookenv_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tun
tests_unit_test_tun_hookenv_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_tun_hookenv_LDADD = $(CHECK_LIBS)

# Unit test: the resolv.conf of dns = file (what a push replaces).
check_PROGRAMS += tests/unit/test_tun_resolv
TESTS += tests/unit/test_tun_resolv
tests_unit_test_tun_resolv_SOURCES = tests/unit/test_tun_resolv.c tests/unit/check-main.c \
	plugins/tun/resolv.c
tests_unit_test_tun_resolv_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tun
tests_unit_test_tun_resolv_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_tun_resolv_LDADD = $(CHECK_LIBS)

# End-to-end: pushed DNS (resolv.conf in the namespace, crash recovery,
# Debian's resolvconf) and up/down hooks.
TESTS += tests/e2e/test-dns.sh tests/e2e/test-hooks.sh
dist_noinst_SCRIPTS += tests/e2e/test-dns.sh tests/e2e/test-hooks.sh

# Unit test: the 101 answer of an IPv6-only tunnel and the search domains
# header (tls-http's handshake.c, the wire side of these tun features).
check_PROGRAMS += tests/unit/test_hs_v6search
TESTS += tests/unit/test_hs_v6search
tests_unit_test_hs_v6search_SOURCES = tests/unit/test_hs_v6search.c tests/unit/check-main.c \
	plugins/tls-http/http.c plugins/tls-http/handshake.c plugins/tls-http/auth.c
tests_unit_test_hs_v6search_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_hs_v6search_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_hs_v6search_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)

# Unit test: segmentation and coalescing against a reference checksum, and
# the plugin with offloads on against the real kernel (device part: root).
check_PROGRAMS += tests/unit/test_offload
TESTS += tests/unit/test_offload
tests_unit_test_offload_SOURCES = tests/unit/test_offload.c tests/unit/check-main.c \
	plugins/tun/gro.c
tests_unit_test_offload_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tun -I$(top_srcdir)/core -I$(top_srcdir)/tests
tests_unit_test_offload_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_offload_LDADD = tests/libtpharness.la $(CHECK_LIBS)

# End-to-end: offloads on through the default stack, IPv4 and IPv6.
TESTS += tests/e2e/test-offload.sh
dist_noinst_SCRIPTS += tests/e2e/test-offload.sh
