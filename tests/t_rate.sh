#!/bin/bash
# t_rate.sh - rate control on loopback, measured from the sink's counts:
# a TCP bit rate and a UDP packet rate hold within 2%, a ramp reaches its
# target, and a rate the machine cannot reach is reported as missed.
# A ring that wakes more than its bucket late (a busy machine) gives up
# that part of its schedule and reports it (forfeited_*_per_second): the
# sink's count is then checked against the schedule less what was given up,
# and target = achieved + forfeited is checked on its own.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is needed"

# within PCT GOT WANT: |GOT - WANT| <= PCT% of WANT
within() { awk -v p="$1" -v g="$2" -v w="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(w > 0 && d <= w * p / 100) }'; }

# TCP, 500 Mbit/s of payload. The sink counts every byte, and the sender's
# pacer charges a send when it is submitted; every submitted send completes
# before the run ends, so the bytes are rate x the sender's measured time.
start_sink tcp
"$ZCGEN" run --dest "127.0.0.1:$SINK_PORT" --protocol tcp --size 16K --rate 500M --duration 3s \
	--quiet --json "$T/tcp.json" >"$T/tcp.out" 2>&1 || { cat "$T/tcp.out"; fail "tcp run exited non-zero"; }
stop_sink
got=$(jq .total.bytes "$SINK_JSON")
want=$(jq '.total.duration_s * (500e6 - .total.forfeited_bits_per_second) / 8' "$T/tcp.json")
echo "tcp: sink $got bytes, rate x duration $want ($(jq .total.forfeited_bits_per_second "$T/tcp.json") bit/s forfeited)"
check "tcp 500M: the sink's bytes within 2% of (rate - forfeited) x duration" within 2 "$got" "$want"
check "tcp 500M: target = achieved + forfeited (within 1%)" within 1 \
	"$(jq '.total.achieved_bits_per_second + .total.forfeited_bits_per_second' "$T/tcp.json")" \
	"$(jq .total.target_bits_per_second "$T/tcp.json")"
check "tcp 500M: target reported" [ "$(jq '.total.target_bits_per_second | . > 499e6 and . < 501e6' "$T/tcp.json")" = true ]
check "tcp 500M: per-queue target and rate_missed in the JSON" \
	[ "$(jq '.queues[0] | has("target_bits_per_second") and (.rate_missed | type == "boolean")' "$T/tcp.json")" = true ]

# UDP, 100 kpps of 1000-byte datagrams
start_sink udp
"$ZCGEN" run --dest "127.0.0.1:$SINK_PORT" --protocol udp --size 1000 --rate 100kpps --duration 3s \
	--quiet --json "$T/udp.json" >"$T/udp.out" 2>&1 || { cat "$T/udp.out"; fail "udp run exited non-zero"; }
stop_sink
got=$(jq .total.packets "$SINK_JSON")
want=$(jq '.total.duration_s * (100000 - .total.forfeited_packets_per_second)' "$T/udp.json")
echo "udp: sink $got datagrams, rate x duration $want ($(jq .total.forfeited_packets_per_second "$T/udp.json")/s forfeited)"
check "udp 100kpps: the sink's datagrams within 2% of (rate - forfeited) x duration" within 2 "$got" "$want"
check "udp 100kpps: target = achieved + forfeited (within 1%)" within 1 \
	"$(jq '.total.achieved_packets_per_second + .total.forfeited_packets_per_second' "$T/udp.json")" \
	"$(jq .total.target_packets_per_second "$T/udp.json")"
check "udp 100kpps: forfeited in packets/s, none in bits/s" \
	[ "$(jq '.queues[0] | (.forfeited_packets_per_second | type == "number") and .forfeited_bits_per_second == null' "$T/udp.json")" = true ]
check "udp 100kpps: zcgen's datagrams are the sink's" [ "$(jq .total.datagrams "$T/udp.json")" -eq "$got" ]
check "udp 100kpps: target in packets/s" \
	[ "$(jq '.total.target_packets_per_second | . > 99900 and . < 100100' "$T/udp.json")" = true ]

# A ramp from 10 to 80 kpps over 1.5 s, held to 3 s: the last interval is at the target.
cat >"$T/ramp.yaml" <<YAML
protocol: udp
size: 1000
duration: 3s
interval: 500ms
rate:
  value: 80kpps
  ramp: {from: 10kpps, over: 1500ms}
YAML
start_sink udp
"$ZCGEN" run --profile "$T/ramp.yaml" --dest "127.0.0.1:$SINK_PORT" --quiet --json "$T/ramp.json" \
	>"$T/ramp.out" 2>&1 || { cat "$T/ramp.out"; fail "ramp run exited non-zero"; }
stop_sink
last=$(jq '[.intervals[] | select(.end - .start > 0.3)] | last | (.queues[0].sends / (.end - .start))' "$T/ramp.json")
first=$(jq '.intervals[0] | (.queues[0].sends / (.end - .start))' "$T/ramp.json")
# what the run gave up (late wake-ups on a busy machine) may all have fallen in the last interval
lost=$(jq '. as $r | [.intervals[] | select(.end - .start > 0.3)] | last | (.end - .start) as $d
	| ($d * 80000 * 0.05 + $r.total.forfeited_packets_per_second * $r.total.duration_s) / $d' "$T/ramp.json")
echo "ramp: first interval $first/s, last $last/s (allowed below 80 kpps: $lost/s, forfeits included)"
check "ramp: the last interval within 5% of 80 kpps, less what the run forfeited" \
	awk -v l="$last" -v a="$lost" 'BEGIN { exit !(l >= 80000 - a && l <= 80000 * 1.05) }'
check "ramp: the first interval well below it" awk -v f="$first" 'BEGIN { exit !(f < 40000) }'
check "ramp: the sink got what was sent" \
	[ "$(jq .total.packets "$SINK_JSON")" -eq "$(jq .total.datagrams "$T/ramp.json")" ]

# 10 Tbit/s per queue cannot be reached: reported as missed, exit 0, never rounded up
start_sink tcp
"$ZCGEN" run --dest "127.0.0.1:$SINK_PORT" --protocol tcp --rate 10T --duration 1s \
	--json "$T/miss.json" >"$T/miss.out" 2>&1
rc=$?
stop_sink
check "impossible rate: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "impossible rate: total.rate_missed" [ "$(jq .total.rate_missed "$T/miss.json")" = true ]
check "impossible rate: the queue's rate_missed" [ "$(jq .queues[0].rate_missed "$T/miss.json")" = true ]
check "impossible rate: achieved is the measured rate, not the target" \
	[ "$(jq '.total.achieved_bits_per_second < 1e12 and (.total.achieved_bits_per_second - .total.bits_per_second | fabs) < 0.05 * .total.bits_per_second' "$T/miss.json")" = true ]
check "impossible rate: a 'rate missed' line in the report" grep -q '^rate missed: queue 0' "$T/miss.out"
finish
