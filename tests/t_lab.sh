#!/bin/bash
# t_lab.sh - `zcgen lab up|status|exec|down`: namespaces, veth queues, mq, reachability, UDP GRO, rebuild, teardown
#
# Uses its own prefix (ZCGEN_LAB_PREFIX=zcgt<pid>) so that it never touches a
# lab a user has up, nor another run of this test.
set -u

ZCGEN=${ZCGEN:?set ZCGEN to the zcgen binary}
[ -x "$ZCGEN" ] || { echo "FAIL: $ZCGEN is not an executable (build first)"; exit 1; }
P=zcgt$$
export ZCGEN_LAB_PREFIX=$P
TX=$P-tx
RX=$P-rx
fails=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v jq >/dev/null || skip "needs jq"
ip netns add "$P-probe" 2>/dev/null || skip "ip netns add is not permitted here"
ip netns del "$P-probe"

cleanup() {
	"$ZCGEN" lab down >/dev/null 2>&1
	ip netns del "$TX" 2>/dev/null
	ip netns del "$RX" 2>/dev/null
	rm -f /run/zcgen/lab/"$P".*
}
trap cleanup EXIT

# The sink is another module; without it, test the lab alone and say so.
SINKOPT=--no-sink
if "$ZCGEN" sink --help >/dev/null 2>&1; then
	SINKOPT=
else
	echo "note: zcgen sink is not built yet: testing the lab with --no-sink"
fi

ntxq() { ip netns exec "$TX" ls /sys/class/net/zcl-tx0/queues 2>/dev/null | grep -c '^tx-'; }
# A killed sink is a zombie until init reaps it: that counts as stopped.
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
hexmask() { tr -d ',\n' | sed 's/^0*//'; }

# --- usage errors exit 2, before touching anything
for args in "up --queues 0" "up --queues 65" "up --queues x" "up --mtu 10" "up extra" "bogus" "status --nope" "exec"; do
	# shellcheck disable=SC2086
	"$ZCGEN" lab $args >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ] && ok "lab $args: exit 2" || fail "lab $args: exit $rc, want 2"
done
ZCGEN_LAB_PREFIX='../x' "$ZCGEN" lab up >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && ok "bad prefix: exit 2" || fail "bad prefix: exit $rc, want 2"
"$ZCGEN" lab up --help | grep -q -- '--queues' && ok "lab up --help" || fail "lab up --help"
"$ZCGEN" lab status >/dev/null
rc=$?
[ $rc = 1 ] && ok "status without a lab: exit 1" || fail "status without a lab: exit $rc, want 1"
"$ZCGEN" lab exec -- true >/dev/null 2>&1
rc=$?
[ $rc = 1 ] && ok "exec without a lab: exit 1" || fail "exec without a lab: exit $rc, want 1"

# --- not root: exit 2 with a message that says why (setpriv drops to nobody)
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ZCGEN" lab up $SINKOPT 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -q root <<<"$out"; then ok "unprivileged: exit 2 ($out)"
	else fail "unprivileged: exit $rc, '$out'"; fi
	ip netns list | grep -q "^$P" && fail "unprivileged lab up created a namespace"
fi

# --- up, twice: the second keeps the lab
j1=$("$ZCGEN" lab up --queues 2 --json $SINKOPT) || fail "lab up --queues 2 failed"
j2=$("$ZCGEN" lab up --queues 2 --json $SINKOPT) || fail "second lab up --queues 2 failed"
[ "$(jq -r '.queues, .reused' <<<"$j1" | tr '\n' ' ')" = "2 false " ] && ok "first up: 2 queues, built" \
	|| fail "first up: $j1"
[ "$(jq -r '.queues, .reused' <<<"$j2" | tr '\n' ' ')" = "2 true " ] && ok "second up: kept" \
	|| fail "second up: $j2"
[ "$(jq -r '.tx.netns, .rx.netns, .tx.device, .rx.device, .tx.ipv4, .rx.ipv4' <<<"$j2" | tr '\n' ' ')" = \
  "$TX $RX zcl-tx0 zcl-rx0 198.18.0.1 198.18.0.2 " ] && ok "layout in JSON" || fail "layout: $j2"

