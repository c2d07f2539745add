#!/bin/sh
# SPDX-License-Identifier: MIT
# `make install DESTDIR=…` from this build gives the Debian-style layout:
# the daemon in $(sbindir), plugins in $(pkglibdir) without .la files,
# example configs in $(sysconfdir)/tunpipe/ that a second install does not
# overwrite once edited, the docs in $(docdir), three man pages that
# `man -l` renders without a warning, tunpipe.conf(5) listing exactly the
# options `tunpipe inspect` prints for every installed plugin, and a bash
# completion that completes commands and plugin names.  `make uninstall`
# removes everything but the edited config.  Works under distcheck: it
# writes only to a temporary directory.
set -u

: "${top_srcdir:?top_srcdir must be set (run through make check)}"
: "${top_builddir:?top_builddir must be set (run through make check)}"
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tp-install.XXXXXX") || exit 99
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
root=$tmp/root
checks=0

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") ----" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}
ok() { checks=$((checks + 1)); }

# A separate make: the enclosing one's flags (jobserver, TESTS=…) mean
# nothing to it.
submake() {
	# shellcheck disable=SC2086 # MAKE may carry arguments
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$top_builddir" "$@"
}

for tool in man groff openssl; do
	command -v $tool >/dev/null 2>&1 || {
		echo "SKIP: $tool is not installed (Debian: man-db, groff-base, openssl)" >&2
		exit 77
	}
done

eval "$(submake print-install-dirs)" || fail "make print-install-dirs failed"
[ -n "${sbindir:-}" ] && [ -n "${shipped_plugins:-}" ] || fail "make print-install-dirs gave nothing"

submake install DESTDIR="$root" >"$tmp/install.log" 2>&1 || fail "make install DESTDIR=$root failed"

# --- the daemon, in sbin only -----------------------------------------------
bin=$root$sbindir/tunpipe
[ -x "$bin" ] || fail "no executable $sbindir/tunpipe"
[ ! -e "$root$bindir/tunpipe" ] || fail "tunpipe is also installed in $bindir"
"$bin" -V | grep -q '^tunpipe ' || fail "the installed tunpipe -V does not print its version"
ok

# --- plugins: NAME.so, no .la -----------------------------------------------
for p in $shipped_plugins; do
	[ -f "$root$pkglibdir/$p.so" ] || fail "plugin $p.so is not in $pkglibdir"
done
las=$(find "$root" -name '*.la')
[ -z "$las" ] || fail "libtool archives installed: $las"
ok
# The .pc file's plugindir is where the plugins went.
pc=$(find "$root" -name tunpipe-plugin.pc | head -n 1)
[ -n "$pc" ] || fail "tunpipe-plugin.pc was not installed"
pd=$(PKG_CONFIG_PATH=$(dirname "$pc") $PKG_CONFIG --variable=plugindir tunpipe-plugin) ||
	fail "pkg-config --variable=plugindir tunpipe-plugin failed"
[ "$pd" = "$pkglibdir" ] || fail "pkg-config plugindir is '$pd', the plugins are in '$pkglibdir'"
ok

# --- configs --------------------------------------------------------------
for n in server client; do
	f=$root$tpconfdir/$n.conf
	[ -f "$f" ] || fail "$tpconfdir/$n.conf was not installed"
	cmp -s "$f" "$top_srcdir/conf/tunpipe-$n.conf.example" ||
		fail "$tpconfdir/$n.conf is not the example conf/tunpipe-$n.conf.example"
	grep -q '^# ' "$f" || fail "$tpconfdir/$n.conf has no comments"
done
# They are valid for the installed daemon and plugins once the files they
# name exist (-t checks that cert, key, users and password_file are there).
mkdir "$tmp/etc"
cp "$root$tpconfdir"/server.conf "$root$tpconfdir"/client.conf "$tmp/etc/"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=vpn.example.org -keyout "$tmp/etc/server.key" -out "$tmp/etc/server.crt" \
	>"$tmp/openssl.log" 2>&1 || fail "openssl could not make a test certificate"
