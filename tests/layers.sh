#!/usr/bin/env bash
# layers.sh SRC [nic|gen] - who may include whom (docs/architecture.md "Arrows"):
# reads the #include "..." lines of gen/*.[ch] and nic/*.[ch] and checks each rule below.
#   nic: gen/ reaches nic/ through nic/nic.h alone, the door opens onto no other nic/
#        header, nic/ includes nothing of gen/ (STYLE.md 2, docs/nic.md "Layout")
#   gen: the modules below the command layer include neither gen/cmd.h nor gen/profile.h,
#        expect.c parses with gen.h alone, and only the command layer (with the signal
#        helper, the spawner and the lab runner) names gen_stop
# No group: both. Run by ctest as unit_layers_nic (nic) and unit_layers (gen), label unit;
# needs no root, reads only the source tree.
set -uo pipefail
src=${1:-${ZCGEN_SRC:?give the source tree}}
group=${2:-all}
fails=0

[ -f "$src/nic/nic.h" ] && [ -d "$src/gen" ] || { echo "FAIL - $src is not the zcgen source tree"; exit 1; }

# includes FILE...: "FILE:LINE:HEADER" for each #include "..." or <gen/...>, <nic/...>, the
# header as a path from the source root: "../" dropped, a bare name ("cmd.h") is in the
# including file's own directory.
includes() {
	local f rel
	for f in "$@"; do
		[ -f "$f" ] || continue
		rel=${f#"$src"/}
		awk -v rel="$rel" '
			match($0, /^[ \t]*#[ \t]*include[ \t]*("[^"]+"|<(gen|nic)\/[^>]+>)/) {
				h = substr($0, RSTART, RLENGTH)
				sub(/^[ \t]*#[ \t]*include[ \t]*["<]/, "", h)
				sub(/[">]$/, "", h)
				while (h ~ /^\.\.\//)
					h = substr(h, 4)
				if (h !~ /\//) {
					d = rel
					sub(/\/[^\/]*$/, "", d)
					h = d "/" h
				}
				print rel ":" FNR ":" h
			}' "$f"
	done
}

# rule WHY DENY ALLOW FILE...: no FILE includes a header matching the extended regex DENY
# (the whole path) unless it matches ALLOW too ("" allows none).
rule() {
	local why=$1 deny=$2 allow=$3 bad
	shift 3
	bad=$(includes "$@" | awk -F: -v deny="^($deny)\$" -v allow="^($allow)\$" \
		'$3 ~ deny && (allow == "^()$" || $3 !~ allow)')
	if [ -n "$bad" ]; then
		echo "FAIL - $why:"
		echo "$bad" | sed 's|^|  |; s|:\([^:]*\)$|: includes \1|'
		fails=$((fails + 1))
	else
		echo "ok - $why"
	fi
}

if [ "$group" = all ] || [ "$group" = nic ]; then
	rule "gen/ reaches nic/ through nic/nic.h alone (declare what gen/ needs in nic/nic.h)" \
		'nic/.*' 'nic/nic\.h' "$src"/gen/*.c "$src"/gen/*.h
	rule "nic/nic.h includes no other nic/ header (declare what gen/ needs in nic/nic.h itself)" \
		'nic/.*' '' "$src/nic/nic.h"
	rule "nic/ includes nothing of gen/ (nic/ knows nothing of the generator)" \
		'gen/.*' '' "$src"/nic/*.c "$src"/nic/*.h
fi

if [ "$group" = all ] || [ "$group" = gen ]; then
	# The command layer: main.c, cmd_*.c, and fleet.c (zcgen run's ranks: it prints and
	# returns exit codes); profile.c is the key rules themselves.
	below=()
	for f in "$src"/gen/*.c "$src"/gen/*.h; do
		case ${f##*/} in
		main.c | cmd.h | cmd_*.c | fleet.c | fleet.h | profile.c | profile.h) ;;
		*) below+=("$f") ;;
		esac
	done
	rule "below the command layer nothing includes gen/cmd.h (commands call modules, not each other)" \
		'gen/cmd[^/]*\.h' '' "${below[@]}"
	rule "below the command layer nothing includes gen/profile.h (modules take struct gen_profile from gen/gen.h)" \
		'gen/profile\.h' '' "${below[@]}"
	rule "the expect: parser includes gen/gen.h alone (no engine, report or profile)" \
		'.*' 'gen/gen\.h|gen/expect\.h' "$src"/gen/expect.[ch]

	# The stop flag is the command layer's and its helpers' (the signal helper, the child
	# spawner, the lab runner): below them, it travels by pointer (engine_run_ctx.stop).
	bad=$(grep -nwH gen_stop "$src"/gen/*.c "$src"/gen/*.h |
		grep -Ev '^[^:]*/gen/(cmd_[^/:]*\.c|stopsig\.[ch]|spawn\.[ch]|labrun\.[ch]):' || true)
	if [ -n "$bad" ]; then
		echo "FAIL - only cmd_*.c, stopsig, spawn and labrun name gen_stop (pass the stop flag down as engine_run_ctx.stop does):"
		echo "$bad" | sed "s|^$src/||; s|^|  |"
		fails=$((fails + 1))
	else
		echo "ok - only cmd_*.c, stopsig, spawn and labrun name gen_stop"
	fi
fi
[ "$fails" -eq 0 ]
