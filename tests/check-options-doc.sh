#!/bin/sh
# SPDX-License-Identifier: MIT
# Every option of every shipped plugin, as `tunpipe inspect NAME` prints it
# from the plugin's option table, is documented in plugins/NAME/README.md:
# a table row names it in backquotes, shows its default (if it has one) and,
# for an option of one role, that role.  So the docs cannot drift from the
# tables.
set -u
: "${TUNPIPE:?run through make check}" "${top_srcdir:?run through make check}"
status=0
n=0
for plugin in tun tls-http framer-ip framer-len compress-lz4; do
	readme=$top_srcdir/plugins/$plugin/README.md
	out=$("$TUNPIPE" inspect "$plugin" 2>&1) || {
		echo "tunpipe inspect $plugin failed: $out" >&2
		status=1
		continue
	}
	# Option lines: two spaces, a name, a type, then the details.
	opts=$(printf '%s\n' "$out" | sed -n '/^Options:/,$p' |
		grep -E '^  [a-z][a-z0-9_]* +[a-z]+' | grep -v '^  NAME ')
	[ -n "$opts" ] || { echo "$plugin: inspect shows no options" >&2; status=1; continue; }
	while IFS= read -r line; do
		name=$(printf '%s\n' "$line" | awk '{print $1}')
		rows=$(grep -E "^\|.*\`$name\`" "$readme")
		n=$((n + 1))
		if [ -z "$rows" ]; then
			echo "$readme: option '$name' (from the option table) has no row" >&2
			status=1
			continue
		fi
		def=$(printf '%s\n' "$line" | sed -n 's/.*default: \([^,]*\).*/\1/p')
		if [ -n "$def" ] && ! printf '%s\n' "$rows" | grep -qF -- "$def"; then
			echo "$readme: option '$name': the table's default '$def' is not in its row" >&2
			status=1
		fi
		role=$(printf '%s\n' "$line" | sed -n 's/.*only with [a-z_]*=\([a-z0-9_]*\).*/\1/p')
		if [ -n "$role" ] && ! printf '%s\n' "$rows" | grep -qw -- "$role"; then
			echo "$readme: option '$name' belongs to $role, its row does not say so" >&2
			status=1
		fi
	done <<EOT
$opts
EOT
done
[ $status -ne 0 ] || echo "$n options documented as their tables declare them"
exit $status
