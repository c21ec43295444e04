#!/usr/bin/env bash
# t_iperf3_client.sh - zcgen as the client of a real `iperf3 -s` (--server iperf3) on loopback:
# the server counts what zcgen sent (TCP: the same bytes; UDP: received + lost = sent), its
# streams are zcgen's, a busy server and SIGINT end cleanly, and a non-iperf3 receiver is named.
source "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "iperf3 is not installed (apt-get install iperf3)"
command -v jq >/dev/null || skip "jq is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"

IPERF_PID=
stop_iperf() {
	[ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null && wait "$IPERF_PID" 2>/dev/null
	IPERF_PID=
}
trap 'stop_iperf; cleanup' EXIT

# start_iperf OUTFILE [ARGS...]: `iperf3 -s` on 127.0.0.1 and a free port; sets IPERF_PID, IPERF_PORT
start_iperf() {
	local out=$1; shift
	for _ in $(seq 20); do
		IPERF_PORT=$((20000 + RANDOM % 40000))
		ss -Hltn "sport = :$IPERF_PORT" | grep -q . && continue
		iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" "$@" >"$out" 2>&1 &
		IPERF_PID=$!
		for _ in $(seq 100); do
			ss -Hltn "sport = :$IPERF_PORT" | grep -q . && return 0
			kill -0 "$IPERF_PID" 2>/dev/null || break
			sleep 0.05
		done
		stop_iperf
	done
	echo "FAIL - iperf3 -s did not start"; cat "$out"; exit 1
}

# wait_iperf: a one-off (-1) server exits after its test; give it 10 s
wait_iperf() {
	for _ in $(seq 200); do kill -0 "$IPERF_PID" 2>/dev/null || break; sleep 0.05; done
	stop_iperf
}

# within A B: A and B differ by at most 0.1% (and neither is 0)
within() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && b > 0 && d <= b / 1000) }'; }

