# SPDX-License-Identifier: MIT
# libFuzzer targets.  Built only with ./configure --enable-fuzz and clang
# (see tests/fuzz/README.md); `make fuzz FUZZ_SECONDS=60` runs each one.
FUZZ_TARGETS = tests/fuzz/fuzz_lz4 tests/fuzz/fuzz_framer_ip tests/fuzz/fuzz_framer_len \
	tests/fuzz/fuzz_http tests/fuzz/fuzz_answer tests/fuzz/fuzz_users tests/fuzz/fuzz_offload \
	tests/fuzz/fuzz_proxyproto tests/fuzz/fuzz_connect tests/fuzz/fuzz_forwarded tests/fuzz/fuzz_superpkt
FUZZ_SECONDS = 60
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/fuzz_lz4.c tests/fuzz/fuzz_framer.c \
	tests/fuzz/fuzz_framer.h tests/fuzz/fuzz_framer_ip.c tests/fuzz/fuzz_framer_len.c \
	tests/fuzz/fuzz_http.c tests/fuzz/fuzz_answer.c tests/fuzz/fuzz_users.c tests/fuzz/fuzz_offload.c \
	tests/fuzz/fuzz_proxyproto.c tests/fuzz/fuzz_connect.c tests/fuzz/fuzz_forwarded.c tests/fuzz/fuzz_superpkt.c

if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_lz4 tests/fuzz/fuzz_framer_ip tests/fuzz/fuzz_framer_len \
	tests/fuzz/fuzz_http tests/fuzz/fuzz_answer tests/fuzz/fuzz_users tests/fuzz/fuzz_offload \
	tests/fuzz/fuzz_proxyproto tests/fuzz/fuzz_connect tests/fuzz/fuzz_forwarded tests/fuzz/fuzz_superpkt
# -fsanitize=fuzzer links libFuzzer's main(); the plugins and the core are
# instrumented by the user's CFLAGS (-fsanitize=fuzzer-no-link,address).
TP_FUZZ_CPP = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
TP_FUZZ_LINK = -fsanitize=fuzzer
TP_FUZZ_DEPLIBS = tests/libtpharness.la core/libtpcore.la $(LIBCONFIG_LIBS)

tests_fuzz_fuzz_lz4_SOURCES = tests/fuzz/fuzz_lz4.c
tests_fuzz_fuzz_lz4_CPPFLAGS = $(TP_FUZZ_CPP)
tests_fuzz_fuzz_lz4_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_lz4_LDADD = $(TP_FUZZ_DEPLIBS)

# The two framer targets share one skeleton (fuzz_framer.h).
tests_fuzz_fuzz_framer_ip_SOURCES = tests/fuzz/fuzz_framer_ip.c tests/fuzz/fuzz_framer.c \
	tests/fuzz/fuzz_framer.h
tests_fuzz_fuzz_framer_ip_CPPFLAGS = $(TP_FUZZ_CPP)
tests_fuzz_fuzz_framer_ip_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_framer_ip_LDADD = $(TP_FUZZ_DEPLIBS)

tests_fuzz_fuzz_framer_len_SOURCES = tests/fuzz/fuzz_framer_len.c tests/fuzz/fuzz_framer.c \
	tests/fuzz/fuzz_framer.h
tests_fuzz_fuzz_framer_len_CPPFLAGS = $(TP_FUZZ_CPP)
tests_fuzz_fuzz_framer_len_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_framer_len_LDADD = $(TP_FUZZ_DEPLIBS)

# The handshake parsers are pure code: compiled in directly, no harness.
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c plugins/tls-http/http.c \
	plugins/tls-http/handshake.c plugins/tls-http/auth.c
tests_fuzz_fuzz_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_http_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_http_LDADD = $(OPENSSL_LIBS) $(CRYPT_LIBS)

# What the client does with a server's answer (svpn-check.c), also pure.
tests_fuzz_fuzz_answer_SOURCES = tests/fuzz/fuzz_answer.c plugins/tls-http/http.c \
	plugins/tls-http/handshake.c plugins/tls-http/auth.c plugins/tls-http/svpn-check.c
