#!/usr/bin/env bash
# t_dest_ports.sh - target.ports (--dest-ports): the data sockets of 2 queues x 2 streams connect
# to 4 destination ports, each queue a block, each stream its block's port; checked against four
# single-port zcgen sinks on loopback, TCP and UDP; a range with --server zcgen is refused.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"

PIDS=()
stop_all() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}
trap 'stop_all; cleanup' EXIT
jqe() { jq -e "$1" "$2" >/dev/null; }

# start4 PROTO TAG: four sinks on BASE..BASE+3 (a free run of ports, a few tries); sets BASE
start4() {
	local proto=$1 tag=$2 try i up
	for try in $(seq 10); do
		BASE=$((20000 + (RANDOM * 7 + $$ + try * 101) % 30000))
		up=0
		for i in 0 1 2 3; do
			"$ZCGEN" sink --listen "127.0.0.1:$((BASE + i))" --protocol "$proto" --quiet \
				--json "$T/$tag-$i.json" >"$T/$tag-$i.out" 2>&1 &
			PIDS+=($!)
			for _ in $(seq 100); do
				grep -q '^listening on' "$T/$tag-$i.out" 2>/dev/null && break
				kill -0 "${PIDS[-1]}" 2>/dev/null || break
				sleep 0.05
			done
			grep -q '^listening on' "$T/$tag-$i.out" 2>/dev/null || break
			up=$((up + 1))
		done
		[ "$up" -eq 4 ] && return 0
		stop_all
	done
	echo "FAIL - could not start four sinks on a free run of ports"
	exit 1
}

# --- TCP: each of the 4 ports gets exactly one connection; bytes sent == bytes received.
# Source ports BASE+4.. pair each stream with its destination: queue q stream s sends from
# BASE+4+2q+s to BASE+2q+s, so every connection's source port is its destination port + 4.
start4 tcp tcp
"$ZCGEN" --dest "127.0.0.1:$BASE" --dest-ports "$BASE-$((BASE + 3))" --queues 2 --streams 2 \
	--source-ports "$((BASE + 4))-$((BASE + 7))" --cpus 0 --duration 1.5 --json "$T/tcp.json" >"$T/tcp.out" 2>&1 &
RUN=$!
sleep 0.8
ss -Htn state established "( dport >= :$BASE and dport <= :$((BASE + 3)) )" >"$T/ss.out"
wait "$RUN"
rc=$?
sleep 0.2
stop_all
check "tcp: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/tcp.out"
want="$BASE $((BASE + 1)) $((BASE + 2)) $((BASE + 3))"
got=$(awk '{ n = split($4, a, ":"); print a[n] }' "$T/ss.out" | sort -n | xargs)
check "tcp: ss during the run: one connection to each of $want (got: $got)" [ "$got" = "$want" ]
pairs=$(awk '{ n = split($3, a, ":"); m = split($4, b, ":"); print a[n] - b[m] }' "$T/ss.out" | sort -u | xargs)
check "tcp: every connection's source port is its destination port + 4 (got: $pairs)" [ "$pairs" = "4" ]
for i in 0 1 2 3; do
	n=$(jq '.total.connections' "$T/tcp-$i.json")
	check "tcp: the sink on port $((BASE + i)) accepted exactly one connection (got $n)" [ "$n" -eq 1 ]
done
sent=$(jq .total.bytes "$T/tcp.json")
recv=$(jq -s '[.[].total.bytes] | add' "$T"/tcp-[0-3].json)
check "tcp: bytes sent ($sent) == bytes received over the 4 sinks ($recv)" \
	[ "$sent" -gt 0 -a "$sent" -eq "$recv" ]
check "tcp: JSON plan.sockets.destination: queue 1 ports $((BASE + 2))-$((BASE + 3))" \
	jqe ".plan.sockets.destination[1] == {\"queue\":1,\"ports\":{\"first\":$((BASE + 2)),\"last\":$((BASE + 3)),\"block_first\":$((BASE + 2)),\"block_last\":$((BASE + 3))}}" "$T/tcp.json"

# --- UDP, paced: datagrams arrive on every port, one stream each, nothing foreign, equal shares
start4 udp udp
"$ZCGEN" --dest "127.0.0.1:$BASE" --dest-ports "$BASE-$((BASE + 3))" --protocol udp --size 1200 \
	--queues 2 --streams 2 --cpus 0 --rate 40M --duration 1 --json "$T/udp.json" >"$T/udp.out" 2>&1
rc=$?
sleep 0.3
stop_all
check "udp: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/udp.out"
tot=0
for i in 0 1 2 3; do
	p=$(jq .total.packets "$T/udp-$i.json")
	f=$(jq .total.foreign "$T/udp-$i.json")
	n=$(jq '.streams | length' "$T/udp-$i.json")
	check "udp: port $((BASE + i)): datagrams arrived ($p), one stream ($n), none foreign ($f)" \
		[ "$p" -gt 0 -a "$n" -eq 1 -a "$f" -eq 0 ]
	tot=$((tot + p))
done
sends=$(jq .total.sends "$T/udp.json")
check "udp: datagrams received ($tot) <= sent ($sends)" [ "$tot" -le "$sends" ]
# One pacer per ring: its two streams take turns, so each sent half of the ring's datagrams
# (highest_seq: what a stream had sent by its last arrival; within 1, the one sent last).
for q in 0 1; do
	a=$(jq '.streams[0].highest_seq' "$T/udp-$((2 * q)).json")
	b=$(jq '.streams[0].highest_seq' "$T/udp-$((2 * q + 1)).json")
	check "udp: queue $q's two streams sent equal shares ($a and $b datagrams)" \
		[ "$a" -gt 0 -a "$b" -gt 0 -a $((a - b)) -le 1 -a $((b - a)) -le 1 ]
done

# --- refused: a range with the iperf3 control protocol; too few ports
"$ZCGEN" --dest 127.0.0.1:5201 --dest-ports 40000-40003 --server zcgen --dry-run >"$T/srv.out" 2>&1
rc=$?
check "a range with --server zcgen: exit 2 ($rc)" [ "$rc" -eq 2 ]
check "... saying the iperf3 protocol has one port" grep -Eq "(target.ports|--dest-ports).*one port" "$T/srv.out"
"$ZCGEN" --dest 127.0.0.1:5201 --dest-ports 40000-40002 --queues 2 --streams 2 --dry-run \
	>"$T/few.out" 2>&1
rc=$?
check "3 ports for 2 queues x 2 streams: exit 2 ($rc), saying 4 are needed" \
	sh -c "[ $rc -eq 2 ] && grep -q 'at least 4 are needed' '$T/few.out'"
"$ZCGEN" --dest 127.0.0.1:5201 --dest-ports 40000-40003 --queues 2 --streams 2 --dry-run \
	>"$T/dry.out" 2>&1
check "--dry-run shows queue 1's destination ports" grep -q "queue 1: ports 40002-40003" "$T/dry.out"

finish
