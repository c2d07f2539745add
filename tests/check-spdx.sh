#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file of the tree (C, headers, scripts, make fragments,
# configs, man sources) names its licence in an SPDX line near the top.
set -u
: "${top_srcdir:?run through make check}"
cd "$top_srcdir" || exit 99
# Build trees (./build, ./build-*, distcheck's ./_build) hold generated
# files; only the sources are ours to check.
missing=$(find . \( -name build -o -name 'build-*' -o -name _build -o -name .git -o -name autom4te.cache \
	-o -name m4 -o -name build-aux -o -name 'tunpipe-*' -o -name corpus \) -prune -o -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.mk' -o -name '*.py' \
	-o -name Makefile.am -o -name configure.ac -o -name '*.conf' -o -name '*.example' \
	-o -name '*.in' -o -name '*.bash' -o -path ./.ci/run \) -print |
	grep -v -e '/Makefile\.in$' -e '^\./config\.h\.in$' -e '/config\.h$' -e '/confdefs\.h$' |
	while read -r f; do
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
	done)
n=$(find . \( -name build -o -name 'build-*' -o -name _build -o -name .git \) -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | wc -l)
if [ -n "$missing" ]; then
	echo "no 'SPDX-License-Identifier: MIT' line in the first 3 lines of:" >&2
	echo "$missing" >&2
	exit 1
fi
echo "every source file has its SPDX line ($n C files and headers among them)"
