# SPDX-License-Identifier: MIT
# framer-ip: the Simple-VPN framing (IP packets delimited by their own length).
pkglib_LTLIBRARIES += plugins/framer-ip/framer-ip.la
plugins_framer_ip_framer_ip_la_SOURCES = plugins/framer-ip/framer-ip.c plugins/framer-ip/super-hdr.h
plugins_framer_ip_framer_ip_la_LDFLAGS = $(TP_MODULE_FLAGS)
EXTRA_DIST += plugins/framer-ip/README.md

# Its unit test is built with the framing service's tests (tests/plugins/local.mk).

# End-to-end: super-packets carried whole between peers that agreed; a
# mixed server; the plain-only stacks split by the core.
TESTS += tests/e2e/test-superpkt.sh
dist_noinst_SCRIPTS += tests/e2e/test-superpkt.sh

# End-to-end: a peer's super-packet header that would move the checksum
# onto the source address is refused (superpeer.py writes the frames).
TESTS += tests/e2e/test-superspoof.sh
dist_noinst_SCRIPTS += tests/e2e/test-superspoof.sh tests/e2e/superpeer.py
