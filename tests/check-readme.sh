#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's test list is checked against the build's: every test that
# `make check` runs is named in the README's "Tests" section, and every
# test named there is one the build runs.  The list is the build's whole
# $(TESTS), asked of a make that does not inherit a `make check TESTS=…`.
set -eu
readme=${top_srcdir:?}/README.md
TP_TESTS=$(MAKEFLAGS= MAKEOVERRIDES= MFLAGS= ${MAKE:-make} -s -C "${top_builddir:?}" print-tests)
[ -n "$TP_TESTS" ] || { echo "make print-tests gave no tests" >&2; exit 99; }

# The "## Tests" section, up to the next "## " heading.
section=$(sed -n '/^## Tests$/,/^## /p' "$readme")
[ -n "$section" ] || { echo "$readme: no '## Tests' section" >&2; exit 1; }

status=0
built=""
for t in $TP_TESTS; do
	name=$(basename "$t")
	built="$built $name "
	# A test counts when its name or its path appears in backquotes.
	if ! printf '%s\n' "$section" | grep -q -e "\`$name\`" -e "\`$t\`"; then
		echo "README.md: test '$name' is run by make check but not listed under '## Tests'" >&2
		status=1
	fi
done
for name in $(printf '%s\n' "$section" | grep -o '`test[-_][A-Za-z0-9_.-]*`' | tr -d '`' | sort -u); do
	case $built in
	*" $name "*) ;;
	*)
		echo "README.md: '$name' is listed under '## Tests' but make check does not run it" >&2
		status=1
		;;
	esac
done
[ $status -ne 0 ] || echo "README test list matches the build's $(echo $TP_TESTS | wc -w) tests"
exit $status
