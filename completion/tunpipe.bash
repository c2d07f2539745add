# SPDX-License-Identifier: MIT
# bash completion for tunpipe(8).  The commands and options come from
# `tunpipe --help` and the plugin names from `tunpipe inspect`, asked of the
# tunpipe being completed, so the completion follows the installed version.

_tunpipe_plugins()
{
	# `tunpipe inspect` lists "  NAME  KIND  DESCRIPTION" lines.
	"$1" inspect 2>/dev/null | awk '/^  [A-Za-z0-9]/ { print $1 }'
}

_tunpipe()
{
	local cur prev words cword cmd i
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	fi

	case $prev in
	-c | --config)
		if declare -F _filedir >/dev/null; then
			_filedir conf
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
		;;
	esac

	# The command: the first word that is neither an option nor its argument.
	cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-c | --config) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]} && break ;;
		esac
	done

	case $cmd in
	connect)
		# Its options from `tunpipe connect --help`: "  --proxy URL   …".
		case $prev in
		--ca | --password-file | --proxy-password-file)
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
			;;
		--proxy)
			mapfile -t COMPREPLY < <(compgen -W "http:// none" -- "$cur")
			compopt -o nospace 2>/dev/null
			return
			;;
		--server-name) return ;;
		esac
		[[ $cur == -* ]] && mapfile -t COMPREPLY < <(compgen -W "$("${words[0]}" connect --help \
			2>/dev/null | awk '/^  --/ { print $1 }') -v -q" -- "$cur")
		return
		;;
	inspect)
		mapfile -t COMPREPLY < <(compgen -W "--man $(_tunpipe_plugins "${words[0]}")" -- "$cur")
		return
		;;
	?*)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		# The option lines of the usage: "  -c, --config FILE   …".
		mapfile -t COMPREPLY < <(compgen -W "$("${words[0]}" --help 2>/dev/null |
			awk '/^  -/ { sub(/,$/, "", $1); print $1; if ($2 ~ /^--/) print $2 }')" -- "$cur")
		return
	fi
	# Commands: the synopsis lines "Usage: tunpipe WORD …", "       tunpipe WORD …".
	mapfile -t COMPREPLY < <(compgen -W "$("${words[0]}" --help 2>/dev/null |
		sed -n 's/^\(Usage:\)\{0,1\} *tunpipe \([a-z][a-z-]*\).*$/\2/p' | sort -u)" -- "$cur")
}
complete -F _tunpipe tunpipe
