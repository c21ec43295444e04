#!/usr/bin/env bash
# t_sink_iperf3.sh - a real `iperf3 -c` against `zcgen sink` on loopback (TCP, -P 2, UDP,
# two clients at once, busy with --max-tests 1, reverse refused), plain streams on the same
# sink, and `zcgen sink --verify`.
source "$(dirname "$0")/lib.sh"

for tool in iperf3 jq python3; do
	command -v $tool >/dev/null || skip "$tool not installed (the test needs it as a peer)"
done
iperf3 --version 2>/dev/null | grep -q '^iperf 3\.' || skip "iperf3 is not iperf 3.x: $(iperf3 --version 2>&1 | head -n1)"

# within A B PERMILLE: |A - B| <= B * PERMILLE / 1000
within() { python3 -c "import sys; a, b, p = map(float, sys.argv[1:]); sys.exit(abs(a - b) > b * p / 1000)" "$@"; }

# One sink (two workers: streams of one test may land on either) for every iperf3 test.
start_sink tcp --queues 2
I=127.0.0.1

# ---- TCP, one stream, then two
n=0
for P in 1 2; do
	n=$((n + 1))
	timeout 30 iperf3 -c $I -p "$SINK_PORT" -t 2 -P $P -J >"$T/tcp$P.json" 2>"$T/tcp$P.err"
	rc=$?
	check "iperf3 -P $P: exit 0 ($(jq -r '.error // empty' "$T/tcp$P.json" 2>/dev/null))" [ $rc -eq 0 ]
	eval "recv$P=\$(jq .end.sum_received.bytes \"\$T/tcp\$P.json\")"
	eval "sent$P=\$(jq .end.sum_sent.bytes \"\$T/tcp\$P.json\")"
done

# ---- UDP at 200 Mbit/s, 1400-byte datagrams
timeout 30 iperf3 -c $I -p "$SINK_PORT" -u -b 200M -l 1400 -t 2 -J >"$T/udp.json" 2>"$T/udp.err"
rc=$?
check "iperf3 -u: exit 0 ($(jq -r '.error // empty' "$T/udp.json" 2>/dev/null))" [ $rc -eq 0 ]

# ---- a second client while one runs: served at the same time (several tests at once),
# each told its own counts. The second starts once the first one's data flows (its first
# interval line, iperf3 --forceflush), not after a guessed sleep.
timeout 30 iperf3 -c $I -p "$SINK_PORT" -t 3 -i 0.2 --forceflush >"$T/long.out" 2>&1 &
long=$!
for _ in $(seq 200); do grep -q 'bits/sec' "$T/long.out" && break; sleep 0.05; done
timeout 20 iperf3 -c $I -p "$SINK_PORT" -t 1 -J >"$T/second.json" 2>&1
rc=$?
wait $long
lrc=$?
check "the running test still ends well" [ $lrc -eq 0 ]
check "a second client at the same time: exit 0 ($(jq -r '.error // empty' "$T/second.json" 2>/dev/null))" [ $rc -eq 0 ]
check "... its receiver bytes are what it sent" \
	[ "$(jq '.end.sum_received.bytes == .end.sum_sent.bytes and .end.sum_sent.bytes > 0' "$T/second.json")" = true ]

# ---- reverse is refused with a reason, and the sink goes on
timeout 20 iperf3 -c $I -p "$SINK_PORT" -t 1 -R >"$T/rev.out" 2>&1
rc=$?
check "iperf3 -R refused (exit $rc): $(tail -n1 "$T/rev.out")" [ $rc -ne 0 ]

# ---- plain streams on the same sink: a zcgen TCP run, zcgen-style UDP datagrams
"$ZCGEN" --dest "$I:$SINK_PORT" --server none --queues 2 --cpus 0-1 --duration 1 \
	--json "$T/run.json" >"$T/run.out" 2>&1
rc=$?
check "plain zcgen run: exit 0" [ $rc -eq 0 ]
python3 - "$SINK_PORT" <<'PY' || fail "udp sender"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for q in range(1, 101):
    s.sendto(struct.pack("!IIQ", 1, 2, q) + bytes(184), ("127.0.0.1", int(sys.argv[1])))
PY
sleep 0.5
stop_sink
S=$SINK_JSON

