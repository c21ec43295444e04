#!/usr/bin/env bash
# t_stall.sh - a path that stops carrying data ends the run: exit 1, end_reason "stalled" (or
# "error" where the kernel reports the fault), within 4 s of the fault with the drain, and the
# report (table and JSON) written with what was measured. Faults, each in this test's own lab:
# the receiving veth down (TCP, with a nic: section that must be put back), the sink killed
# under --server zcgen, the sending veth down (UDP), UDP zero-copy to a next hop that never
# resolves, the peer's veth deleted (TCP). A normal run ends on its duration with exit 0.
source "$(dirname "$0")/lib.sh"

for t in jq bc ethtool; do
	command -v "$t" >/dev/null || skip "needs $t"
done
use_lab zcst$$
RX=$P-rx TX=$P-tx
BOUND=4        # seconds from the fault to zcgen's exit, drain and report included (issue 10)
DUR=10         # each run asks for this long: a fault not detected shows as a run this long

"$ZCGEN" lab up --queues 2 >"$T/up.out" 2>&1 || { cat "$T/up.out"; fail "lab up"; finish; exit; }

now() { date +%s.%N; }
txbytes() { ip netns exec "$TX" cat /sys/class/net/zcl-tx0/statistics/tx_bytes 2>/dev/null || echo 0; }
# flowing FROM PORT CONNS: until the sending veth has carried 4 MB more than FROM and (CONNS > 0)
# the sending side has CONNS TCP connections established to PORT: the run's streams are up
# and moving data, as a fixed second after the start promised; 5 s at most
flowing() {
	for _ in $(seq 100); do
		[ "$(txbytes)" -ge $(($1 + 4000000)) ] &&
			[ "$(ip netns exec "$TX" ss -Htn state established "dport = :$2" | wc -l)" -ge "$3" ] &&
			return 0
		sleep 0.05
	done
	echo "# not flowing 5 s after the start ($(txbytes) B sent; $(ip netns exec "$TX" ss -Htn state established "dport = :$2" | wc -l) of $3 connections)"
}
# fault_run NAME DELAY FAULT ARGS...: zcgen ARGS on the lab's sending side; after DELAY s (or,
# DELAY flow:PORT:CONNS, once it is flowing) the shell command FAULT; sets RC and AFTER (seconds
# from the fault to zcgen's exit).
fault_run() {
	local name=$1 delay=$2 fault=$3 pid t0 from
	shift 3
	from=$(txbytes)
	"$ZCGEN" lab exec -- "$ZCGEN" "$@" --json "$T/$name.json" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	case $delay in
	flow:*) delay=${delay#flow:}; flowing "$from" "${delay%%:*}" "${delay#*:}" ;;
	*) sleep "$delay" ;;
	esac
	eval "$fault"
	t0=$(now)
	wait "$pid"
	RC=$?
	AFTER=$(echo "$(now) - $t0" | bc)
	echo "# $name: exit $RC, $AFTER s after the fault; stderr: $(head -c 600 "$T/$name.err")"
}
# path_back: links up again, carrier back, and no FAILED neighbour entry left from the fault
path_back() {
	ip -n "$RX" link set zcl-rx0 up 2>/dev/null
	ip -n "$TX" link set zcl-tx0 up 2>/dev/null
	for _ in $(seq 50); do
		ip netns exec "$TX" cat /sys/class/net/zcl-tx0/carrier 2>/dev/null | grep -q 1 && break
		sleep 0.1
	done
	ip -n "$TX" neigh flush dev zcl-tx0 2>/dev/null
	ip -n "$RX" neigh flush dev zcl-rx0 2>/dev/null
}
within() { [ "$(echo "$1 <= $BOUND" | bc)" = 1 ]; }
reason() { jq -r .end_reason "$T/$1.json" 2>/dev/null; }
nicstate() { ip netns exec "$TX" sh -c 'ethtool -k zcl-tx0; ethtool -l zcl-tx0; cat /sys/class/net/zcl-tx0/queues/tx-*/xps_cpus' 2>&1; }

# A normal run: the duration ends it, exit 0, end_reason duration, no "end:" line.
"$ZCGEN" lab exec -- "$ZCGEN" --dest 198.18.0.2:5201 --server none --queues 1 --duration 1 \
	--json "$T/ok.json" >"$T/ok.out" 2>&1
