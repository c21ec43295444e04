#!/usr/bin/env bash
# t_sockopts.sh - source addresses and ports, congestion control, DSCP, huge pages and nic.mtu:
# on loopback against a zcgen sink, and on a veth pair between two namespaces of the test's own.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"

NSA=zso$$a NSB=zso$$b
netns_cleanup() {
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	true
}
trap 'netns_cleanup; cleanup' EXIT
jqe() { jq -e "$1" "$2" >/dev/null; }

# --- source ports, source address, congestion: 2 queues x 2 streams on loopback
start_sink tcp
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --queues 2 --streams 2 --cpus 0 --duration 2 \
	--source 127.0.0.2 --source-ports 40000-40007 --congestion reno --dscp 46 \
	--json "$T/run.json" >"$T/run.out" 2>&1 &
RUN=$!
sleep 1
ss -Htni state established "dport = :$SINK_PORT" >"$T/ss.out"
wait "$RUN"
rc=$?
stop_sink
check "ports run: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/run.out"
# queue 0 owns 40000-40003, queue 1 40004-40007; stream s of a queue takes its block's port s
want="40000 40001 40004 40005"
got=$(awk '/^[^[:space:]]/ { n = split($3, a, ":"); print a[n] }' "$T/ss.out" | sort -n | xargs)
check "ss during the run: source ports are exactly $want (got: $got)" [ "$got" = "$want" ]
got=$(jq -r '[.streams[].peer] | sort | join(" ")' "$SINK_JSON")
check "the sink saw peers 127.0.0.2:{40000,40001,40004,40005} (got: $got)" \
	[ "$got" = "127.0.0.2:40000 127.0.0.2:40001 127.0.0.2:40004 127.0.0.2:40005" ]
n=$(grep -c '^[[:space:]]*reno ' "$T/ss.out")
check "ss -tni shows reno on all 4 connections (got $n)" [ "$n" -eq 4 ]
check "JSON plan: congestion reno, dscp 46 = tos 0xb8" \
	jqe '.plan.sockets.congestion == "reno" and .plan.sockets.dscp == 46 and .plan.sockets.tos == 184' "$T/run.json"
check "JSON plan: queue 1's ports 40004-40005 of its block 40004-40007" \
	jqe '.plan.sockets.source[1].ports == {"first":40004,"last":40005,"block_first":40004,"block_last":40007}' "$T/run.json"

# a second run on the same ports right away: our own TIME_WAIT is no conflict. The first
# run's connections may still be closing (FIN-WAIT while a slow sink reads its EOF): wait
# (at most 3 s) until what is left of them is in TIME-WAIT, which is the case tested here.
for _ in $(seq 30); do
	ss -Htan 'sport >= :40000 and sport <= :40007' | grep -qv '^TIME-WAIT' || break
	sleep 0.1
done
start_sink tcp
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --queues 2 --streams 2 --cpus 0 --duration 0.3 \
	--source-ports 40000-40007 >"$T/run2.out" 2>&1
rc=$?
stop_sink
check "the same source ports again at once: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/run2.out"

# --- errors before anything is sent (exit 2)
"$ZCGEN" --dest 127.0.0.1:9 --congestion nosuch-cc --dry-run >"$T/cc.out" 2>&1
rc=$?
avail=$(cat /proc/sys/net/ipv4/tcp_available_congestion_control)
check "unknown congestion control: exit 2 ($rc)" [ "$rc" -eq 2 ]
check "... and the message lists the available ones ($avail)" grep -qF "available: $avail" "$T/cc.out"
"$ZCGEN" --dest 127.0.0.1:9 --source 192.0.2.1 --dry-run >"$T/addr.out" 2>&1
rc=$?
check "source 192.0.2.1: exit 2 ($rc)" [ "$rc" -eq 2 ]
check "... saying EADDRNOTAVAIL and the address" grep -q "192.0.2.1.*EADDRNOTAVAIL" "$T/addr.out"
python3 -c 'import socket,sys,time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$T/busy.port" &
BUSY=$!
for _ in $(seq 50); do [ -s "$T/busy.port" ] && break; sleep 0.05; done
bp=$(cat "$T/busy.port")
"$ZCGEN" --dest 127.0.0.1:9 --source-ports "$bp-$((bp + 1))" --streams 2 --dry-run >"$T/inuse.out" 2>&1
rc=$?
kill "$BUSY"; wait "$BUSY" 2>/dev/null
check "a source port in use: exit 2 ($rc)" [ "$rc" -eq 2 ]
check "... naming port $bp and EADDRINUSE" grep -q "port $bp .*EADDRINUSE" "$T/inuse.out"
"$ZCGEN" --dest 127.0.0.1:9 --source-device nosuch$$ --dry-run >"$T/dev.out" 2>&1
rc=$?
check "source.device that does not exist: exit 2, named ($rc)" \
	sh -c "[ $rc -eq 2 ] && grep -q 'nosuch$$: no such device' '$T/dev.out'"