ip netns list | grep -q "^$TX\b" && ip netns list | grep -q "^$RX\b" && ok "ip netns list shows both" \
	|| fail "ip netns list: $(ip netns list | tr '\n' ' ')"
ip -n "$TX" link show dev zcl-tx0 | grep -q 'state UP' && ok "zcl-tx0 up in $TX" || fail "zcl-tx0 in $TX"
ip -n "$RX" link show dev zcl-rx0 | grep -q 'state UP' && ok "zcl-rx0 up in $RX" || fail "zcl-rx0 in $RX"
[ "$(ntxq)" = 2 ] && ok "2 tx queues in sysfs" || fail "tx queues: $(ntxq)"
tc -n "$TX" qdisc show dev zcl-tx0 root | grep -q '^qdisc mq' && ok "mq root qdisc" \
	|| fail "qdisc: $(tc -n "$TX" qdisc show dev zcl-tx0 root)"
[ "$(tc -n "$TX" qdisc show dev zcl-tx0 | grep -c 'parent')" = 2 ] && ok "one mq child per queue" \
	|| fail "mq children: $(tc -n "$TX" qdisc show dev zcl-tx0)"
ip -n "$TX" addr show dev zcl-tx0 | grep -q 'inet 198.18.0.1/30' && ok "sender IPv4" || fail "sender IPv4"

# --- reachability, sender to receiver
if command -v ping >/dev/null; then
	ip netns exec "$TX" ping -c1 -W1 198.18.0.2 >/dev/null && ok "ping 198.18.0.2" || fail "ping 198.18.0.2"
	ip netns exec "$TX" ping -c1 -W1 fd00:7a63::2 >/dev/null && ok "ping fd00:7a63::2" || fail "ping fd00:7a63::2"
else
	# No ping here: a TCP transfer with iperf3 (a declared dependency) instead.
	ip netns exec "$RX" timeout 10 iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
	srv=$!
	up=0
	for _ in $(seq 50); do
		ip netns exec "$RX" ss -Hltn 'sport = :5299' | grep -q . && { up=1; break; }
		sleep 0.1
	done
	[ $up = 1 ] || fail "iperf3 server did not start"
	ip netns exec "$TX" timeout 10 iperf3 -c 198.18.0.2 -p 5299 -n 100K >/dev/null 2>&1 \
		&& ok "TCP to 198.18.0.2 (iperf3; no ping installed)" || fail "TCP to 198.18.0.2"
	wait $srv 2>/dev/null
fi

# --- the sink, when built
if [ -z "$SINKOPT" ]; then
	tcp=$(jq -r '.sink.tcp.pid' <<<"$j2")
	udp=$(jq -r '.sink.udp.pid' <<<"$j2")
	[ "$tcp" = "$(jq -r '.sink.tcp.pid' <<<"$j1")" ] && ok "sink kept on reuse" || fail "sink restarted on reuse"
	ip netns exec "$RX" ss -Hltn 'sport = :5201' | grep -q . && ok "sink listens on tcp 5201" \
		|| fail "no tcp listener on 5201"
	ip netns exec "$RX" ss -Hlun 'sport = :5201' | grep -q . && ok "sink bound on udp 5201" \
		|| fail "no udp socket on 5201"
	ip netns exec "$TX" timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.0.2/5201' \
		&& ok "connect to the sink from the sender" || fail "connect to the sink"
fi

# --- lab exec: sysfs shows the lab's device, and XPS writes land on it
ifi=$(ip -n "$TX" -j link show dev zcl-tx0 | jq '.[0].ifindex')
[ "$("$ZCGEN" lab exec -- cat /sys/class/net/zcl-tx0/ifindex)" = "$ifi" ] && ok "lab exec: sysfs is the lab's" \
	|| fail "lab exec: /sys/class/net/zcl-tx0/ifindex is not $ifi"
"$ZCGEN" lab exec -- cat /sys/class/net/zcl-tx0/queues/tx-0/xps_cpus >/dev/null && ok "lab exec: xps_cpus readable" \
	|| fail "lab exec: xps_cpus"
