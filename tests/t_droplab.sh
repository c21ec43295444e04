#!/usr/bin/env bash
# t_droplab.sh - the drop lab: lab up --drop builds the qdiscs and the neighbour entries, a UDP
# zc-fixed run is really zero-copy and the qdiscs' drops count every datagram, TCP is refused,
# lab down leaves nothing.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
command -v tc >/dev/null || skip "needs tc (iproute2)"

use_lab zcgd$$
TX=$P-tx

j=$("$ZCGEN" lab up --drop --queues 2 --json) || { fail "lab up --drop"; finish; exit; }
check "up --drop: flavour drop, MTU 65535, no sink" \
	[ "$(jq -c '[.flavour, .mtu, .queues, .sink.tcp, .sink.udp]' <<<"$j")" = '["drop",65535,2,null,null]' ]
qd=$(tc -j -n "$TX" qdisc show dev zcl-tx0)
check "up --drop: mq root with handle 1:" \
	[ "$(jq -r '.[] | select(.root == true) | .kind + " " + .handle' <<<"$qd")" = "mq 1:" ]
check "up --drop: pfifo limit 0 on 1:1 and 1:2" \
	[ "$(jq -r '[.[] | select(.kind == "pfifo" and .options.limit == 0) | .parent] | sort | join(",")' <<<"$qd")" = "1:1,1:2" ]
mac=$(ip -j -n "$P-rx" link show dev zcl-rx0 | jq -r '.[0].address')
check "up --drop: permanent neighbour 198.18.0.2 with the peer's address" \
	[ "$(ip -j -n "$TX" neigh show dev zcl-tx0 | jq -r --arg m "$mac" '.[] | select(.dst == "198.18.0.2" and .lladdr == $m) | .state[0]')" = PERMANENT ]
"$ZCGEN" lab status >"$T/status.out"
check "status: exit 0 and says drop lab" grep -q 'drop lab, 2 queues' "$T/status.out"
check "status: shows the qdiscs" grep -q 'pfifo limit 0 on 1:1 to 1:2' "$T/status.out"
"$ZCGEN" lab up --drop --queues 2 >"$T/up2.out"
check "up --drop again: kept" grep -q 'already up, kept' "$T/up2.out"

# The kernel's own IPv6 chatter (two MLD reports) is over within 2 s of the device going up:
# wait until the drop counters stand still, so that what follows counts only the run.
drops() { tc -j -s -n "$TX" qdisc show dev zcl-tx0 | jq '[.[] | select(.kind == "pfifo") | .drops] | add'; }
prev=-1 still=0
for _ in $(seq 40); do
	now=$(drops)
	if [ "$now" = "$prev" ]; then still=$((still + 1)); else still=0; fi
	[ "$still" -ge 4 ] && break
	prev=$now
	sleep 0.5
done
before=$(drops)

"$ZCGEN" --lab=drop --protocol udp --size 1400 --mode zc-fixed --queues 2 --duration 1 --omit 0 \
	--json "$T/zc.json" >"$T/zc.out" 2>&1
rc=$?
check "zc-fixed run: exit 0" [ "$rc" -eq 0 ] || cat "$T/zc.out"
after=$(drops)
check "zc-fixed run: environment.lab is drop" [ "$(jq -r .environment.lab "$T/zc.json")" = drop ]
check "zc-fixed run: datagrams sent" [ "$(jq .total.datagrams "$T/zc.json")" -gt 1000 ]
check "zc-fixed run: every send notified, 0% copied (zero-copy is real here)" \
	[ "$(jq '.total.zc_notifications == .total.zc_sends and .total.zc_sends > 0 and .total.zc_copied == 0' "$T/zc.json")" = true ]
echo "qdisc drops $before -> $after, datagrams $(jq .total.datagrams "$T/zc.json"), per queue $(jq -c '[.queues[].nic.tx_packets]' "$T/zc.json")"
check "zc-fixed run: the qdiscs dropped exactly the datagrams sent" \
	[ "$((after - before))" -eq "$(jq .total.datagrams "$T/zc.json")" ]
check "zc-fixed run: per-queue NIC counters are the qdisc drops, no bytes" \
	[ "$(jq -c '[.queues[].nic.source] | unique' "$T/zc.json")" = '["qdisc-drops"]' ] && \
	[ "$(jq '[.queues[].nic.tx_bytes] | unique == [null]' "$T/zc.json")" = true ]
check "zc-fixed run: per-queue NIC packets add up to the datagrams" \
	[ "$(jq '([.queues[].nic.tx_packets] | add) == .total.datagrams' "$T/zc.json")" = true ]