check "normal: exit 0" [ $? -eq 0 ]
check "normal: end_reason duration" [ "$(reason ok)" = duration ]
check "normal: end_message null" [ "$(jq -r .end_message "$T/ok.json")" = null ]
check "normal: no end: line in the table" bash -c "! grep -q '^end:' '$T/ok.out'"

# A signal ends it as "signal" (exit codes for signals: docs/cli.md), report written.
from=$(txbytes)
ip netns exec "$TX" "$ZCGEN" --dest 198.18.0.2:5201 --server none --queues 1 --duration $DUR \
	--json "$T/sig.json" >"$T/sig.out" 2>&1 &
pid=$!
flowing "$from" 5201 1
kill -INT "$pid"
wait "$pid"
check "signal: end_reason signal" [ "$(reason sig)" = signal ]
check "signal: the table says so" grep -q '^end: signal' "$T/sig.out"

# TCP, the receiving veth down mid-run, with a nic: section: stalled, the NIC put back.
cat >"$T/nic.yaml" <<EOY
name: stall-nic
target: { host: 198.18.0.2, port: 5201, server: none }
protocol: tcp
queues: 2
cpus: [0]
duration: ${DUR}s
nic:
  interface: zcl-tx0
  offloads: { tso: off, gso: off }
  xps: auto
  irq_affinity: auto
EOY
before=$(nicstate)
fault_run down flow:5201:2 "ip -n $RX link set zcl-rx0 down" --profile "$T/nic.yaml"
check "link down: exit 1" [ "$RC" -eq 1 ]
check "link down: end_reason stalled" [ "$(reason down)" = stalled ]
check "link down: ended within $BOUND s of the fault ($AFTER s)" within "$AFTER"
check "link down: named as such on stderr" \
	grep -q 'path stalled: no bytes acknowledged on any stream for [0-9.]* s' "$T/down.err"
check "link down: the stream and its state are named" \
	grep -q 'queue [01]: .*stream [0-9]*: .*not acknowledged.*state ' "$T/down.err"
check "link down: the table says why it ended" grep -q '^end: stalled: path stalled' "$T/down.out"
check "link down: the JSON has what was measured" \
	[ "$(jq '.total.bytes > 0 and .total.stalled_s >= 2 and (.end_message | test("path stalled"))' "$T/down.json")" = true ]
check "link down: the time without progress is at least the timeout, less than the bound" \
	[ "$(jq '.total.stalled_s >= 2 and .total.stalled_s < 4' "$T/down.json")" = true ]
check "link down: ethtool -k/-l and XPS as before" [ "$(nicstate)" = "$before" ]
path_back

# --stall-timeout 0: the watch is off, the run lasts its duration even with the link down.
fault_run off 0.5 "ip -n $RX link set zcl-rx0 down" --dest 198.18.0.2:5201 --server none \
	--queues 1 --duration 2 --stall-timeout 0
check "stall-timeout 0: not stalled (end_reason duration)" [ "$(reason off)" = duration ]
check "stall-timeout 0: the full duration" [ "$(jq '.total.duration_s >= 2' "$T/off.json")" = true ]
path_back

# --server zcgen, the sink killed: exit 1 soon, with a clear message.
ip netns exec "$RX" "$ZCGEN" sink --listen 198.18.0.2:5301 --protocol tcp --quiet >"$T/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/sink.out" && break; sleep 0.05; done
fault_run sink flow:5301:2 "kill -9 $SINK_PID" --dest 198.18.0.2:5301 --server zcgen --queues 1 \
	--duration $DUR
wait "$SINK_PID" 2>/dev/null
SINK_PID=
check "sink killed: exit 1" [ "$RC" -eq 1 ]
check "sink killed: ended within $BOUND s of the kill ($AFTER s)" within "$AFTER"
check "sink killed: end_reason stalled or error ($(reason sink))" \
	bash -c "[ '$(reason sink)' = stalled ] || [ '$(reason sink)' = error ]"
check "sink killed: the message names the sink or the stall" \
	grep -Eq 'zcgen sink|path stalled|every stream failed' "$T/sink.err"
check "sink killed: the connection's fate, not the drain's cancel" \
	bash -c "! grep -q 'Operation canceled' '$T/sink.err'"

