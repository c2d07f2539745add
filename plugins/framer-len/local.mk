# SPDX-License-Identifier: MIT
# framer-len: length-prefixed framing (2- or 4-byte big-endian prefix).
pkglib_LTLIBRARIES += plugins/framer-len/framer-len.la
plugins_framer_len_framer_len_la_SOURCES = plugins/framer-len/framer-len.c
plugins_framer_len_framer_len_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/framer-ip
plugins_framer_len_framer_len_la_LDFLAGS = $(TP_MODULE_FLAGS)
EXTRA_DIST += plugins/framer-len/README.md

# Its unit test is built with the framing service's tests (tests/plugins/local.mk).