# --- huge pages: auto falls back and says so (the host's nr_hugepages is never changed)
if [ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)" = "0" ]; then
	start_sink tcp
	"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 0.3 --hugepages auto \
		--json "$T/hp.json" >"$T/hp.out" 2>&1
	rc=$?
	stop_sink
	check "hugepages auto with none reserved: exit 0 ($rc)" [ "$rc" -eq 0 ]
	check "... the report says normal pages" grep -q "^buffers: normal pages: hugepages auto found no huge page free" "$T/hp.out"
	check "... and the JSON: 0 of 1 rings huge" jqe '.total.buffers.rings_huge == 0 and .total.buffers.rings == 1' "$T/hp.json"
	"$ZCGEN" --dest 127.0.0.1:9 --hugepages on --dry-run >"$T/hpon.out" 2>&1
	rc=$?
	check "hugepages on with none free: exit 2, saying so ($rc)" \
		sh -c "[ $rc -eq 2 ] && grep -q 'hugepages on: .* 0 free' '$T/hpon.out'"
else
	echo "skip part: vm.nr_hugepages is not 0 here, the fallback cannot be shown without changing it"
fi

# --- a veth pair between two namespaces of this test: DSCP on the wire, nic.mtu applied and restored
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$NSA" 2>/dev/null; then
	echo "skip part: cannot create network namespaces (needs root)"
	finish; exit
fi
ip netns add "$NSB"
ip -n "$NSA" link add va type veth peer name vb netns "$NSB"
ip -n "$NSA" addr add 10.251.0.1/30 dev va
ip -n "$NSB" addr add 10.251.0.2/30 dev vb
ip -n "$NSA" link set va up; ip -n "$NSA" link set lo up
ip -n "$NSB" link set vb up; ip -n "$NSB" link set lo up
ip netns exec "$NSB" "$ZCGEN" sink --listen 10.251.0.2:0 --protocol tcp --quiet >"$T/nsink.out" 2>&1 &
NSINK=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/nsink.out" && break; sleep 0.05; done
np=$(sed -n 's/^listening on .*:\([0-9]*\) .*/\1/p' "$T/nsink.out")
[ -n "$np" ] || { cat "$T/nsink.out"; fail "the sink in $NSB did not start"; finish; exit; }

# DSCP as it arrives at vb: a packet socket there reads the IPv4 header of each TCP segment
# to the sink's port (no nft, iptables or tcpdump needed)
ip netns exec "$NSB" python3 -c '
import socket, struct, sys, time
port = int(sys.argv[1]); s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("vb", 0)); s.settimeout(0.2); end = time.time() + 4; n = d = 0
print("ready", flush=True)
while time.time() < end:
    try: p = s.recv(128)
    except socket.timeout: continue
    ip = p[14:]; ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] != port: continue
    n += 1; d += (ip[1] >> 2) == 46
print(n, d, flush=True)' "$np" >"$T/cap.out" 2>&1 &
CAP=$!
for _ in $(seq 50); do grep -q ready "$T/cap.out" && break; sleep 0.05; done
cat >"$T/mtu.yaml" <<EOF
target: {host: 10.251.0.2, port: $np}
duration: 1
nic: {interface: va, mtu: 4000, irq_affinity: none, xps: none}
dscp: 46
EOF
mkdir -p "$T/state"
ZCGEN_NIC_STATE_DIR=$T/state ip netns exec "$NSA" "$ZCGEN" --profile "$T/mtu.yaml" >"$T/mtu.out" 2>&1 &
RUN=$!
mtu_during=
for _ in $(seq 40); do
	sleep 0.05
	mtu_during=$(ip -n "$NSA" -o link show va | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
	[ "$mtu_during" = 4000 ] && break
done
wait "$RUN"
rc=$?
check "veth run with nic.mtu 4000: exit 0 ($rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/mtu.out"
check "va's MTU was 4000 during the run (saw $mtu_during)" [ "$mtu_during" = 4000 ]
check "the run says what it changed (mtu: 1500 -> 4000)" grep -q "mtu: 1500 -> 4000" "$T/mtu.out"
after=$(ip -n "$NSA" -o link show va | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
check "va's MTU is 1500 again after the run (got $after)" [ "$after" = 1500 ]
check "no state file left behind" sh -c "[ -z \"\$(ls -A '$T/state')\" ]"
wait "$CAP"
read -r seen d46 < <(sed -n 2p "$T/cap.out")
check "every TCP segment to the sink arrived with DSCP 46 ($d46 of $seen)" \
	sh -c "[ '${seen:-0}' -gt 100 ] && [ '$d46' = '$seen' ]"
kill -INT "$NSINK"; wait "$NSINK" 2>/dev/null
finish