# ---- what iperf3 says against what the sink counted
t_bytes() { jq "[.iperf3_tests[] | select(.test == $1) | .bytes] | add" "$S"; }
# the sink's own final count of that test's streams (not only what it told the client)
s_bytes() { jq "[.streams[] | select(.iperf3_test == $1) | .bytes] | add" "$S"; }
for P in 1 2; do
	r=$(eval echo "\$recv$P") s=$(eval echo "\$sent$P") tb=$(t_bytes $P) sb=$(s_bytes $P)
	check "-P $P: iperf3's receiver bytes ($r) are the sink's ($tb)" [ "$r" = "$tb" ]
	check "-P $P: the sink's final stream count ($sb) within 0.1% of that" within "$sb" "$r" 1
	check "-P $P: received within 0.1% of sent ($s)" within "$r" "$s" 1
	check "-P $P: $P stream(s), ids and client bytes" [ "$(jq -c "[.iperf3_tests[] | select(.test == $P)][0] |
		[.result, .protocol, ([.streams[].id]), (.client_bytes == $s)]" "$S")" = \
		"[\"ok\",\"tcp\",$([ $P = 1 ] && echo '[1]' || echo '[1,3]'),true]" ]
done
check "-P 2: per-stream bytes match iperf3's by id" [ "$(jq -c '[.end.streams[].receiver | .bytes]' "$T/tcp2.json")" = \
	"$(jq -c '[.iperf3_tests[] | select(.test == 2) | .streams[].bytes]' "$S")" ]

u_sent=$(jq .end.sum.packets "$T/udp.json")
u_lost=$(jq .end.sum.lost_packets "$T/udp.json")
read -r s_pk s_lost s_proto <<<"$(jq -r '[.iperf3_tests[] | select(.test == 3)][0] |
	"\([.streams[].packets] | add) \([.streams[].lost] | add) \(.protocol)"' "$S")"
check "udp: a udp test" [ "$s_proto" = udp ]
check "udp: sink packets ($s_pk) + lost ($s_lost) = iperf3 sent ($u_sent)" [ $((s_pk + s_lost)) -eq "$u_sent" ]
check "udp: iperf3's receiver lost ($u_lost) = the sink's ($s_lost)" [ "$u_lost" -eq "$s_lost" ]
check "udp: jitter given" [ "$(jq '[.iperf3_tests[] | select(.test == 3)][0].streams[0].jitter_ms >= 0' "$S")" = true ]
check "udp: the stream is listed as iperf3's" \
	[ "$(jq -r '[.streams[] | select(.iperf3_test == 3)][0] | "\(.source) \(.protocol) \(.iperf3_id)"' "$S")" = "iperf3 udp 1" ]

check "5 tests ran, none refused" \
	[ "$(jq '(.iperf3_tests | map(select(.result == "ok")) | length) == 5 and .total.iperf3_denied == 0' "$S")" = true ]
check "the long test and the second one overlapped on the sink" \
	[ "$(jq '[.iperf3_tests[] | select(.test == 4 or .test == 5)] | .[1].start_s < .[0].end_s' "$S")" = true ]
check "... the second one's count is the one its client was told" \
	[ "$(jq '[.iperf3_tests[] | select(.test == 5)][0] | .bytes' "$S")" = "$(jq .end.sum_received.bytes "$T/second.json")" ]
check "reverse: an error test, said why" \
	[ "$(jq -r '.iperf3_tests[] | select(.result == "error") | .error' "$S" | grep -c reverse)" = 1 ]

zsent=$(jq .total.bytes "$T/run.json")
zgot=$(jq '[.streams[] | select(.source == "plain" and .protocol == "tcp") | .bytes] | add' "$S")
check "plain zcgen TCP: sent ($zsent) = received ($zgot)" [ "$zsent" -gt 0 -a "$zsent" = "$zgot" ]
check "plain zcgen TCP: counted as connections" \
	[ "$(jq '.total.connections' "$S")" = "$(jq '[.streams[] | select(.source == "plain" and .protocol == "tcp")] | length' "$S")" ]
check "plain UDP on a tcp sink: 100 datagrams, none lost" \
	[ "$(jq -c '[.streams[] | select(.source == "plain" and .protocol == "udp")][0] | [.packets, .lost, .bytes]' "$S")" = "[100,0,20000]" ]
grep -q '^iperf3 test 2 from ' "$T/sink-1.out" && ok "the table shows the tests" || fail "no iperf3 test in the table"

# ---- --verify: zcgen's pattern, byte = stream offset % 251 (gen/payload.h), one byte corrupted
start_sink both --verify
grep -q 'listening on .*(tcp+udp, 1 worker)' "$SINK_OUT" && ok "--protocol both" || fail "--protocol both: $(head -n1 "$SINK_OUT")"
python3 - "$SINK_PORT" <<'PY' || fail "verify sender"
import socket, struct, sys
port = int(sys.argv[1])
def pattern(off, n):
    return bytes((off + i) % 251 for i in range(n))