for mode in copy zc-fixed; do
	for shape in 2x1 1x2; do
		q=${shape%x*} s=${shape#*x} name="tcp $mode ${q}q x ${s}s"
		start_iperf "$T/srv.json" -1 -J
		"$ZCGEN" --dest "127.0.0.1:$IPERF_PORT" --server iperf3 --queues "$q" --streams "$s" \
			--cpus 0-$((q - 1)) --mode "$mode" --duration 1 --json "$T/run.json" >"$T/run.out" 2>&1
		rc=$?
		wait_iperf
		check "$name: exit 0" [ "$rc" -eq 0 ]
		[ "$rc" -eq 0 ] || cat "$T/run.out"
		sent=$(jq .total.bytes "$T/run.json")
		rcv=$(jq .receiver.bytes "$T/run.json")
		srv=$(jq .end.sum_received.bytes "$T/srv.json")
		check "$name: the server's count in zcgen's report ($rcv) agrees with what zcgen sent ($sent)" \
			within "$rcv" "$sent"
		check "$name: iperf3 -s -J itself says $srv, zcgen sent $sent" within "$srv" "$sent"
		check "$name: the server had $((q * s)) streams" \
			[ "$(jq '.end.streams | length' "$T/srv.json")" -eq $((q * s)) ]
		check "$name: receiver.source iperf3, one entry per stream, mapped to queue and stream" \
			[ "$(jq -c '[.receiver.source, [.receiver.streams[] | [.queue, .stream]]]' "$T/run.json")" = \
			  "$(jq -nc --argjson q "$q" --argjson s "$s" '["iperf3", [range($q) as $a | range($s) as $b | [$a, $b]]]')" ]
		check "$name: per-stream bytes add up to receiver.bytes" \
			[ "$(jq '[.receiver.streams[].bytes] | add' "$T/run.json")" -eq "$rcv" ]
		check "$name: total.received_bits_per_second and per-queue cpu_s" \
			[ "$(jq '.total.received_bits_per_second > 0 and ([.queues[].cpu_s > 0] | all)' "$T/run.json")" = true ]
		check "$name: the table has the receiver line" grep -q '^receiver (iperf3): ' "$T/run.out"
	done
done

# UDP: zcgen's header is iperf3's with 64-bit counters, so the server counts loss from it.
# The server on another CPU than zcgen's ring (iperf3 -A), where there is one.
start_iperf "$T/srv.json" -1 -J $( [ "$(nproc)" -ge 2 ] && echo -A 1)
"$ZCGEN" --dest "127.0.0.1:$IPERF_PORT" --iperf3-server --protocol udp --size 1400 --queues 1 --cpus 0 \
	--mode zc --duration 1 --json "$T/run.json" >"$T/run.out" 2>&1
rc=$?
wait_iperf
check "udp zc: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/run.out"
sends=$(jq .total.sends "$T/run.json")
got=$(jq .receiver.packets "$T/run.json")
lost=$(jq .receiver.lost "$T/run.json")
tail=$(jq .receiver.tail_lost "$T/run.json")
# iperf3 counts loss from sequence gaps: drops at the very end (tail_lost) are in neither count
check "udp zc: received ($got) + lost ($lost) + lost at the end ($tail) equals sent ($sends)" \
	[ "$got" -gt 0 -a $((got + lost + tail)) -eq "$sends" ]
check "udp zc: hardly any lost at the end, where iperf3 cannot see it ($tail of $sends)" \
	[ $((tail * 20)) -le "$sends" ]
check "udp zc: iperf3 -s -J counts the same datagrams ($(jq .end.sum.packets "$T/srv.json") up to the last seen)" \
	[ "$(jq .end.sum.packets "$T/srv.json")" -eq $((sends - tail)) -a "$(jq .end.sum.lost_packets "$T/srv.json")" -eq "$lost" ]
# How much is lost depends on whether the single-threaded iperf3 gets a CPU (a few % on an
# idle 2-core box, far more while other jobs run): only a gross failure is an error here.
check "udp zc: loss is not total ($(jq .receiver.lost_percent "$T/run.json")%)" \
	[ "$(jq '.receiver.lost_percent < 90' "$T/run.json")" = true ]
check "udp zc: one stream on both sides, jitter measured" \
	[ "$(jq '(.receiver.streams | length) == 1 and .receiver.jitter_ms > 0' "$T/run.json")" = true -a \
	  "$(jq '.end.streams | length' "$T/srv.json")" -eq 1 ]

# A busy server, SIGINT in the middle, and the server still serves the next test.
start_iperf "$T/srv.txt"
"$ZCGEN" --dest "127.0.0.1:$IPERF_PORT" --server iperf3 --queues 1 --cpus 0 --duration 20 --live \
	--json "$T/int.json" >"$T/int.out" 2>&1 &
zpid=$!
for _ in $(seq 100); do grep -q '^\[' "$T/int.out" && break; sleep 0.05; done
"$ZCGEN" --dest "127.0.0.1:$IPERF_PORT" --server iperf3 --queues 1 --cpus 0 --duration 1 >"$T/busy.out" 2>&1
rc=$?
check "busy: a second client exits 1" [ "$rc" -eq 1 ]
check "busy: and says the server is busy" grep -q 'is busy with another test' "$T/busy.out"
kill -INT $zpid
wait $zpid
rc=$?
check "sigint: exit 130 (128 + SIGINT, after the report: docs/cli.md)" [ "$rc" -eq 130 ]
check "sigint: the report says it was interrupted" [ "$(jq .total.interrupted "$T/int.json")" = true ]
check "sigint: the table was printed" grep -q '^total' "$T/int.out"
check "sigint: no receiver figures after CLIENT_TERMINATE" [ "$(jq 'has("receiver")' "$T/int.json")" = false ]
sleep 0.2
check "sigint: iperf3 -s is still running" kill -0 "$IPERF_PID"
"$ZCGEN" --dest "127.0.0.1:$IPERF_PORT" --server iperf3 --queues 1 --cpus 0 --duration 1.5 \
	--json "$T/next.json" >"$T/next.out" 2>&1
rc=$?
check "after sigint: the next test runs (exit 0)" [ "$rc" -eq 0 ]
check "after sigint: and its counts agree" within "$(jq .receiver.bytes "$T/next.json")" "$(jq .total.bytes "$T/next.json")"
check "after sigint: 1.5 s is sent as 2 s, and zcgen says so" grep -q 'sent as 2 s' "$T/next.out"
stop_iperf
check "iperf3 -s reported no error beyond the client's termination" \
	[ "$(grep -i 'error' "$T/srv.txt" | grep -vc 'the client has terminated')" -eq 0 ]
grep -i error "$T/srv.txt" | grep -v 'the client has terminated'

# server: zcgen against a receiver that does not speak the protocol: a plain TCP listener
# that reads and never answers (what a zcgen sink without the server side does)
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
while c.recv(65536): pass
' >"$T/plain.port" 2>/dev/null &
PLAIN_PID=$!
for _ in $(seq 100); do [ -s "$T/plain.port" ] && break; sleep 0.05; done
"$ZCGEN" --dest "127.0.0.1:$(cat "$T/plain.port")" --server zcgen --duration 1 >"$T/plain.out" 2>&1
rc=$?
kill $PLAIN_PID 2>/dev/null; wait $PLAIN_PID 2>/dev/null
check "plain receiver: exit 1" [ "$rc" -eq 1 ]
check "plain receiver: the message says it does not speak the protocol and what to do" \
	grep -q 'does not answer the iperf3 control protocol.*use --server none' "$T/plain.out"
finish
