#!/usr/bin/env bash
# t_ipv6.sh - IPv6 end to end on loopback: zcgen and its sink on [::1], TCP and UDP,
# and names that do not resolve fail before any traffic with a clear message.
source "$(dirname "$0")/lib.sh"

if ! ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	skip "loopback has no ::1 (IPv6 disabled on this host)"
fi

SINK_HOST='[::1]'
start_sink tcp
check "sink prints its IPv6 address" grep -q '^listening on \[::1\]:' "$SINK_OUT"
"$ZCGEN" --dest "[::1]:$SINK_PORT" --queues 1 --mode zc-fixed --duration 1 --json "$T/run.json" >"$T/run.out" 2>&1
rc=$?
sleep 0.2
stop_sink
check "tcp over ::1: exit 0" [ "$rc" -eq 0 ]
check "tcp over ::1: the plan names the IPv6 destination" \
	[ "$(jq -r .plan.dest "$T/run.json")" = "[::1]:$SINK_PORT" ]
sent=$(jq .total.bytes "$T/run.json")
got=$(jq .total.bytes "$SINK_JSON")
check "tcp over ::1: bytes sent ($sent) equal bytes received ($got)" [ "$sent" -gt 0 -a "$sent" -eq "$got" ]

start_sink udp
"$ZCGEN" --dest "[::1]:$SINK_PORT" --protocol udp --size 1200 --queues 1 --mode zc --duration 1 \
	--json "$T/run.json" >"$T/run.out" 2>&1
rc=$?
sleep 0.2
stop_sink
check "udp over ::1: exit 0" [ "$rc" -eq 0 ]
sends=$(jq .total.sends "$T/run.json")
got=$(jq .total.packets "$SINK_JSON")
lost=$(jq .total.lost "$SINK_JSON")
check "udp over ::1: received ($got) + lost ($lost) <= sent ($sends), some arrived" \
	[ "$got" -gt 0 -a $((got + lost)) -le "$sends" ]
check "udp over ::1: no foreign datagrams" [ "$(jq .total.foreign "$SINK_JSON")" -eq 0 ]

# A name that does not resolve: exit 2 before any traffic, the name in the message.
"$ZCGEN" --dest "no-such-host.invalid:5201" --duration 1 >"$T/bad.out" 2>&1
rc=$?
check "unresolvable name: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "unresolvable name: the message names it" grep -q "cannot resolve no-such-host.invalid" "$T/bad.out"
check "unresolvable name: no report was printed" bash -c "! grep -q '^total' '$T/bad.out'"

finish
