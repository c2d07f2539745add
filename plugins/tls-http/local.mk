# SPDX-License-Identifier: MIT
# tls-http: the Simple-VPN transport (TLS + HTTP/1.1 upgrade), client and server.
pkglib_LTLIBRARIES += plugins/tls-http/tls-http.la
plugins_tls_http_tls_http_la_SOURCES = \
	plugins/tls-http/tls-http.c plugins/tls-http/tls-http.h \
	plugins/tls-http/conn.c plugins/tls-http/conn-io.c plugins/tls-http/conn.h \
	plugins/tls-http/link.c plugins/tls-http/util.c plugins/tls-http/budget.c \
	plugins/tls-http/server.c plugins/tls-http/client.c plugins/tls-http/certnames.c plugins/tls-http/resolve.c \
	plugins/tls-http/client-proxy.c plugins/tls-http/client-proxy.h \
	plugins/tls-http/race.c plugins/tls-http/race.h \
	plugins/tls-http/httpconnect.c plugins/tls-http/httpconnect.h \
	plugins/tls-http/proxyenv.c plugins/tls-http/proxyenv.h \
	plugins/tls-http/svpn-server.c plugins/tls-http/svpn-server.h plugins/tls-http/svpn-auth.c \
	plugins/tls-http/svpn-client.c \
	plugins/tls-http/svpn-check.c plugins/tls-http/svpn-offload.h \
	plugins/tls-http/proxyproto.c plugins/tls-http/proxyproto.h plugins/tls-http/proxy-accept.c \
	plugins/tls-http/fwd.c plugins/tls-http/fwd.h plugins/tls-http/front.c plugins/tls-http/fallback.c \
	plugins/tls-http/handshake.c plugins/tls-http/handshake.h \
	plugins/tls-http/http.c plugins/tls-http/http.h \
	plugins/tls-http/auth.c plugins/tls-http/auth.h \
	plugins/tls-http/authworker.c plugins/tls-http/authworker.h \
	plugins/tls-http/authcache.c plugins/tls-http/authcache.h
plugins_tls_http_tls_http_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -fvisibility=hidden $(PTHREAD_CFLAGS)
plugins_tls_http_tls_http_la_LIBADD = $(OPENSSL_LIBS) $(CRYPT_LIBS)
plugins_tls_http_tls_http_la_LDFLAGS = $(TP_MODULE_FLAGS) $(PTHREAD_LIBS)
EXTRA_DIST += plugins/tls-http/README.md

# Pure protocol code, tested without sockets or the core.
check_PROGRAMS += tests/unit/test_http tests/unit/test_auth
TESTS += tests/unit/test_http tests/unit/test_auth
tests_unit_test_http_SOURCES = tests/unit/test_http.c tests/unit/check-main.c \
	plugins/tls-http/http.c plugins/tls-http/handshake.c plugins/tls-http/auth.c
tests_unit_test_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_http_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c tests/unit/check-main.c plugins/tls-http/auth.c
tests_unit_test_auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_auth_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_auth_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)

# The auth worker thread on its own: queue, eventfd, cancellation, shutdown.
check_PROGRAMS += tests/unit/test_authworker
TESTS += tests/unit/test_authworker
tests_unit_test_authworker_SOURCES = tests/unit/test_authworker.c tests/unit/check-main.c \
	plugins/tls-http/authworker.c plugins/tls-http/auth.c
tests_unit_test_authworker_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_authworker_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_authworker_LDFLAGS = $(PTHREAD_LIBS)
tests_unit_test_authworker_LDADD = $(CHECK_LIBS) $(CRYPT_LIBS)

# The plugin itself over loopback TLS, server and client in two harnesses.
check_PROGRAMS += tests/unit/test_tls_http
TESTS += tests/unit/test_tls_http
# handshake.c (and what it needs) is compiled in to check the error answers
# directly; the plugin's own copy is dlopen()ed RTLD_LOCAL with hidden
# symbols, so the two never clash.
tests_unit_test_tls_http_SOURCES = tests/unit/test_tls_http.c tests/unit/check-main.c \
	plugins/tls-http/handshake.c plugins/tls-http/http.c plugins/tls-http/auth.c
tests_unit_test_tls_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_tls_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_tls_http_LDADD = tests/libtpharness.la $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)
EXTRA_tests_unit_test_tls_http_DEPENDENCIES = plugins/tls-http/tls-http.la

