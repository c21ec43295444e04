#!/usr/bin/env bash
# t_incast.sh - many to one: four clients at once (zcgen TCP and UDP with --server zcgen,
# `iperf3 -c` TCP and UDP) from the lab's sending namespace into one `zcgen sink` on one port in its
# receiving namespace. The sink serves the four iperf3 tests at the same time; each client is
# told the counts of its own streams, which equal what it sent (UDP: received + lost = sent),
# and the sink's report has one test per client with exactly those counts (docs/sink.md,
# "Several clients at once").
source "$(dirname "$0")/lib.sh"

for tool in jq iperf3; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
use_lab zcgn$$
"$ZCGEN" lab up --queues 2 --no-sink >"$T/lab.out" 2>&1 || { cat "$T/lab.out"; fail "lab up"; finish; exit; }
TX="ip netns exec $P-tx"
jqe() { jq -e "$@" >/dev/null; }
RX="ip netns exec $P-rx"

# The lab's receiving side with a sink of this test's own, for its JSON report.
$RX "$ZCGEN" sink --listen 198.18.0.2:5201 --protocol both --queues 2 --quiet --json "$T/sink.json" \
	>"$T/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/sink.out" && break; sleep 0.05; done
grep -q '^listening on' "$T/sink.out" || { cat "$T/sink.out"; fail "the sink did not start"; finish; exit; }

# Four clients at once, each 2 s (told apart in the sink's report by protocol and streams:
# zcgen's TCP run has 3, iperf3's 2; zcgen's UDP run 1, iperf3's 2); they start within a few ms of each other and each test's
# data phase lasts 2 s, so they overlap (checked below on the sink's clock).
$TX "$ZCGEN" --dest 198.18.0.2:5201 --server zcgen --queues 1 --cpus 0 --streams 3 --duration 2 \
	--json "$T/tcp.json" >"$T/tcp.out" 2>&1 &
a=$!
$TX "$ZCGEN" --dest 198.18.0.2:5201 --server zcgen --protocol udp --size 1400 --rate 200M \
	--queues 1 --cpus 1 --duration 2 --json "$T/udp.json" >"$T/udp.out" 2>&1 &
b=$!
$TX timeout 30 iperf3 -c 198.18.0.2 -p 5201 -t 2 -P 2 -J >"$T/ip3.json" 2>"$T/ip3.err" &
c=$!
# a second UDP test at once: UDP connect messages carry no cookie, so the sink's UDP tests take
# turns at taking their streams (docs/sink.md); each must still get exactly its own
$TX timeout 30 iperf3 -c 198.18.0.2 -p 5201 -u -b 100M -l 1200 -t 2 -P 2 -J >"$T/ip3u.json" 2>"$T/ip3u.err" &
d=$!
wait $a; ra=$?
wait $b; rb=$?
wait $c; rc=$?
wait $d; rd=$?
stop_sink
S=$T/sink.json
[ $ra -eq 0 ] || sed 's/^/# tcp: /' "$T/tcp.out"
[ $rb -eq 0 ] || sed 's/^/# udp: /' "$T/udp.out"
[ $rc -eq 0 ] || { sed 's/^/# iperf3: /' "$T/ip3.err"; jq -r '.error // empty' "$T/ip3.json"; }
check "zcgen tcp: exit 0" [ $ra -eq 0 ]
check "zcgen udp: exit 0" [ $rb -eq 0 ]
check "iperf3 -c: exit 0" [ $rc -eq 0 ]
[ $rd -eq 0 ] || { sed 's/^/# iperf3 -u: /' "$T/ip3u.err"; jq -r '.error // empty' "$T/ip3u.json"; }
check "iperf3 -c -u: exit 0" [ $rd -eq 0 ]

check "the sink ran 4 tests, all ok, none refused" \
	[ "$(jq -c '[(.iperf3_tests | map(select(.result == "ok")) | length), .total.iperf3_denied]' "$S")" = "[4,0]" ]
check "... at the same time (each began before any ended)" \
	jqe '(.iperf3_tests | map(.start_s) | max) < (.iperf3_tests | map(.end_s) | min)' "$S"

tb=$(jq .total.bytes "$T/tcp.json")
check "zcgen tcp: its receiver bytes are what it sent ($tb)" \
	jqe '.receiver.source == "zcgen" and .receiver.bytes == .total.bytes and .total.bytes > 0' "$T/tcp.json"
check "... and the sink's count of its test" \
	[ "$(jq '[.iperf3_tests[] | select(.protocol == "tcp" and .parallel == 3)][0].bytes' "$S")" = "$tb" ]

ud=$(jq .total.datagrams "$T/udp.json")
read -r up ul utl <<<"$(jq -r '"\(.receiver.packets) \(.receiver.lost) \(.receiver.tail_lost)"' "$T/udp.json")"
echo "# udp: sent $ud datagrams, the sink received $up and lost $ul, $utl after its last (tail)"
# with loss (a loaded machine drops some), those after the last one received are no gap the
# sink can see: zcgen counts them apart (tail_lost, docs/json.md)
check "zcgen udp: received + lost + tail lost = sent ($up + $ul + $utl = $ud)" [ $((up + ul + utl)) -eq "$ud" ]
check "... and the sink's count of its test" \
	[ "$(jq '[.iperf3_tests[] | select(.protocol == "udp" and .parallel == 1)][0] | [.streams[].packets] | add' "$S")" = "$up" ]

ir=$(jq .end.sum_received.bytes "$T/ip3.json")
check "iperf3 -c: its receiver bytes are what it sent ($ir)" \
	jqe '.end.sum_received.bytes == .end.sum_sent.bytes and .end.sum_sent.bytes > 0' "$T/ip3.json"
check "... per stream, as the sink counted them" \
	[ "$(jq -c '[.end.streams[].receiver.bytes]' "$T/ip3.json")" = \
	  "$(jq -c '[.iperf3_tests[] | select(.protocol == "tcp" and .parallel == 2)][0] | [.streams[].bytes]' "$S")" ]

read -r isent ilost <<<"$(jq -r '"\(.end.sum.packets) \(.end.sum.lost_packets)"' "$T/ip3u.json")"
read -r sp sl <<<"$(jq -r '[.iperf3_tests[] | select(.protocol == "udp" and .parallel == 2)][0] |
	"\([.streams[].packets] | add) \([.streams[].lost] | add)"' "$S")"
echo "# iperf3 -u: sent $isent datagrams, lost $ilost by its receiver's count; the sink: $sp received, $sl lost"
# iperf3 has no tail count: what it sent after the last datagram the sink saw is neither
check "iperf3 -c -u: the sink's received + lost is at most what it sent" [ $((sp + sl)) -le "$isent" -a "$sp" -gt 0 ]
check "... and the loss it was told is the sink's" [ "$ilost" -eq "$sl" ]
check "... both its streams were its own (2 streams, ids 1 and 3)" \
	[ "$(jq -c '[.iperf3_tests[] | select(.protocol == "udp" and .parallel == 2)][0] | [.streams[].id]' "$S")" = "[1,3]" ]

"$ZCGEN" lab down >/dev/null 2>&1
check "the lab is gone" bash -c "! ip netns list | grep -q '^$P-'"
finish
