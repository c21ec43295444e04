#!/bin/bash
# t_stream_metrics.sh - --json-stream and --metrics, for a run and the sink:
# one JSON event per line on stdout (start, intervals, end) with the text on
# stderr, a Prometheus text file that agrees with the report; the sink's
# per-worker rate over the time its data arrived, not its listening time.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is needed"

"$ZCGEN" sink --listen 127.0.0.1:0 --protocol udp --interval 300ms --json-stream \
	--metrics "$T/sink.prom" --json "$T/sink.json" >"$T/sink.stream" 2>"$T/sink.err" &
SINK_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/sink.err" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/^listening on .*:\([0-9]*\) .*/\1/p' "$T/sink.err")
[ -n "$port" ] || { cat "$T/sink.err"; fail "the sink did not start (its listening line on stderr)"; finish; exit 1; }
sleep 0.5
"$ZCGEN" --dest "127.0.0.1:$port" --protocol udp --size 1000 --rate 20kpps --queues 2 --duration 1 \
	--interval 250ms --json-stream --metrics "$T/run.prom" --json "$T/run.json" \
	>"$T/run.stream" 2>"$T/run.err"
rc=$?
sleep 0.8
stop_sink
check "run: exit 0" [ "$rc" -eq 0 ]
check "run: every stdout line is a JSON event" bash -c "jq -e .event '$T/run.stream' >/dev/null"
check "run: start, >= 3 intervals, end" \
	[ "$(jq -sc '[.[0].event, (map(select(.event == "interval")) | length >= 3), .[-1].event]' "$T/run.stream")" = '["start",true,"end"]' ]
check "run: the table went to stderr" grep -q '^total ' "$T/run.err"
check "run: start carries the plan's queues" [ "$(jq -s '.[0].data.plan.queues | length' "$T/run.stream")" -eq 2 ]
check "run: the end event is the --json report" \
	[ "$(jq -s '.[-1].data.total.bytes' "$T/run.stream")" = "$(jq .total.bytes "$T/run.json")" ]
check "run: interval events are the report's intervals" \
	[ "$(jq -sc '[.[] | select(.event == "interval") | .data.bytes]' "$T/run.stream")" = "$(jq -c '[.intervals[].bytes]' "$T/run.json")" ]
check "run: metrics bytes_total per queue = the report's bytes (omit 0)" \
	[ "$(awk '/^zcgen_bytes_total/ { s += $2 } END { print s }' "$T/run.prom")" = "$(jq .total.bytes "$T/run.json")" ]
check "run: metrics has HELP and TYPE for each family, running 0 at the end" \
	bash -c "grep -q '^# TYPE zcgen_sends_total counter' '$T/run.prom' && grep -q '^zcgen_errors_total{queue=\"1\"} 0' '$T/run.prom' && grep -q '^zcgen_running 0' '$T/run.prom'"
check "run: no FILE.tmp left" [ ! -e "$T/run.prom.tmp" ]

check "sink: start, intervals, end on stdout" \
	[ "$(jq -sc '[.[0].event, .[-1].event, .[0].data.schema]' "$T/sink.stream")" = '["start","end",1]' ]
check "sink: the end event is the --json document" \
	[ "$(jq -s '.[-1].data.total.packets' "$T/sink.stream")" = "$(jq .total.packets "$T/sink.json")" ]
check "sink: metrics packets and loss" \
	bash -c "grep -q '^zcgen_sink_packets_total{worker=\"0\"} $(jq .total.packets "$T/sink.json")$' '$T/sink.prom' && grep -q '^zcgen_sink_lost_total $(jq .total.lost "$T/sink.json")$' '$T/sink.prom'"
# listened for about 2.3 s, data for about 1 s: the worker's rate is over the second
check "sink: the worker's active time is the data's, not the listening time" \
	[ "$(jq '.workers[0].active_s < 0.7 * .duration_s and .workers[0].active_s > 0.8' "$T/sink.json")" = true ]
check "sink: the worker's rate over its active time" \
	[ "$(jq '.workers[0] | (.bits_per_second - .bytes * 8 / .active_s) | fabs < 1' "$T/sink.json")" = true ]
"$ZCGEN" sink --listen 127.0.0.1:0 --json - --json-stream >/dev/null 2>&1
check "sink: --json - with --json-stream exits 2" [ $? -eq 2 ]
"$ZCGEN" --dest 127.0.0.1:1 --json - --json-stream >/dev/null 2>&1
check "run: --json - with --json-stream exits 2" [ $? -eq 2 ]

# auto on loopback: the kernel copies every zero-copy send, the rings switch to copy,
# and the summary line names the mode that ran (the report's plan.mode_used)
start_sink tcp
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --size 64K --mode auto --duration 1 --json "$T/auto.json" \
	>"$T/auto.out" 2>&1
stop_sink
used=$(jq -r .plan.mode_used "$T/auto.json")
check "auto: the summary says the mode that ran ($used)" grep -q "bytes in .* s ($used, 65536 B sends)" "$T/auto.out"
finish