printf 'alice:%s\n' "$(openssl passwd -6 test-password)" >"$tmp/etc/users.htpasswd"
echo test-password >"$tmp/etc/client.pass"
for n in server client; do
	TUNPIPE_PLUGIN_PATH=$root$pkglibdir "$bin" -t -c "$tmp/etc/$n.conf" >"$tmp/check-$n.log" 2>&1 ||
		fail "the installed $n.conf does not pass tunpipe -t"
done
ok

# --- docs -------------------------------------------------------------------
for d in README.md LICENSE core/README.md; do
	[ -s "$root$docdir/$d" ] || fail "$docdir/$d was not installed"
done
for p in $shipped_plugins; do
	[ -s "$root$docdir/plugins/$p/README.md" ] || fail "$docdir/plugins/$p/README.md was not installed"
done
ok

# --- man pages: present, paths filled in, rendered without a warning ---------
for page in man8/tunpipe.8 man5/tunpipe.conf.5 man7/tunpipe-plugin.7; do
	f=$root$mandir/$page
	[ -s "$f" ] || fail "$mandir/$page was not installed"
	! grep -n '@[a-z]*@' "$f" >"$tmp/subst.log" || fail "$page has unsubstituted @…@: $(cat "$tmp/subst.log")"
	# All groff warnings on; man -l renders the file as man(1) would.
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$f" >"$tmp/render.txt" 2>"$tmp/warn.log" ||
		fail "man -l $page failed"
	[ ! -s "$tmp/warn.log" ] || fail "man -l $page warns: $(head -n 5 "$tmp/warn.log")"
	grep -q '^NAME' "$tmp/render.txt" && grep -q '^SEE ALSO' "$tmp/render.txt" ||
		fail "man -l $page: no NAME or SEE ALSO section in the output"
done
# The FILES sections name the configured directories.
grep -qF "$tpconfdir/" "$root$mandir/man8/tunpipe.8" || fail "tunpipe(8) does not name $tpconfdir"
grep -qF "$pkglibdir/" "$root$mandir/man7/tunpipe-plugin.7" || fail "tunpipe-plugin(7) does not name $pkglibdir"
ok
# tunpipe-plugin(7)'s example builds against the installed header and
# loads in the installed daemon.
awk '/^\.SH EXAMPLE/ { e = 1 } e && /^\.RS/ { r = 1; next } r && /^\.RE/ { exit } r' \
	"$root$mandir/man7/tunpipe-plugin.7" | sed 's/\\-/-/g; s/\\e/\\/g' >"$tmp/maxlen.c"
grep -q TP_PLUGIN_DEFINE "$tmp/maxlen.c" || fail "no example plugin found in tunpipe-plugin(7)"
mkdir "$tmp/plugins"
${CC:-cc} -std=c99 -Wall -Wextra -Werror -shared -fPIC -I"$root$(PKG_CONFIG_PATH=$(dirname "$pc") \
	$PKG_CONFIG --variable=includedir tunpipe-plugin)" -o "$tmp/plugins/maxlen.so" "$tmp/maxlen.c" \
	>"$tmp/cc.log" 2>&1 || fail "the example of tunpipe-plugin(7) does not build"
TUNPIPE_PLUGIN_PATH=$tmp/plugins "$bin" inspect maxlen >"$tmp/maxlen.log" 2>&1 &&
	grep -q '^  limit ' "$tmp/maxlen.log" || fail "the example of tunpipe-plugin(7) does not load"
ok

# --- tunpipe.conf(5) lists every option `tunpipe inspect` prints ------------
# From the page: ".SS NAME" opens a plugin, ".TP" then ".B OPT" an option.
awk '/^\.SH /{ in_p = ($2 == "PLUGINS") ; plugin = "" }
	in_p && /^\.SS / { plugin = $2; gsub(/\\-/, "-", plugin) }
	in_p && plugin != "" && tp && /^\.B / { print plugin, $2 }
	{ tp = ($0 == ".TP") }' "$root$mandir/man5/tunpipe.conf.5" | sort -u >"$tmp/man-opts"