# A frozen client flooded with 64-byte packets must not drain the shared
# buffer pool (queue_limit charges whole buffers): tests/e2e, needs root.
TESTS += tests/e2e/test-smallflood.sh
EXTRA_DIST += tests/e2e/test-smallflood.sh

# Many wrong-password logins (bcrypt) while another session pings: the
# checks run off the loop, so no ping is lost or delayed.  Needs root.
TESTS += tests/e2e/test-authload.sh
EXTRA_DIST += tests/e2e/test-authload.sh

# The TLS byte stream alone (conn.h): a test-only sink wrapping it, driven
# in the harness against a TLS peer that counts the records on the wire
# (coalesced full records, one record per buffer in frame mode, reads up,
# close, the deadline).
check_LTLIBRARIES += tests/plugins/tls-stream-probe.la
tests_plugins_tls_stream_probe_la_SOURCES = tests/plugins/tls-stream-probe.c \
	plugins/tls-http/conn.c plugins/tls-http/conn-io.c plugins/tls-http/conn.h
tests_plugins_tls_stream_probe_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_plugins_tls_stream_probe_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -fvisibility=hidden
tests_plugins_tls_stream_probe_la_LIBADD = $(OPENSSL_LIBS)
tests_plugins_tls_stream_probe_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
check_PROGRAMS += tests/unit/test_tls_stream
TESTS += tests/unit/test_tls_stream
tests_unit_test_tls_stream_SOURCES = tests/unit/test_tls_stream.c tests/unit/check-main.c
tests_unit_test_tls_stream_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_tls_stream_LDADD = tests/libtpharness.la $(CHECK_LIBS) $(OPENSSL_LIBS)
EXTRA_tests_unit_test_tls_stream_DEPENDENCIES = tests/plugins/tls-stream-probe.la

# Fair sharing among sessions: ten frozen sessions flooded leave the pool
# and another user's ping alone; one session flooding 20-byte packets
# (tests/e2e/tinyflood.c, a raw socket) does not slow another's ping.
check_PROGRAMS += tests/e2e/tinyflood
tests_e2e_tinyflood_SOURCES = tests/e2e/tinyflood.c
TESTS += tests/e2e/test-fairshare.sh
EXTRA_DIST += tests/e2e/test-fairshare.sh

# What the client accepts from a 101 (svpn-check.c), from raw answers.
check_PROGRAMS += tests/unit/test_svpn_check
TESTS += tests/unit/test_svpn_check
tests_unit_test_svpn_check_SOURCES = tests/unit/test_svpn_check.c tests/unit/check-main.c \
	plugins/tls-http/svpn-check.c plugins/tls-http/http.c plugins/tls-http/handshake.c \
	plugins/tls-http/auth.c
tests_unit_test_svpn_check_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_svpn_check_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_svpn_check_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)

# Hostile logins and users-file changes (issue 10): attackers and victims
# in their own namespaces; hostile.py plays both.  Needs root and python3.
TESTS += tests/e2e/test-hostile-login.sh tests/e2e/test-hostile-users.sh
EXTRA_DIST += tests/e2e/test-hostile-login.sh tests/e2e/test-hostile-users.sh \
	tests/e2e/hostile.py
# The e2e lock the hostile tests take exclusively (tests/e2e/lib.sh).
CLEANFILES += .tunpipe-e2e.lock

# The PROXY protocol header parser (proxyproto.c), pure code.
check_PROGRAMS += tests/unit/test_proxyproto
TESTS += tests/unit/test_proxyproto
tests_unit_test_proxyproto_SOURCES = tests/unit/test_proxyproto.c tests/unit/check-main.c \
	plugins/tls-http/proxyproto.c
tests_unit_test_proxyproto_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_proxyproto_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_proxyproto_LDADD = $(CHECK_LIBS)

# Behind real HAProxy 2.6 (send-proxy-v2 and send-proxy, TCP mode): real
# client addresses in logs and status, the login limiter per client, a
# PROXY header from an untrusted address refused.  Needs root and haproxy.
TESTS += tests/e2e/test-haproxy.sh
EXTRA_DIST += tests/e2e/test-haproxy.sh

# `tunpipe connect`: the client's permanent errors, progress lines and
# address fallback, end to end.
TESTS += tests/e2e/test-connect.sh
dist_noinst_SCRIPTS += tests/e2e/test-connect.sh