check "zc-fixed run: the table says it is the sender's ceiling" grep -q "sender's ceiling" "$T/zc.out"
check "zc-fixed run: the lab was kept (it was up before)" "$ZCGEN" lab status >/dev/null

# server: zcgen in the profile is turned to none: there is no receiver.
"$ZCGEN" --lab=drop --protocol udp --server zcgen --queues 2 --duration 0.3 --omit 0 \
	>"$T/srv.out" 2>&1
rc=$?
check "server zcgen: exit 0, turned to none" [ "$rc" -eq 0 ] && grep -q 'server zcgen -> none' "$T/srv.out"

# sweep --lab=drop: cells against no receiver, said in the JSON.
"$ZCGEN" sweep --lab=drop --protocol udp --queues 2 --sizes 1400 --modes copy,zc-fixed --duration 0.5 \
	--json "$T/sweep.json" >"$T/sweep.out" 2>&1
rc=$?
check "sweep --lab=drop: exit 0" [ "$rc" -eq 0 ] || cat "$T/sweep.out"
check "sweep --lab=drop: every cell ran, environment says drop" \
	[ "$(jq '(.cells | length) == 2 and all(.cells[]; .ok) and .environment.lab == true and .environment.lab_flavour == "drop"' "$T/sweep.json")" = true ]
check "sweep --lab=drop: the table says ceiling" grep -q "sender's ceiling" "$T/sweep.out"
"$ZCGEN" sweep --lab=drop --protocol tcp >/dev/null 2>&1
check "sweep --lab=drop tcp: exit 2" [ $? -eq 2 ]
"$ZCGEN" compare --lab=drop --protocol udp >"$T/cmp.out" 2>&1
check "compare --lab=drop: exit 2, says why" [ $? -eq 2 ] && grep -q 'control connection' "$T/cmp.out"

"$ZCGEN" --lab=drop --protocol tcp --duration 1 >"$T/tcp.out" 2>&1
rc=$?
check "tcp: refused with exit 2" [ "$rc" -eq 2 ]
check "tcp: the reason is given" grep -q 'TCP needs' "$T/tcp.out"
"$ZCGEN" --lab=nope --protocol udp >/dev/null 2>&1
check "--lab=nope: exit 2" [ $? -eq 2 ]
"$ZCGEN" lab up --drop --gro >/dev/null 2>&1
check "lab up --drop --gro: exit 2" [ $? -eq 2 ]

# A lost neighbour entry makes the lab incomplete, and lab up repairs it.
ip -n "$TX" neigh del 198.18.0.2 dev zcl-tx0
"$ZCGEN" lab status >"$T/st2.out" 2>&1
rc=$?
check "status without the neighbour entry: exit 1, says so" [ "$rc" -eq 1 ] && grep -q 'neighbour' "$T/st2.out"

# Without it, zero-copy datagrams wait in the neighbour's queue and hold every slot: the
# report says so instead of starving silently (copy would keep sending).
ip netns exec "$TX" "$ZCGEN" --dest 198.18.0.2:5201 --protocol udp --size 1400 --mode zc-fixed \
	--queues 1 --duration 1.5 --omit 0 --quiet --json "$T/nn.json" >"$T/nn.out" 2>&1
check "unresolved next hop: the wait is measured" \
	[ "$(jq '.queues[0].zc_slots_dry_max_s >= 1 and .total.sends <= 64' "$T/nn.json")" = true ]
check "unresolved next hop: the report names it" grep -q 'every buffer slot waited .* neighbour queue' "$T/nn.out"

# The veth lab's reports say veth.
"$ZCGEN" --lab --protocol udp --server none --queues 1 --duration 0.3 --omit 0 --json "$T/veth.json" \
	>"$T/veth.out" 2>&1
check "--lab run: environment.lab is veth" [ "$(jq -r .environment.lab "$T/veth.json")" = veth ]

"$ZCGEN" lab up --drop --queues 1 >/dev/null || fail "lab up --drop --queues 1"
check "one queue: pfifo limit 0 at the root" \
	[ "$(tc -j -n "$TX" qdisc show dev zcl-tx0 | jq -r '.[] | select(.root == true) | .kind + " " + (.options.limit | tostring)')" = "pfifo 0" ]
"$ZCGEN" lab down
check "down: exit 0" [ $? -eq 0 ]
check "down: no namespace left" bash -c "! ip netns list | grep -q '^$P-'"
check "down: no state file left" bash -c "! ls /run/zcgen/lab/$P.* 2>/dev/null | grep -q ."
finish
