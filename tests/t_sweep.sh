#!/bin/bash
# t_sweep.sh - `zcgen sweep` on loopback with its own sink: table, JSON, crossover, calibration, cleanup;
# as root also `sweep --lab` with auto cells: mode used, lab brought up and taken down, SIGINT
set -u
: "${ZCGEN:?ZCGEN must point at the zcgen binary}"
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
if ! "$ZCGEN" sweep --help >/dev/null 2>&1; then
	echo "SKIP: this zcgen has no sweep command (not in main.c's dispatch yet)"; exit 77
fi

tmp=$(mktemp -d /tmp/zcgen-t-sweep.XXXXXX)
bg=
# the lab part's own prefix: never a lab a user has up, never another test's
export ZCGEN_LAB_PREFIX=zcgt-sw$$
cleanup() {
	[ -n "$bg" ] && kill "$bg" 2>/dev/null
	wait 2>/dev/null
	if [ "$(id -u)" = 0 ]; then
		"$ZCGEN" lab down >/dev/null 2>&1
		ip netns del "$ZCGEN_LAB_PREFIX-tx" 2>/dev/null
		ip netns del "$ZCGEN_LAB_PREFIX-rx" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
export ZCGEN_CALIBRATION=$tmp/cal/calibration.json

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# jqt DESCRIPTION EXPR FILE: the jq expression must print true
jqt() { if [ "$(jq -r "$2" "$3" 2>/dev/null)" = true ]; then ok "$1"; else fail "$1 ($2)"; fi; }
# our own sinks: exact argument vector of the one sweep starts
own_sinks() { pgrep -x -f "zcgen sink --listen 127.0.0.1:0 --protocol $1 --quiet"; }

# ---- usage ------------------------------------------------------------------
"$ZCGEN" sweep --help | grep -q -- '--save-calibration' && ok "--help" || fail "--help"
"$ZCGEN" sweep --help | grep -- '--modes' | grep -q auto && ok "--help: auto among the modes" ||
	fail "--help: auto among the modes"
"$ZCGEN" sweep --help | grep -q -- '--lab' && ok "--help: --lab" || fail "--help: --lab"
for bad in "--modes auto,auto" "--modes copy,copy" "--modes nope" "--sizes 1200,x" "--sizes 0" \
	   "--protocol sctp" "--duration 5parsecs" "--queues 0" "extra" "--lab --dest 127.0.0.1:9"; do
	# shellcheck disable=SC2086
	"$ZCGEN" sweep $bad >/dev/null 2>"$tmp/err"; rc=$?
	[ $rc -eq 2 ] && [ -s "$tmp/err" ] && ok "'$bad': exit 2 with a message" ||
		fail "'$bad': exit $rc, '$(head -c 200 "$tmp/err")'"
done
own_sinks tcp >/dev/null && fail "a usage error started a sink"

# ---- TCP: two sizes, copy and zc-fixed, with calibration --------------------------
"$ZCGEN" sweep --sizes 65435,1200 --modes zc-fixed,copy --duration 300ms --json "$tmp/s.json" \
	--save-calibration >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok "tcp sweep: exit 0" || fail "tcp sweep: exit $rc: $(cat "$tmp/err")"
cat "$tmp/out"
j=$tmp/s.json
jqt "four cells, all ok" '(.cells | length) == 4 and all(.cells[]; .ok)' "$j"
jqt "cells ordered by size, copy first" '[.cells[] | "\(.size) \(.mode)"] == ["1200 copy", "1200 zc-fixed", "65435 copy", "65435 zc-fixed"]' "$j"
jqt "MiB/s is bytes / duration / 2^20" 'all(.cells[]; ((.mib_per_second - .bytes / .duration_s / 1048576) | fabs) < 0.01 * .mib_per_second)' "$j"
jqt "bits/s is 8 bytes / duration" 'all(.cells[]; ((.bits_per_second - .bytes * 8 / .duration_s) | fabs) < 0.01 * .bits_per_second)' "$j"
jqt "sends/s matches sends" 'all(.cells[]; ((.sends_per_second - .sends / .duration_s) | fabs) < 0.01 * .sends_per_second + 1)' "$j"
jqt "bytes = sends x size (TCP)" 'all(.cells[]; .bytes == .sends * .size)' "$j"
jqt "CPU-s per GB from system busy time" 'all(.cells[]; .cpu_seconds_per_gb > 0 and ((.cpu_seconds_per_gb - .cpu.system_busy_s / (.bytes / 1e9)) | fabs) < 1e-6)' "$j"
jqt "zc_copied_percent: null for copy, a percentage for zc-fixed" 'all(.cells[]; if .mode == "copy" then .zc_copied_percent == null else (.zc_copied_percent >= 0 and .zc_copied_percent <= 100) end)' "$j"
# loopback: every zero-copy send is copied at delivery (DESIGN.md)
jqt "loopback: zero-copy reported as copied" 'all(.cells[] | select(.mode == "zc-fixed"); .zc_copied_percent > 50)' "$j"
jqt "environment" ".environment.driver == \"loopback\" and .environment.kernel == \"$(uname -r)\" and .environment.protocol == \"tcp\" and .environment.own_receiver == true" "$j"
# the crossover must agree with the cells: zc-fixed ahead at 'at' and every larger size
jqt "crossover agrees with the cells" '
	(.cells | map({key: "\(.size) \(.mode)", value: .mib_per_second}) | from_entries) as $m
	| if .crossover == null then $m["65435 zc-fixed"] <= $m["65435 copy"]
	  elif .crossover.at == 1200 then .crossover.below == null and $m["1200 zc-fixed"] > $m["1200 copy"] and $m["65435 zc-fixed"] > $m["65435 copy"]
	  else .crossover.at == 65435 and .crossover.below == 1200 and $m["65435 zc-fixed"] > $m["65435 copy"] and $m["1200 zc-fixed"] <= $m["1200 copy"] end' "$j"
if [ "$(jq -r '.crossover == null' "$j")" = true ]; then
	grep -q -- '<- crossover' "$tmp/out" && fail "marker without a crossover" || ok "no marker without a crossover"
	want=65436
else
	[ "$(grep -c -- '<- crossover' "$tmp/out")" -eq 1 ] && ok "one crossover marker" || fail "crossover marker"
	grep -q "overtakes copy\|beats copy at every size" "$tmp/out" && ok "crossover line" || fail "crossover line"
	want=$(jq -r .crossover.at "$j")
fi
grep -Eq '^ +1200 +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9]+' "$tmp/out" && ok "table row for 1200 B" || fail "table row for 1200 B"
jqt "calibration saved for loopback, this kernel, tcp" ".entries | length == 1 and .[0].driver == \"loopback\" and .[0].kernel == \"$(uname -r)\" and .[0].protocol == \"tcp\" and .[0].crossover_bytes == $want" "$ZCGEN_CALIBRATION"
own_sinks tcp >/dev/null && fail "the sink is still running after the sweep" || ok "sink stopped"

# ---- UDP, one size: own UDP sink --------------------------------------------
"$ZCGEN" sweep --protocol udp --sizes 1400 --modes copy,zc --duration 300ms --json "$tmp/u.json" \
	>"$tmp/uout" 2>"$tmp/uerr"; rc=$?
[ $rc -eq 0 ] && ok "udp sweep: exit 0" || fail "udp sweep: exit $rc: $(cat "$tmp/uerr")"
jqt "udp: two cells with traffic" '(.cells | length) == 2 and all(.cells[]; .ok and .sends > 0) and .environment.protocol == "udp"' "$tmp/u.json"
own_sinks udp >/dev/null && fail "the UDP sink is still running" || ok "udp sink stopped"

# ---- SIGINT mid-sweep: the sink is stopped, exit 1 ----------------------------
"$ZCGEN" sweep --sizes 1200,4000 --modes copy --duration 10s >"$tmp/iout" 2>&1 &
bg=$!
for _ in $(seq 100); do grep -q '^zcgen sweep:' "$tmp/iout" && break; sleep 0.05; done
sleep 0.3
kill -INT "$bg"
for _ in $(seq 100); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$bg" 2>/dev/null; then
	fail "sweep still running 10 s after SIGINT"
else
	wait "$bg"; rc=$?
	[ $rc -eq 1 ] && ok "SIGINT: exit 1" || fail "SIGINT: exit $rc"
fi
bg=
own_sinks tcp >/dev/null && fail "the sink survived the SIGINT" || ok "SIGINT: sink stopped"

# ---- --lab with auto cells (root) -------------------------------------------
# our_netns: the namespaces of this test's prefix that exist
our_netns() { ip netns list 2>/dev/null | grep -c "^$ZCGEN_LAB_PREFIX-"; }
if [ "$(id -u)" != 0 ]; then
	echo "skip: --lab part (needs root for network namespaces)"
elif ! command -v ip >/dev/null; then
	echo "skip: --lab part (iproute2's ip is missing)"
else
	[ "$(our_netns)" -eq 0 ] || fail "namespaces of $ZCGEN_LAB_PREFIX before the test"
	"$ZCGEN" sweep --lab --sizes 1200,65435 --modes auto,copy --duration 300ms \
		--json "$tmp/l.json" >"$tmp/lout" 2>"$tmp/lerr"; rc=$?
	cat "$tmp/lout"
	[ $rc -eq 0 ] && ok "lab sweep: exit 0" || fail "lab sweep: exit $rc: $(cat "$tmp/lerr")"
	l=$tmp/l.json
	jqt "lab: four cells, all ok, copy before auto" '(.cells | length) == 4 and all(.cells[]; .ok) and [.cells[] | "\(.size) \(.mode)"] == ["1200 copy", "1200 auto", "65435 copy", "65435 auto"]' "$l"
	jqt "lab: every cell carries mode_used; copy cells used copy" 'all(.cells[]; .mode_used != null) and all(.cells[] | select(.mode == "copy"); .mode_used == "copy")' "$l"
	jqt "lab: auto cells say what they used, why, and whether they switched" 'all(.cells[] | select(.mode == "auto"); (.mode_used | IN("copy", "zc-fixed", "mixed")) and (.mode_planned | IN("copy", "zc-fixed")) and (.mode_reason | startswith("auto chose")) and (.auto_switched | type) == "boolean" and (if .auto_switched then .auto_switch_sends > 0 else .mode_used == .mode_planned end))' "$l"
	# without zc-fixed in the sweep there is no "better of copy and zc-fixed"
	jqt "lab: vs_best null without zc-fixed" 'all(.cells[] | select(.mode == "auto"); has("vs_best") and .vs_best == null)' "$l"
	jqt "lab: sent through the lab's veth to its sink" '.environment.lab == true and .environment.own_receiver == false and .environment.driver == "veth" and (.environment.dest | startswith("198.18.0.2:"))' "$l"
	used=$(jq -r '.cells[] | select(.mode == "auto" and .size == 1200) | .mode_used' "$l")
	grep -Eq "^ +1200 .* [0-9]+ \($used(->copy)?\) " "$tmp/lout" && ok "lab: table shows auto's mode" ||
		fail "lab: table shows auto's mode ($used)"
	"$ZCGEN" lab status >/dev/null 2>&1 && fail "lab: still up after the sweep that brought it up" ||
		ok "lab: down after the sweep"
	[ "$(our_netns)" -eq 0 ] && ok "lab: no namespace of $ZCGEN_LAB_PREFIX left" ||
		fail "lab: namespaces left: $(ip netns list | grep "^$ZCGEN_LAB_PREFIX-")"

	# a lab that was up before stays up
	if "$ZCGEN" lab up --queues 1 >"$tmp/up" 2>&1; then
		"$ZCGEN" sweep --lab --sizes 4000 --modes auto --duration 200ms >"$tmp/rout" 2>&1; rc=$?
		[ $rc -eq 0 ] && grep -q 'reused' "$tmp/rout" && ok "lab: a lab already up is reused" ||
			fail "lab: reuse: exit $rc: $(tail -3 "$tmp/rout")"
		"$ZCGEN" lab status >/dev/null 2>&1 && ok "lab: a lab that was up stays up" ||
			fail "lab: the sweep took down a lab it did not bring up"
		"$ZCGEN" lab down >/dev/null 2>&1
	else
		fail "lab up: $(cat "$tmp/up")"
	fi

	# SIGINT mid-cell: the sweep prints what it has, exits 1, and takes the lab down
	"$ZCGEN" sweep --lab --sizes 1200,4000 --modes copy,auto --duration 10s >"$tmp/liout" 2>&1 &
	bg=$!
	for _ in $(seq 200); do grep -q '^zcgen sweep:' "$tmp/liout" && break; sleep 0.05; done
	sleep 0.5
	kill -INT "$bg"
	for _ in $(seq 150); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$bg" 2>/dev/null; then
		fail "lab: sweep still running 15 s after SIGINT"
	else
		wait "$bg"; rc=$?
		[ $rc -eq 1 ] && ok "lab: SIGINT: exit 1" || fail "lab: SIGINT: exit $rc: $(tail -3 "$tmp/liout")"
		grep -q 'not run (interrupted)' "$tmp/liout" && ok "lab: SIGINT: the table was printed" ||
			fail "lab: SIGINT: no table"
	fi
	bg=
	[ "$(our_netns)" -eq 0 ] && ok "lab: SIGINT: no namespace of $ZCGEN_LAB_PREFIX left" ||
		fail "lab: SIGINT: namespaces left: $(ip netns list | grep "^$ZCGEN_LAB_PREFIX-")"
fi

[ $fails -eq 0 ] && echo "all passed" || echo "$fails failed"
[ $fails -eq 0 ]
