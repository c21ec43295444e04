# bash completion for zcgen(1): subcommands, their options, installed profiles by name
_zcgen_opts()
{
	# the options a subcommand's --help lists, so that completion never drifts from it
	zcgen "$@" --help 2>/dev/null | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

_zcgen()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	cmd=run
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		run | sink | nic | lab | sweep | compare | offload-check | ndr | plot | merge) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--profile)
		local d names=""
		for d in /usr/share/zcgen/profiles /usr/local/share/zcgen/profiles; do
			[ -d "$d" ] && names+=" $(cd "$d" && ls *.yaml 2>/dev/null | sed 's/\.yaml$//')"
		done
		COMPREPLY=($(compgen -W "$names" -- "$cur") $(compgen -f -- "$cur"))
		return ;;
	--json | --csv | --iperf3) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--mode) COMPREPLY=($(compgen -W "copy zc zc-fixed auto" -- "$cur")); return ;;
	--protocol) COMPREPLY=($(compgen -W "tcp udp both" -- "$cur")); return ;;
	--server) COMPREPLY=($(compgen -W "none zcgen iperf3" -- "$cur")); return ;;
	--hugepages) COMPREPLY=($(compgen -W "auto on off" -- "$cur")); return ;;
	--start-at) COMPREPLY=($(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:00Z)); return ;; # a time to edit
	esac
	if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
		COMPREPLY=($(compgen -W "run sink nic lab sweep compare offload-check ndr plot merge" -- "$cur"))
		return
	fi
	case $cmd in
	nic)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "show pin restore" -- "$cur"))
		elif ((COMP_CWORD == 3)); then
			COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_zcgen_opts nic "${COMP_WORDS[2]}")" -- "$cur"))
		fi
		return ;;
	lab)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "up down status exec" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_zcgen_opts lab)" -- "$cur"))
		fi
		return ;;
	esac
	[[ $cur == -* ]] && COMPREPLY=($(compgen -W "$(_zcgen_opts "$cmd")" -- "$cur"))
}
complete -o default -F _zcgen zcgen