"$ZCGEN" lab exec -- sh -c 'echo 1 > /sys/class/net/zcl-tx0/queues/tx-1/xps_cpus' || fail "lab exec: XPS write"
[ "$(ip netns exec "$TX" cat /sys/class/net/zcl-tx0/queues/tx-1/xps_cpus | hexmask)" = 1 ] \
	&& ok "XPS write through lab exec landed on the lab device" || fail "XPS write did not land"
[ -e /sys/class/net/zcl-tx0 ] && fail "host /sys changed by lab exec" || ok "host /sys untouched"
[ "$("$ZCGEN" lab exec -- sh -c 'exit 7'; echo $?)" = 7 ] && ok "lab exec passes the exit status" \
	|| fail "lab exec exit status"

j=$("$ZCGEN" lab status --json) && [ "$(jq -r .queues <<<"$j")" = 2 ] && ok "status --json" \
	|| fail "status: $j"

# --- another queue count rebuilds
j3=$("$ZCGEN" lab up --queues 4 --json $SINKOPT) || fail "lab up --queues 4 failed"
[ "$(jq -r '.queues, .reused' <<<"$j3" | tr '\n' ' ')" = "4 false " ] && ok "up --queues 4 rebuilt" \
	|| fail "up --queues 4: $j3"
[ "$(ntxq)" = 4 ] && ok "4 tx queues in sysfs" || fail "tx queues after rebuild: $(ntxq)"
[ "$(tc -n "$TX" qdisc show dev zcl-tx0 | grep -c 'parent')" = 4 ] && ok "mq has 4 children" \
	|| fail "mq children after rebuild"
if [ -z "$SINKOPT" ]; then
	running "$tcp" && fail "old sink $tcp still running after rebuild" || ok "old sink stopped"
fi

# --- a half-broken lab is rebuilt
ip -n "$RX" addr flush dev zcl-rx0
"$ZCGEN" lab status >/dev/null
rc=$?
[ $rc = 1 ] && ok "status of a broken lab: exit 1" || fail "status of a broken lab: exit $rc"
"$ZCGEN" lab up --queues 4 $SINKOPT >/dev/null && ip -n "$RX" addr show dev zcl-rx0 | grep -q 198.18.0.2 \
	&& ok "up repairs a broken lab" || fail "up did not repair"