# `tunpipe connect`'s url and the certificate names a refused client reports.
check_PROGRAMS += tests/unit/test_connect
TESTS += tests/unit/test_connect
tests_unit_test_connect_SOURCES = tests/unit/test_connect.c tests/unit/check-main.c \
	core/connect.c plugins/tls-http/certnames.c plugins/tls-http/svpn-check.c \
	plugins/tls-http/handshake.c plugins/tls-http/http.c plugins/tls-http/auth.c
tests_unit_test_connect_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http -I$(top_srcdir)/core
tests_unit_test_connect_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_connect_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)

# The client's HTTP proxy code without sockets: the CONNECT answer parser
# (httpconnect.c), the proxy URL and the no_proxy matcher (proxyenv.c;
# its prefixes are handshake.c's).
check_PROGRAMS += tests/unit/test_httpconnect
TESTS += tests/unit/test_httpconnect
tests_unit_test_httpconnect_SOURCES = tests/unit/test_httpconnect.c tests/unit/check-main.c \
	plugins/tls-http/httpconnect.c plugins/tls-http/proxyenv.c plugins/tls-http/http.c \
	plugins/tls-http/util.c plugins/tls-http/handshake.c plugins/tls-http/auth.c
tests_unit_test_httpconnect_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_httpconnect_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_httpconnect_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)

# Through a real HTTP proxy (Debian's tinyproxy) in its own namespace, the
# client's namespace having no route to the server.  Needs root, tinyproxy.
TESTS += tests/e2e/test-httpproxy.sh
dist_noinst_SCRIPTS += tests/e2e/test-httpproxy.sh
# Behind a reverse proxy (nginx): the X-Forwarded-For / Forwarded parser
# (fwd.c), pure code.
check_PROGRAMS += tests/unit/test_fwd
TESTS += tests/unit/test_fwd
tests_unit_test_fwd_SOURCES = tests/unit/test_fwd.c tests/unit/check-main.c plugins/tls-http/fwd.c
tests_unit_test_fwd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_fwd_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_fwd_LDADD = $(CHECK_LIBS)

# Behind real nginx (Debian's 1.22): stream with proxy_protocol, http
# terminating TLS in front of tls = false (X-Forwarded-For, Forwarded), the
# fallback website, the limiter per client.  Needs root, nginx and its
# stream module, python3 and curl.
TESTS += tests/e2e/test-nginx.sh
EXTRA_DIST += tests/e2e/test-nginx.sh

# tls = false and fallback in the harness, the test playing the proxy and
# the web server with raw loopback sockets.
check_PROGRAMS += tests/unit/test_tls_plain
TESTS += tests/unit/test_tls_plain
tests_unit_test_tls_plain_SOURCES = tests/unit/test_tls_plain.c tests/unit/check-main.c
tests_unit_test_tls_plain_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_tls_plain_LDADD = tests/libtpharness.la $(CHECK_LIBS) $(CRYPT_LIBS)
EXTRA_tests_unit_test_tls_plain_DEPENDENCIES = plugins/tls-http/tls-http.la

# The cache of verified credentials (authcache.c) with the real users
# loader: hits, misses, expiry on a test clock, reloads, locked users.
check_PROGRAMS += tests/unit/test_authcache
TESTS += tests/unit/test_authcache
tests_unit_test_authcache_SOURCES = tests/unit/test_authcache.c tests/unit/check-main.c \
	plugins/tls-http/authcache.c plugins/tls-http/auth.c
tests_unit_test_authcache_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_authcache_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_authcache_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(CRYPT_LIBS)

# The crowd load generator (bench/crowd.c): N Simple-VPN clients on one
# epoll loop for the server benchmark and tests/e2e/test-crowd.sh.  Built
# by `make`, never installed.
noinst_PROGRAMS += bench/crowd
bench_crowd_SOURCES = bench/crowd.c
bench_crowd_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
bench_crowd_LDADD = $(OPENSSL_LIBS)

# A crowd at the door (issue 11): CROWD_N users at once from as many
# addresses all get in while another session pings; sequential cycles hit
# the credential cache; server fds come back.  Needs root.
TESTS += tests/e2e/test-crowd.sh
dist_noinst_SCRIPTS += tests/e2e/test-crowd.sh
EXTRA_DIST += bench/crowd-bench.sh
