# SPDX-License-Identifier: MIT
# tests/e2e/interop.mk — interoperability with a plain Simple-VPN peer.
# article-peer is an independent implementation of the article's protocol
# (no tunpipe code, no Simple-VPN-Stack header); test-interop.sh runs it
# against tunpipe in both roles inside network namespaces (root; else 77).
check_PROGRAMS += tests/e2e/article-peer
tests_e2e_article_peer_SOURCES = tests/e2e/article-peer.c
tests_e2e_article_peer_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_e2e_article_peer_LDADD = $(OPENSSL_LIBS)

TESTS += tests/e2e/test-interop.sh
EXTRA_DIST += tests/e2e/test-interop.sh

# A malicious server (tests/e2e/evil-server.c, no tunpipe code) against the
# real client: every bad address, prefix and route is refused and the
# client's routing table stays as it was (root; else 77).
check_PROGRAMS += tests/e2e/evil-server
tests_e2e_evil_server_SOURCES = tests/e2e/evil-server.c
tests_e2e_evil_server_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_e2e_evil_server_LDADD = $(OPENSSL_LIBS)
TESTS += tests/e2e/test-evilserver.sh
EXTRA_DIST += tests/e2e/test-evilserver.sh
