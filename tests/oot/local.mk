# SPDX-License-Identifier: MIT
# A third-party plugin built against the installed header and .pc file.
TESTS += tests/oot/run.sh
EXTRA_DIST += tests/oot/run.sh tests/oot/hello.c
