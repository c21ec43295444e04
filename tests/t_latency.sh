#!/bin/bash
# t_latency.sh - one-way latency at the sink, and UDP GRO: zcgen --server zcgen against a
# zcgen sink on loopback shows the sink's percentiles in its own report; a --gro sink splits
# the GSO super-packets of zcgen --gso 8 and counts every datagram once, in sequence.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is needed"

# 1. latency through the iperf3 result exchange, at a modest rate
start_sink udp
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --protocol udp --server zcgen --size 1200 \
	--rate 20kpps --duration 1s --json "$T/lat.json" >"$T/lat.out" 2>&1
rc=$?
stop_sink
check "zcgen --server zcgen: exit 0 (got $rc)" [ "$rc" -eq 0 ]
R=$T/lat.json
echo "zcgen: $(jq -c '.receiver | {latency_us, latency_valid, lost, reordered, duplicates}' "$R")"
echo "sink:  $(jq -c '.total | {latency_us, latency_valid}' "$SINK_JSON")"
check "receiver.latency_us.p50 > 0" [ "$(jq '.receiver.latency_us.p50 > 0' "$R")" = true ]
check "p50 <= p90 <= p99 <= p99_9 <= max" \
	[ "$(jq '.receiver.latency_us | .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p99_9 and .p99_9 <= .max' "$R")" = true ]
check "latency counted for every datagram received" \
	[ "$(jq '.receiver.latency_us.count == .receiver.packets' "$R")" = true ]
check "same clock: latency valid, nothing negative" \
	[ "$(jq -c '.receiver | [.latency_valid, .latency_negative]' "$R")" = "[true,0]" ]
check "per stream too" [ "$(jq '.receiver.streams[0].latency_us.p50 > 0' "$R")" = true ]
check "receiver reordered and duplicates are numbers" \
	[ "$(jq '.receiver | (.reordered | type) == "number" and (.duplicates | type) == "number"' "$R")" = true ]
check "the sink's JSON has the same percentiles" \
	[ "$(jq -c '.receiver.latency_us' "$R")" = "$(jq -c '.total.latency_us' "$SINK_JSON")" ]
check "the sink says what the figure means" grep -q 'share a clock' <(jq -r .clock_note "$SINK_JSON")
check "the table shows the receiver's latency" grep -Eq '^receiver \(zcgen\):.*latency p50 [0-9.]+ p99 [0-9.]+ max [0-9.]+ us' "$T/lat.out"

# 2. UDP GRO: a GSO sender, a --gro sink; loopback hands the super-packet over whole
start_sink udp --gro --verify
"$ZCGEN" run --dest "127.0.0.1:$SINK_PORT" --protocol udp --mode copy --size 1200 --gso 8 \
	--rate 40kpps --duration 1s --quiet --json "$T/gro.json" >"$T/gro.out" 2>&1
rc=$?
stop_sink
if grep -q 'UDP_SEGMENT.*failed' "$T/gro.out"; then
	cat "$T/gro.out"
	skip "the kernel has no UDP GSO"
fi
if grep -q "cannot listen" "$SINK_OUT"; then
	cat "$SINK_OUT"
	skip "the kernel refuses UDP_GRO"
fi
check "gso run: exit 0 (got $rc)" [ "$rc" -eq 0 ]
dg=$(jq .total.datagrams "$T/gro.json")
echo "zcgen: $dg datagrams; sink: $(jq -c '.total | [.packets, .gro_receives, .lost, .reordered, .duplicates, .foreign, .corrupt_datagrams]' "$SINK_JSON")"
check "the sink received coalesced datagrams" [ "$(jq '.total.gro_receives > 0' "$SINK_JSON")" = true ]
check "each counted once: sink packets == zcgen datagrams" [ "$(jq .total.packets "$SINK_JSON")" -eq "$dg" ]
check "in sequence: no loss, reordering, duplicates, foreign" \
	[ "$(jq -c '.total | [.lost, .reordered, .duplicates, .too_late, .foreign, .truncated]' "$SINK_JSON")" = "[0,0,0,0,0,0]" ]
check "whole and intact: 1200 bytes each, pattern verified" \
	[ "$(jq ".total.bytes == $dg * 1200 and .total.corrupt_datagrams == 0" "$SINK_JSON")" = true ]
check "latency for every datagram of them" [ "$(jq ".total.latency_us.count == $dg" "$SINK_JSON")" = true ]
finish