# TCP: 1 MB in odd-sized writes (the pattern follows the stream offset), one byte flipped
data = bytearray(pattern(0, 1000000))
data[777777] ^= 0xff
with socket.create_connection(("127.0.0.1", port)) as c:
    for i in range(0, len(data), 4099):
        c.sendall(data[i:i + 4099])
with socket.create_connection(("127.0.0.1", port)) as c:   # a clean one
    c.sendall(pattern(0, 300000))
# UDP: after the 16-byte header the pattern starts again at offset 0 in every datagram
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for q in range(1, 51):
    body = bytearray(pattern(0, 1384))
    if q == 7:
        body[1000] ^= 1
    u.sendto(struct.pack("!IIQ", 1, 2, q) + body, ("127.0.0.1", port))
PY
sleep 0.5
stop_sink
V=$SINK_JSON
check "verify: tcp, one corrupt byte in the bad stream" \
	[ "$(jq -c '[.streams[] | select(.protocol == "tcp") | [.bytes, .corrupt_bytes]] | sort' "$V")" = "[[300000,0],[1000000,1]]" ]
check "verify: udp, one corrupt byte in one datagram" \
	[ "$(jq -c '[.streams[] | select(.protocol == "udp")][0] | [.packets, .corrupt_bytes, .corrupt_datagrams]' "$V")" = "[50,1,1]" ]
check "verify: totals" [ "$(jq -c '[.verify, .total.corrupt_bytes, .total.corrupt_datagrams]' "$V")" = "[true,2,1]" ]
grep -q 'verify: PAYLOAD CORRUPT: 2 corrupt bytes, 1 corrupt datagrams' "$SINK_OUT" && ok "verify: the table says so" \
	|| fail "verify: $(grep verify "$SINK_OUT")"

# ---- --max-tests 1: a second client while one runs is refused, as by iperf3 -s
start_sink tcp --max-tests 1
timeout 30 iperf3 -c $I -p "$SINK_PORT" -t 3 -i 0.2 --forceflush >"$T/long1.out" 2>&1 &
long=$!
for _ in $(seq 200); do grep -q 'bits/sec' "$T/long1.out" && break; sleep 0.05; done
timeout 20 iperf3 -c $I -p "$SINK_PORT" -t 1 >"$T/busy.out" 2>&1
rc=$?
wait $long
lrc=$?
stop_sink
check "--max-tests 1: the running test still ends well" [ $lrc -eq 0 ]
busy=no
[ $rc -ne 0 ] && grep -q 'the server is busy' "$T/busy.out" && busy=yes
check "--max-tests 1: a second client refused (exit $rc): $(tail -n1 "$T/busy.out")" [ $busy = yes ]
check "--max-tests 1: 1 test ran, 1 refused" \
	[ "$(jq -c '[(.iperf3_tests | map(select(.result == "ok")) | length), .total.iperf3_denied]' "$SINK_JSON")" = "[1,1]" ]

# ---- the lab's sink (one, --protocol both): iperf3 TCP and UDP tests against it
if [ "$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then
	echo "SKIP part: the lab needs root and network namespaces"
else
	export ZCGEN_LAB_PREFIX=zcgi$$
	trap '"$ZCGEN" lab down >/dev/null 2>&1; cleanup' EXIT
	if "$ZCGEN" lab up --queues 1 --json >"$T/lab.json" 2>"$T/lab.err"; then
		check "lab: one sink for both protocols" [ "$(jq '.sink.tcp.pid == .sink.udp.pid and .sink.tcp.pid > 0' "$T/lab.json")" = true ]
		ip netns exec "$ZCGEN_LAB_PREFIX-tx" timeout 20 iperf3 -c 198.18.0.2 -t 1 -J >"$T/labt.json" 2>&1
		rc=$?
		check "lab: iperf3 TCP test (exit $rc)" [ $rc -eq 0 -a "$(jq '.end.sum_received.bytes > 0' "$T/labt.json")" = true ]
		ip netns exec "$ZCGEN_LAB_PREFIX-tx" timeout 20 iperf3 -c 198.18.0.2 -u -b 50M -t 1 -J >"$T/labu.json" 2>&1
		rc=$?
		check "lab: iperf3 UDP test (exit $rc)" [ $rc -eq 0 -a "$(jq '.end.sum.packets > 0' "$T/labu.json")" = true ]
	else
		fail "lab up: $(cat "$T/lab.err")"
	fi
	"$ZCGEN" lab down >/dev/null 2>&1
	check "lab: namespaces gone" [ -z "$(ip netns list | grep "^$ZCGEN_LAB_PREFIX-")" ]
fi

finish
