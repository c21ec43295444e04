#!/usr/bin/env bash
# t_start_at.sh - zcgen run --start-at (docs/cli.md, docs/fleet.md) on loopback: the run sets
# up, waits for the wall-clock time and starts its measurement at or after it (Unix seconds,
# RFC 3339 with an offset, through the iperf3 protocol too); a past or malformed time is
# refused before anything is sent; a stop signal during the wait ends the run as a signal does.
source "$ZCGEN_SRC/tests/lib.sh"

command -v jq >/dev/null || skip "jq not installed"
command -v python3 >/dev/null || skip "python3 not installed"
now() { date +%s.%N; }
# ge A B: A >= B (floating point)
ge() { python3 -c "import sys; sys.exit(not float(sys.argv[1]) >= float(sys.argv[2]))" "$@"; }

start_sink tcp

# 1. Unix seconds with a fraction, 2 s ahead: the measured start is at or after it, and the
#    run's measurement (1 s) ends after the asked time plus the duration.
at=$(python3 -c "import time; print('%.3f' % (time.time() + 2))")
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 1 --quiet --start-at "$at" \
	--json "$T/unix.json" >"$T/unix.out" 2>&1
rc=$?
end=$(now)
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/unix.out"
check "unix seconds: exit 0" [ "$rc" -eq 0 ]
check "... said it waits" grep -q "waiting .* s once set up" "$T/unix.out"
check "... start_at.asked_unix is the time asked ($at)" \
	python3 -c "import sys, json; j = json.load(open(sys.argv[1])); sys.exit(abs(j['start_at']['asked_unix'] - float(sys.argv[2])) > 1e-6)" "$T/unix.json" "$at"
started=$(jq '.start_at.started_unix' "$T/unix.json")
check "... measured start ($started) at or after the asked time ($at)" ge "$started" "$at"
check "... late_s = started - asked, >= 0" \
	jq -e '.start_at.late_s >= 0 and ((.start_at.started_unix - .start_at.asked_unix - .start_at.late_s) | fabs) < 1e-6' "$T/unix.json"
check "... the run ended after the asked time + its 1 s ($end)" ge "$end" "$(python3 -c "print($at + 1)")"
check "... it sent" jq -e '.total.bytes > 0' "$T/unix.json"

# 2. RFC 3339 with an offset (+01:00), whole seconds, through the iperf3 control protocol
#    (the sink's): the start waits, then TEST_START.
t=$(($(date +%s) + 3))
rfc=$(date -u -d "@$((t + 3600))" +%Y-%m-%dT%H:%M:%S+01:00)
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --server zcgen --duration 1 --quiet --start-at "$rfc" \
	--json "$T/rfc.json" >"$T/rfc.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/rfc.out"
check "rfc 3339 $rfc, --server zcgen: exit 0" [ "$rc" -eq 0 ]
check "... asked_unix is $t, asked is its UTC form" \
	jq -e --argjson t "$t" --arg u "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%S).000000000Z" \
	'.start_at.asked_unix == $t and .start_at.asked == $u' "$T/rfc.json"
check "... measured start at or after it" jq -e '.start_at.started_unix >= .start_at.asked_unix' "$T/rfc.json"
check "... the receiver counted the run" jq -e '.receiver.bytes > 0' "$T/rfc.json"

# 3. Refusals before anything is sent: a past time, a malformed one, one without a zone.
for bad in "$(($(date +%s) - 10))" 2020-01-01T00:00:00Z; do
	"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 1 --start-at "$bad" >"$T/past.out" 2>&1
	rc=$?
	check "past --start-at $bad: exit 2" [ "$rc" -eq 2 ]
	check "... says it is in the past and nothing was sent" grep -q "in the past; nothing was sent" "$T/past.out"
done
for bad in tomorrow 2026-13-01T00:00:00Z 2026-12-05T04:00:00 1e9; do
	"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 1 --start-at "$bad" >"$T/bad.out" 2>&1
	rc=$?
	check "--start-at $bad: exit 2 with the reason" \
		bash -c '[ "$1" -eq 2 ] && grep -q -- "--start-at $2: " "$3"' _ "$rc" "$bad" "$T/bad.out"
done

# 4. SIGINT during the wait: the run ends at once as for a signal (130), nothing sent, no report.
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 1 --quiet --start-at "$(($(date +%s) + 60))" \
	--json "$T/int.json" >"$T/int.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "waiting" "$T/int.out" && break; sleep 0.05; done
t0=$(date +%s)
kill -INT "$pid"
wait "$pid"
rc=$?
t1=$(date +%s)
[ "$rc" -eq 130 ] || sed 's/^/# /' "$T/int.out"
check "SIGINT during the wait: exit 130" [ "$rc" -eq 130 ]
check "... within 5 s of the signal" [ $((t1 - t0)) -le 5 ]
check "... says it stopped while waiting" grep -q "stopped while waiting for --start-at" "$T/int.out"
check "... no report was written" bash -c '! [ -s "$1" ]' _ "$T/int.json"

stop_sink
finish
