#!/usr/bin/env bash
# t_iperf3_cli.sh - iperf3's words: `zcgen -c HOST ... -J` and `iperf3 -c HOST ... -J` against the
# same zcgen sink, read by one parser written for iperf3 (TCP and UDP); --json - writes only JSON,
# newline-terminated, to stdout (a run and a sink), appending when redirected with >>.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
command -v iperf3 >/dev/null || skip "iperf3 is not installed"

# The parser an iperf3 user already has: fails (exit 1) when a field it reads is missing.
TCP_PARSER='(.start.test_start.protocol == "TCP") and (.start.connecting_to.port > 0)
	and (.intervals | length) >= 1 and (.intervals[0].sum.bits_per_second > 0)
	and (.intervals[0].streams[0].bytes > 0)
	and (.end.sum_sent.bits_per_second > 0) and (.end.sum_received.bytes > 0)
	and (.end.streams[0].sender.bytes > 0) and (.end.streams[0].receiver.bytes > 0)
	and (.end.sum_sent.retransmits >= 0) and (.end.cpu_utilization_percent.host_total >= 0)'
UDP_PARSER='(.start.test_start.protocol == "UDP") and (.intervals[0].sum.packets > 0)
	and (.end.sum.packets > 0) and (.end.sum.lost_percent >= 0) and (.end.sum.jitter_ms >= 0)
	and (.end.sum_sent.bytes > 0) and (.end.sum_received.bytes > 0)
	and (.end.streams[0].udp.bytes > 0) and (.end.streams[0].udp.lost_packets >= 0)'

start_sink both
for tool in zcgen iperf3; do
	if [ $tool = zcgen ]; then cmd=("$ZCGEN"); else cmd=(iperf3); fi
	"${cmd[@]}" -c 127.0.0.1 -p "$SINK_PORT" -t 1 -P 2 -J >"$T/$tool-tcp.json" 2>"$T/$tool-tcp.err"
	rc=$?
	check "$tool -c -t 1 -P 2 -J: exit 0 ($rc)" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || cat "$T/$tool-tcp.err"
	check "$tool TCP: the iperf3 parser reads its JSON" jq -e "$TCP_PARSER" "$T/$tool-tcp.json"
	check "$tool TCP: two streams" [ "$(jq '.end.streams | length' "$T/$tool-tcp.json")" -eq 2 ]
	"${cmd[@]}" -c 127.0.0.1 -p "$SINK_PORT" -t 1 -u -b 50M -l 1400 -J >"$T/$tool-udp.json" 2>"$T/$tool-udp.err"
	rc=$?
	check "$tool -c -u -b 50M -J: exit 0 ($rc)" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || cat "$T/$tool-udp.err"
	check "$tool UDP: the iperf3 parser reads its JSON" jq -e "$UDP_PARSER" "$T/$tool-udp.json"
done
check "zcgen -J: stdout is one JSON document" [ "$(jq -s length "$T/zcgen-tcp.json")" -eq 1 ]
check "zcgen -J: ends with a newline" [ "$(tail -c1 "$T/zcgen-tcp.json" | od -An -c | tr -d ' ')" = '\n' ]
check "zcgen -J: sum_received is the sink's count, beside zcgen's own report" \
	jq -e '.end.sum_received.bytes == .zcgen.receiver.bytes' "$T/zcgen-tcp.json"
rate=$(jq '.end.sum_sent.bits_per_second' "$T/zcgen-udp.json")
check "zcgen -u -b 50M: paced to 50 Mbit/s ($rate)" jq -e '.end.sum_sent.bits_per_second > 45e6 and .end.sum_sent.bits_per_second < 51e6' "$T/zcgen-udp.json"

# --- --json -: only JSON on stdout, appended to a redirected file rather than truncating it
echo '{"earlier": true}' >"$T/append.json"
for i in 1 2; do
	"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 0.5 --json - >>"$T/append.json" 2>"$T/append.err"
done
check "--json - twice with >>: three JSON documents in the file" [ "$(jq -s length "$T/append.json")" -eq 3 ]
check "... the text went to stderr" grep -q 'bytes in' "$T/append.err"
stop_sink

"$ZCGEN" sink --listen 127.0.0.1:0 --quiet --duration 0.5 --json - >"$T/sinkjson.out" 2>"$T/sinkjson.err"
check "sink --json -: JSON on stdout" jq -e '.listen and .total' "$T/sinkjson.out"
check "sink --json -: the listening line on stderr" grep -q '^listening on' "$T/sinkjson.err"
check "sink --json -: no file named -" [ ! -e ./- ]

"$ZCGEN" -c 127.0.0.1 -R 2>"$T/r.err"
rc=$?
check "zcgen -c HOST -R: exit 2 ($rc), saying why" bash -c '[ "$0" -eq 2 ] && grep -q "reverse" "$1"' "$rc" "$T/r.err"
finish
