#!/bin/bash
# t_udp_gso.sh - UDP GSO with zero-copy sends on loopback: every datagram
# arrives whole and in sequence, and a bad segment count is a clear error.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is needed"

start_sink udp --verify
"$ZCGEN" run --dest "127.0.0.1:$SINK_PORT" --protocol udp --mode zc --size 1200 --gso 8 \
	--rate 50kpps --duration 2s --quiet --json "$T/gso.json" >"$T/gso.out" 2>&1
rc=$?
stop_sink
if grep -q 'UDP_SEGMENT.*failed' "$T/gso.out"; then
	cat "$T/gso.out"
	skip "the kernel has no UDP GSO"
fi
check "gso run: exit 0 (got $rc)" [ "$rc" -eq 0 ]
dg=$(jq .total.datagrams "$T/gso.json")
sends=$(jq .total.sends "$T/gso.json")
echo "zcgen: $dg datagrams in $sends sends; sink: $(jq -c '.total | [.packets, .lost, .reordered, .duplicates, .foreign, .corrupt_datagrams]' "$SINK_JSON")"
check "8 datagrams per send" [ "$dg" -eq $((sends * 8)) ] 
check "sends were zero-copy sends" [ "$(jq .total.zc_sends "$T/gso.json")" -eq "$sends" ]
check "the sink counted every datagram zcgen sent, no more" [ "$(jq .total.packets "$SINK_JSON")" -eq "$dg" ]
check "no loss, reordering, duplicates or foreign datagrams" \
	[ "$(jq -c '.total | [.lost, .reordered, .duplicates, .too_late, .foreign, .truncated]' "$SINK_JSON")" = "[0,0,0,0,0,0]" ]
check "every datagram whole: 1200 bytes each, payload intact" \
	[ "$(jq ".total.bytes == $dg * 1200 and .total.corrupt_datagrams == 0 and .total.corrupt_bytes == 0" "$SINK_JSON")" = true ]
check "the rate counts datagrams (50 kpps)" \
	[ "$(jq '.total.achieved_packets_per_second | . > 49000 and . < 51000' "$T/gso.json")" = true ]
check "the report shows datagrams and sends" grep -q "^udp: $dg datagrams in $sends sends (8 per send: UDP GSO)" "$T/gso.out"

# bad segment counts: refused before anything is sent, saying what to change
"$ZCGEN" run --dest 127.0.0.1:9 --protocol udp --size 1200 --gso 65 --duration 1s >"$T/bad1.out" 2>&1
rc=$?
check "--gso 65: usage error (got $rc)" [ "$rc" -eq 2 ]
check "--gso 65: says the range" grep -q "gso.*1 to 64" "$T/bad1.out"
"$ZCGEN" run --dest 127.0.0.1:9 --protocol udp --size 1200 --gso 60 --duration 1s >"$T/bad2.out" 2>&1
rc=$?
check "--gso 60 x 1200 B (over 64 KiB): usage error (got $rc)" [ "$rc" -eq 2 ]
check "--gso 60 x 1200 B: says which count fits" grep -q "lower --gso (udp.gso_segments) to 54" "$T/bad2.out"
"$ZCGEN" run --dest 127.0.0.1:9 --protocol tcp --gso 8 --duration 1s >"$T/bad3.out" 2>&1
rc=$?
check "--gso with TCP: usage error (got $rc)" [ "$rc" -eq 2 ]

# The path refuses: no tx checksum offload on the device gives EIO. Needs root, ip and ethtool.
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && command -v ethtool >/dev/null; then
	ns=zcgso$$ ns2=zcgso$$b
	if ip netns add "$ns" 2>/dev/null && ip netns add "$ns2" 2>/dev/null; then
		trap 'ip netns del '"$ns"' 2>/dev/null; ip netns del '"$ns2"' 2>/dev/null; cleanup' EXIT
		ip -n "$ns" link add gsoa type veth peer name gsob netns "$ns2" &&
			ip -n "$ns" addr add 198.18.7.1/24 dev gsoa &&
			ip -n "$ns2" addr add 198.18.7.2/24 dev gsob &&
			ip -n "$ns" link set gsoa up && ip -n "$ns2" link set gsob up &&
			ip netns exec "$ns" ethtool -K gsoa tx off >/dev/null 2>&1
		ip netns exec "$ns" "$ZCGEN" run --dest 198.18.7.2:9 --protocol udp --size 1200 --gso 8 \
			--mode zc --duration 1s >"$T/eio.out" 2>&1
		grep -E '^queue 0:' "$T/eio.out"
		if grep -q 'EIO\|Input/output error' "$T/eio.out"; then
			check "no tx checksum offload: the EIO error says what to change" \
				grep -q "UDP GSO send refused (EIO).*ethtool -K DEV tx on" "$T/eio.out"
		else
			# Linux 6.11 and later checksum GSO datagrams in software instead
			echo "note: this kernel sends UDP GSO without checksum offload: no EIO to check"
		fi
		ip netns del "$ns"
		ip netns del "$ns2"
	else
		ip netns del "$ns" 2>/dev/null
		echo "note: no network namespace: the EIO case is not checked"
	fi
else
	echo "note: not root or no ip/ethtool: the EIO case is not checked"
fi
finish