# --server zcgen, the sink stopped (SIGSTOP): it still answers but takes nothing (zero window).
ip netns exec "$RX" "$ZCGEN" sink --listen 198.18.0.2:5302 --protocol tcp --quiet >"$T/sink2.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/sink2.out" && break; sleep 0.05; done
fault_run stop flow:5302:2 "kill -STOP $SINK_PID" --dest 198.18.0.2:5302 --server zcgen --queues 1 \
	--duration $DUR
kill -KILL "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
SINK_PID=
check "sink stopped: exit 1" [ "$RC" -eq 1 ]
check "sink stopped: end_reason stalled" [ "$(reason stop)" = stalled ]
check "sink stopped: within $BOUND s ($AFTER s)" within "$AFTER"
check "sink stopped: the receiver is named as not reading" grep -q 'stopped reading' "$T/stop.err"
check "sink stopped: CLIENT_TERMINATE, noted" \
	[ "$(jq -r '.server_note // ""' "$T/stop.json" | grep -c 'path stalled: CLIENT_TERMINATE')" = 1 ]

# --server zcgen (the lab's sink), the receiving veth down: the control exchange is not waited for.
fault_run zdown flow:5201:2 "ip -n $RX link set zcl-rx0 down" --dest 198.18.0.2:5201 --server zcgen \
	--queues 1 --duration $DUR
check "server zcgen, link down: exit 1" [ "$RC" -eq 1 ]
check "server zcgen, link down: end_reason stalled" [ "$(reason zdown)" = stalled ]
check "server zcgen, link down: within $BOUND s ($AFTER s)" within "$AFTER"
path_back

# A fault just before the end (server zcgen): found while draining and before TEST_END, not
# waited out through the drain and the result exchange.
# Its own sink: the lab's may still be busy with the test whose CLIENT_TERMINATE was lost above.
ip netns exec "$RX" "$ZCGEN" sink --listen 198.18.0.2:5303 --protocol tcp --quiet >"$T/sink3.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/sink3.out" && break; sleep 0.05; done
fault_run late 1.7 "ip -n $RX link set zcl-rx0 down" --dest 198.18.0.2:5303 --server zcgen \
	--queues 1 --duration 2
kill -KILL "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
SINK_PID=
check "fault at the end: exit 1" [ "$RC" -eq 1 ]
check "fault at the end: within $BOUND s ($AFTER s)" within "$AFTER"
check "fault at the end: named as a stall" grep -q 'path stalled' "$T/late.err"
path_back

# UDP, the sending veth down: the kernel refuses the sends (no route), or nothing completes.
fault_run udpdown flow:5201:0 "ip -n $TX link set zcl-tx0 down" --dest 198.18.0.2:5201 --server none \
	--protocol udp --queues 1 --mode zc --duration $DUR
check "udp, device down: exit 1" [ "$RC" -eq 1 ]
check "udp, device down: within $BOUND s ($AFTER s)" within "$AFTER"
check "udp, device down: end_reason stalled or error ($(reason udpdown))" \
	bash -c "[ '$(reason udpdown)' = stalled ] || [ '$(reason udpdown)' = error ]"
path_back

# UDP zero-copy towards a next hop that never answers ARP: the ring must not stall silently.
ip -n "$TX" route add 198.18.9.9/32 dev zcl-tx0
fault_run unres 0 true --dest 198.18.9.9:5201 --server none --protocol udp --queues 1 \
	--mode zc --duration $DUR
check "udp, unresolved next hop: exit 1" [ "$RC" -eq 1 ]
check "udp, unresolved next hop: ends before its duration ($AFTER s of $DUR)" \
	[ "$(echo "$AFTER < $DUR - 2" | bc)" = 1 ]
check "udp, unresolved next hop: end_reason stalled or error ($(reason unres))" \
	bash -c "[ '$(reason unres)' = stalled ] || [ '$(reason unres)' = error ]"
check "udp, unresolved next hop: says why" grep -Eq 'path stalled|every stream failed' "$T/unres.err"

# TCP, the peer's veth deleted (both ends go): stalled like a link down. Last: it breaks the lab.
fault_run del flow:5201:2 "ip -n $RX link del zcl-rx0" --dest 198.18.0.2:5201 --server none --queues 2 \
	--duration $DUR
check "peer deleted: exit 1" [ "$RC" -eq 1 ]
check "peer deleted: end_reason stalled" [ "$(reason del)" = stalled ]
check "peer deleted: within $BOUND s ($AFTER s)" within "$AFTER"
check "peer deleted: report written" [ "$(jq '.total.bytes > 0' "$T/del.json")" = true ]

finish