tests_fuzz_fuzz_answer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_answer_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_fuzz_fuzz_answer_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_answer_LDADD = $(OPENSSL_LIBS) $(CRYPT_LIBS)
# The users-file parser (auth.c), from memory.
tests_fuzz_fuzz_users_SOURCES = tests/fuzz/fuzz_users.c plugins/tls-http/auth.c
tests_fuzz_fuzz_users_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_users_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_users_LDADD = $(CRYPT_LIBS)
# The tun plugin's offload parsing (virtio_net_hdr + super-packet): pure code.
tests_fuzz_fuzz_offload_SOURCES = tests/fuzz/fuzz_offload.c core/gso.c plugins/tun/gro.c
tests_fuzz_fuzz_offload_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tun -I$(top_srcdir)/core
tests_fuzz_fuzz_offload_LDFLAGS = $(TP_FUZZ_LINK)
# The PROXY protocol header parser (tls-http's proxyproto.c): pure code.
tests_fuzz_fuzz_proxyproto_SOURCES = tests/fuzz/fuzz_proxyproto.c plugins/tls-http/proxyproto.c
tests_fuzz_fuzz_proxyproto_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_proxyproto_LDFLAGS = $(TP_FUZZ_LINK)
# The HTTP proxy's CONNECT answer and no_proxy (tls-http's client side).
tests_fuzz_fuzz_connect_SOURCES = tests/fuzz/fuzz_connect.c plugins/tls-http/httpconnect.c \
	plugins/tls-http/proxyenv.c plugins/tls-http/http.c plugins/tls-http/util.c \
	plugins/tls-http/handshake.c plugins/tls-http/auth.c
tests_fuzz_fuzz_connect_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_connect_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_fuzz_fuzz_connect_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_connect_LDADD = $(OPENSSL_LIBS) $(CRYPT_LIBS)
# The X-Forwarded-For / Forwarded parser (tls-http's fwd.c): pure code.
tests_fuzz_fuzz_forwarded_SOURCES = tests/fuzz/fuzz_forwarded.c plugins/tls-http/fwd.c
tests_fuzz_fuzz_forwarded_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_forwarded_LDFLAGS = $(TP_FUZZ_LINK)
# Super-packets (ABI 1.2): framer-ip's header on an agreed session, and
# the Simple-VPN-Offload agreement header.
tests_fuzz_fuzz_superpkt_SOURCES = tests/fuzz/fuzz_superpkt.c
tests_fuzz_fuzz_superpkt_CPPFLAGS = $(TP_FUZZ_CPP) -I$(top_srcdir)/plugins/tls-http
tests_fuzz_fuzz_superpkt_LDFLAGS = $(TP_FUZZ_LINK)
tests_fuzz_fuzz_superpkt_LDADD = $(TP_FUZZ_DEPLIBS)

# Each target runs on its own corpus in the build tree (kept between runs:
# it is what makes the next run smarter); a crash input lands next to it
# as tests/fuzz/NAME-crash-<sha1> and fails the make.
fuzz: $(FUZZ_TARGETS) $(pkglib_LTLIBRARIES)
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  name=`basename $$t`; corpus=tests/fuzz/corpus/$$name; \
	  $(MKDIR_P) $$corpus || exit 1; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s on $$corpus"; \
	  TUNPIPE_PLUGIN_PATH='$(abs_top_builddir)/plugins:$(abs_top_builddir)/tests/plugins' TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1 \
	  TP_HARNESS_QUIET=1 \
	  ASAN_OPTIONS="$${ASAN_OPTIONS:-detect_leaks=1}" \
	    ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	      -artifact_prefix=tests/fuzz/$$name- $$corpus \
	    || { echo "fuzz: $$name FAILED; reproduce with:"; \
	         echo "  TUNPIPE_PLUGIN_PATH=$(abs_top_builddir)/plugins ./$$t tests/fuzz/$$name-crash-<sha1>"; \
	         fail=1; }; \
	done; \
	test $$fail = 0 && echo "fuzz: all targets ran $(FUZZ_SECONDS)s without a crash"; \
	exit $$fail
else
fuzz:
	@echo "make fuzz: the fuzz targets are not configured.  Rebuild with clang:" >&2; \
	echo "  CC=clang CFLAGS='-g -O1 -fsanitize=fuzzer-no-link,address' $(abs_top_srcdir)/configure --enable-fuzz" >&2; \
	echo "then run: make fuzz FUZZ_SECONDS=60   (see tests/fuzz/README.md)" >&2; \
	exit 1
endif

fuzz-clean:
	-rm -rf tests/fuzz/corpus tests/fuzz/fuzz_*-crash-* tests/fuzz/fuzz_*-leak-* \
		tests/fuzz/fuzz_*-timeout-* tests/fuzz/fuzz_*-oom-*

.PHONY: fuzz fuzz-clean
