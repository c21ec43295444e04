#!/usr/bin/env bash
# t_merge.sh - zcgen merge (docs/fleet.md, "Other launchers"): two short runs towards one sink,
# both started with --start-at, merged: hosts[] in input order, total.bytes the exact sum, the
# receivers' counts summed, the start skew from the runs' starts; refusals name the file and
# the reason (missing, not JSON, not a run report, iperf3's layout, a fleet report, mixed
# protocols) with exit 1, usage with exit 2.
source "$ZCGEN_SRC/tests/lib.sh"

command -v jq >/dev/null || skip "jq not installed"

start_sink tcp --queues 2
at=$(($(date +%s) + 3)) # whole seconds: 2-3 s for both to start and set up, on a busy machine too
for i in 1 2; do
	"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --server zcgen --duration 1 --quiet --start-at "$at" \
		--json "$T/r$i.json" >"$T/r$i.out" 2>&1 &
	eval "pid$i=\$!"
done
wait "$pid1"; rc1=$?
wait "$pid2"; rc2=$?
stop_sink
[ "$rc1" -eq 0 ] || sed 's/^/# /' "$T/r1.out"
[ "$rc2" -eq 0 ] || sed 's/^/# /' "$T/r2.out"
check "two runs at one --start-at: exit 0 and 0" [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]

"$ZCGEN" merge "$T/r1.json" "$T/r2.json" -o "$T/m.json" >"$T/m.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/m.out"
check "merge: exit 0" [ "$rc" -eq 0 ]
M=$T/m.json
b1=$(jq .total.bytes "$T/r1.json"); b2=$(jq .total.bytes "$T/r2.json"); bm=$(jq .total.bytes "$M")
check "total.bytes ($bm) is the exact sum ($b1 + $b2)" [ "$bm" -eq $((b1 + b2)) ] && [ "$b1" -gt 0 ] && [ "$b2" -gt 0 ]
h=$(uname -n)
check "hosts[]: ranks 0, 1 in input order, host from each report's environment.host ($h)" \
	[ "$(jq -c '[.hosts[] | [.rank, .host]]' "$M")" = "[[0,\"$h\"],[1,\"$h\"]]" ]
# a report without environment.host (an older zcgen's): the file's name stands for the host
jq 'del(.environment.host)' "$T/r1.json" >"$T/nohost.json"
"$ZCGEN" merge "$T/nohost.json" "$T/r2.json" -o "$T/m2.json" >/dev/null 2>&1
check "hosts[]: without environment.host, the file's name" \
	[ "$(jq -c '[.hosts[] | .host]' "$T/m2.json")" = "[\"nohost.json\",\"$h\"]" ]
check "... each with its run's total, queues and receiver" \
	jq -e --slurpfile a "$T/r1.json" --slurpfile b "$T/r2.json" \
	'.hosts[0].total == $a[0].total and .hosts[1].total == $b[0].total and
	 .hosts[0].queues == $a[0].queues and .hosts[1].receiver == $b[0].receiver' "$M"
r1=$(jq .receiver.bytes "$T/r1.json"); r2=$(jq .receiver.bytes "$T/r2.json")
check "receiver.bytes is the sum of the receivers' ($r1 + $r2)" [ "$(jq .receiver.bytes "$M")" -eq $((r1 + r2)) ]
check "queues[]: both runs', each with its rank" [ "$(jq -c '[.queues[].rank]' "$M")" = '[0,1]' ]
check "fleet.start_skew_s = the spread of the runs' measured starts" \
	jq -e --slurpfile a "$T/r1.json" --slurpfile b "$T/r2.json" \
	'(.fleet.start_skew_s - (($a[0].start_at.started_unix - $b[0].start_at.started_unix) | fabs) | fabs) < 1e-6
	 and .fleet.ranks == 2 and (.fleet.merged_from | length) == 2' "$M"
check "the summary line names the total" grep -q "2 reports -> .*: $bm bytes in all, start skew" "$T/m.out"
"$ZCGEN" merge "$T/r1.json" "$T/r2.json" >"$T/stdout.json" 2>"$T/stdout.err"
check "without -o: the report on standard output" jq -e --argjson b "$bm" '.total.bytes == $b' "$T/stdout.json"

# Refusals: FILE: reason, exit 1; nothing written.
echo '{"schema": 1, "total": ' >"$T/broken.json"
jq '{schema, total: {bytes: 1}, listen: "x"}' "$T/r1.json" >"$T/sink.json"
jq '{start: {}, end: {}, zcgen: .}' "$T/r1.json" >"$T/iperf3.json"
jq '.plan.protocol = "udp" | .environment.profile.protocol = "udp"' "$T/r2.json" >"$T/udp.json"
cp "$M" "$T/fleet.json"
refuse() { # refuse NAME PATTERN FILES...
	local name=$1 pat=$2; shift 2
	rm -f "$T/no.json"
	"$ZCGEN" merge "$@" -o "$T/no.json" >"$T/ref.out" 2>&1
	local rc=$?
	check "refused, $name: exit 1, names the file and why" \
		bash -c '[ "$1" -eq 1 ] && grep -q -- "$2" "$3"' _ "$rc" "$pat" "$T/ref.out"
	check "... nothing written" [ ! -s "$T/no.json" ]
}
refuse "a missing file" "zcgen merge: $T/none.json: .*No such file" "$T/r1.json" "$T/none.json"
refuse "not JSON" "zcgen merge: $T/broken.json:[0-9]*:[0-9]*: " "$T/r1.json" "$T/broken.json"
refuse "a sink's report" "zcgen merge: $T/sink.json: not a zcgen run report" "$T/sink.json" "$T/r1.json"
refuse "iperf3's layout" "zcgen merge: $T/iperf3.json: iperf3's layout" "$T/r1.json" "$T/iperf3.json"
refuse "a merged report" "zcgen merge: $T/fleet.json: already a merged" "$T/fleet.json" "$T/r1.json"
refuse "mixed protocols" "zcgen merge: $T/udp.json: protocol udp, but $T/r1.json is tcp" "$T/r1.json" "$T/udp.json"

"$ZCGEN" merge >"$T/u.out" 2>&1
check "no files: exit 2" [ $? -eq 2 ]
"$ZCGEN" merge --bogus "$T/r1.json" >"$T/u.out" 2>&1
check "an unknown option: exit 2" [ $? -eq 2 ]
finish