# --- UDP GRO: the receiving veth coalesces datagrams sent one by one; the sink splits them
if [ -z "$SINKOPT" ]; then
	"$ZCGEN" lab up --gro --no-gro >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ] && ok "up --gro --no-gro: exit 2" || fail "up --gro --no-gro: exit $rc, want 2"
	jg=$("$ZCGEN" lab up --queues 1 --gro --json) || fail "lab up --queues 1 --gro failed"
	[ "$(jq -c '[.gro, .gro_settings.rx_gro, .gro_settings.rx_udp_gro_forwarding, .gro_settings.napi_threaded, .sink.udp.gro]' <<<"$jg")" = \
	  "[true,true,true,true,true]" ] && ok "up --gro: GRO on, sink with --gro" || fail "up --gro: $jg"
	feat=$(ip netns exec "$RX" ethtool -k zcl-rx0 2>/dev/null | grep -E '^(generic-receive-offload|rx-udp-gro-forwarding):' | tr -d ' \n')
	if command -v ethtool >/dev/null; then
		[ "$feat" = "generic-receive-offload:onrx-udp-gro-forwarding:on" ] && ok "ethtool shows gro on" \
			|| fail "ethtool -k zcl-rx0: $feat"
	fi
	[ "$(ip netns exec "$RX" cat /sys/class/net/zcl-rx0/threaded)" = 1 ] && ok "threaded NAPI on zcl-rx0" \
		|| fail "threaded NAPI not on"
	spid=$(jq -r '.sink.udp.pid' <<<"$jg")
	tr '\0' ' ' <"/proc/$spid/cmdline" | grep -q -- '--gro' && ok "sink $spid runs with --gro" \
		|| fail "sink cmdline: $(tr '\0' ' ' <"/proc/$spid/cmdline")"
	"$ZCGEN" lab status | grep -q '^lab .*GRO on' && ok "status says GRO on" || fail "status: $("$ZCGEN" lab status)"

	F=$(mktemp /tmp/zcgen-labgro.XXXXXX.json)
	if "$ZCGEN" lab exec -- "$ZCGEN" --dest 198.18.0.2:5201 --protocol udp --size 1400 --duration 1 \
		--server zcgen --json "$F" >/dev/null 2>&1; then
		sent=$(jq '.total.datagrams' "$F")
		got=$(jq '.receiver.packets + .receiver.lost + .receiver.tail_lost' "$F")
		dups=$(jq '[.receiver.streams[].duplicates] | add' "$F")
		[ "$sent" -gt 0 ] && [ "$got" = "$sent" ] && [ "$dups" = 0 ] \
			&& ok "every datagram counted whole: $sent sent, $(jq .receiver.packets "$F") received + lost" \
			|| fail "sent $sent, received+lost $got, duplicates $dups"
	else
		fail "UDP run through the GRO lab failed"
	fi
	rm -f "$F"
	# The sink's GRO counter is in its report, written to its log when it stops.
	kill -TERM "$spid"
	for _ in $(seq 100); do running "$spid" || break; sleep 0.05; done
	gro=$(sed -n 's/^gro: \([0-9]*\) receives.*/\1/p' /run/zcgen/lab/"$P".sink.log)
	# Whether the NAPI thread finds several datagrams waiting depends on scheduling (on an
	# idle machine it may keep up and merge nothing): the count is shown, not required.
	[ -n "$gro" ] && ok "the sink reported its GRO receives ($gro coalesced)" \
		|| fail "no gro: line in the sink's report: $(tail -3 /run/zcgen/lab/"$P".sink.log)"

	# Back off in place: same queues, so the lab is kept; the (dead) sink comes back without --gro.
	jn=$("$ZCGEN" lab up --queues 1 --no-gro --json) || fail "lab up --no-gro failed"
	[ "$(jq -c '[.reused, .gro, .gro_settings.rx_gro, .gro_settings.rx_udp_gro_forwarding, .gro_settings.napi_threaded, .sink.udp.gro]' <<<"$jn")" = \
	  "[true,false,false,false,false,false]" ] && ok "up --no-gro: kept, GRO off, sink without --gro" \
		|| fail "up --no-gro: $jn"
	# Neither option keeps the setting; --gro turns it on in place and restarts a running sink.
	jk=$("$ZCGEN" lab up --queues 1 --json)
	[ "$(jq -c '[.reused, .gro]' <<<"$jk")" = "[true,false]" ] && ok "up without --gro keeps GRO off" || fail "keep: $jk"
	spid=$(jq -r '.sink.udp.pid' <<<"$jk")
	jg=$("$ZCGEN" lab up --queues 1 --gro --json)
	[ "$(jq -c '[.reused, .gro, .sink.udp.gro]' <<<"$jg")" = "[true,true,true]" ] && ok "up --gro in place" \
		|| fail "up --gro in place: $jg"
	[ "$(jq -r '.sink.udp.pid' <<<"$jg")" != "$spid" ] && ! running "$spid" && ok "sink restarted with --gro" \
		|| fail "sink $spid not restarted"
	jk=$("$ZCGEN" lab up --queues 1 --json)
	[ "$(jq -c '[.reused, .gro, .sink.udp.gro]' <<<"$jk")" = "[true,true,true]" ] && ok "up without --gro keeps GRO on" \
		|| fail "keep on: $jk"
fi

# --- down, twice
pids=$("$ZCGEN" lab status --json | jq -r '.sink.tcp.pid // empty, .sink.udp.pid // empty')
"$ZCGEN" lab down && ok "lab down" || fail "lab down"
ip netns list | grep -q "^$P" && fail "namespaces left: $(ip netns list | tr '\n' ' ')" || ok "namespaces gone"
ls /run/zcgen/lab/"$P".* >/dev/null 2>&1 && fail "state left: $(ls /run/zcgen/lab/"$P".*)" || ok "state files gone"
if [ -z "$SINKOPT" ]; then
	[ "$(wc -w <<<"$pids")" = 2 ] || fail "status did not show two sinks: $pids"
	for pid in $pids; do
		running "$pid" && fail "sink $pid still running after down"
	done
	ok "sinks stopped"
fi
"$ZCGEN" lab down && ok "second lab down" || fail "second lab down"

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all lab checks passed"