: >"$tmp/inspect-opts"
: >"$tmp/man-plugins"
for so in "$root$pkglibdir"/*.so; do
	p=$(basename "$so" .so)
	TUNPIPE_PLUGIN_PATH=$root$pkglibdir "$bin" inspect "$p" >"$tmp/inspect.log" 2>&1 ||
		fail "the installed tunpipe inspect $p failed"
	grep -qF "File:          $so" "$tmp/inspect.log" || fail "tunpipe inspect $p did not load $so"
	sed -n '/^Options:/,$p' "$tmp/inspect.log" | grep -E '^  [a-z][a-z0-9_]* +[a-z]' |
		grep -v '^  NAME ' | awk -v p="$p" '{ print p, $1 }' >>"$tmp/inspect-opts"
	grep -qx ".SS $(printf '%s' "$p" | sed 's/-/\\\\-/g')" "$root$mandir/man5/tunpipe.conf.5" ||
		fail "tunpipe.conf(5) has no section for the installed plugin $p"
done
sort -u -o "$tmp/inspect-opts" "$tmp/inspect-opts"
[ -s "$tmp/inspect-opts" ] || fail "tunpipe inspect printed no option at all"
if ! diff "$tmp/inspect-opts" "$tmp/man-opts" >"$tmp/opts-diff.log"; then
	fail "tunpipe.conf(5) and tunpipe inspect disagree (< inspect only, > man page only)"
fi
nopts=$(wc -l <"$tmp/inspect-opts")
ok

# --- bash completion --------------------------------------------------------
comp=$root$bashcompletiondir/tunpipe
[ -s "$comp" ] || fail "no bash completion at $bashcompletiondir/tunpipe"
if command -v bash >/dev/null 2>&1; then
	bash -n "$comp" || fail "the completion script does not parse"
	# COMP_WORDS as bash would set them; prints COMPREPLY.
	complete_words() {
		PATH=$root$sbindir:$PATH TUNPIPE_PLUGIN_PATH=$root$pkglibdir bash -c '
			[ -f /usr/share/bash-completion/bash_completion ] &&
				. /usr/share/bash-completion/bash_completion
			. "$1"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_tunpipe tunpipe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
			printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$comp" "$@"
	}
	got=$(complete_words tunpipe insp)
	[ "$got" = "inspect " ] || fail "completing 'tunpipe insp' gave '$got'"
	got=$(complete_words tunpipe inspect framer)
	[ "$got" = "framer-ip framer-len " ] || fail "completing 'tunpipe inspect framer' gave '$got'"
	got=$(complete_words tunpipe inspect '')
	for p in $shipped_plugins; do
		case " $got" in *" $p "*) ;; *) fail "completing 'tunpipe inspect ' misses $p: '$got'" ;; esac
	done
	got=$(complete_words tunpipe --conf)
	[ "$got" = "--config " ] || fail "completing 'tunpipe --conf' gave '$got'"
	got=$(complete_words tunpipe connect https://a@b/vpn --prox)
	[ "$got" = "--proxy --proxy-password-file " ] || fail "completing 'tunpipe connect … --prox' gave '$got'"
	got=$(complete_words tunpipe connect https://a@b/vpn --proxy n)
	[ "$got" = "none " ] || fail "completing 'tunpipe connect … --proxy n' gave '$got'"
	ok
fi

# --- a second install keeps an edited config; uninstall keeps it too ---------
echo '# edited by the administrator' >>"$root$tpconfdir/server.conf"
cp "$root$tpconfdir/server.conf" "$tmp/edited.conf"
submake install DESTDIR="$root" >"$tmp/install2.log" 2>&1 || fail "the second make install failed"
cmp -s "$tmp/edited.conf" "$root$tpconfdir/server.conf" || fail "the second install overwrote an edited server.conf"
grep -q "server.conf exists: kept" "$tmp/install2.log" || fail "the second install did not say it kept server.conf"
cmp -s "$root$tpconfdir/client.conf" "$top_srcdir/conf/tunpipe-client.conf.example" ||
	fail "the second install changed client.conf"
ok
submake uninstall DESTDIR="$root" >"$tmp/uninstall.log" 2>&1 || fail "make uninstall failed"
cmp -s "$tmp/edited.conf" "$root$tpconfdir/server.conf" || fail "make uninstall removed the edited server.conf"
left=$(find "$root" -type f ! -path "*$tpconfdir/server.conf")
[ -z "$left" ] || fail "make uninstall left files behind: $left"
ok

echo "PASS: $checks groups of install checks; tunpipe.conf(5) matches tunpipe inspect on $nopts options"
exit 0
