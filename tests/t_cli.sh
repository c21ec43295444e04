#!/usr/bin/env bash
# t_cli.sh - the command line: plans from the shipped profiles (--dry-run), profile errors
# exit 2 with file:line:col before any traffic, and a calibration file changes what auto picks.
source "$(dirname "$0")/lib.sh"
P=$ZCGEN_SRC/profiles

"$ZCGEN" --version | grep -q '^zcgen [0-9]'
check "--version" [ $? -eq 0 ]
for c in run sink nic lab sweep; do
	"$ZCGEN" $c --help >"$T/help" 2>&1
	check "$c --help exits 0 and prints usage" bash -c "[ $? -eq 0 ] && grep -qi usage '$T/help'"
done
"$ZCGEN" --bogus >/dev/null 2>&1
check "unknown option: exit 2" [ $? -eq 2 ]

# Valid profiles load to the expected plan.
"$ZCGEN" --profile "$P/loopback-tcp.yaml" --dry-run >"$T/plan" 2>&1
check "loopback-tcp: dry-run exit 0" [ $? -eq 0 ]
check "loopback-tcp: 2 queues on CPUs 0 and 1" bash -c "grep -q 'queue 0: cpu 0, 1 stream' '$T/plan' && grep -q 'queue 1: cpu 1, 1 stream' '$T/plan'"
check "loopback-tcp: zc-fixed, 65536 B sends" bash -c "grep -q '^mode: *zc-fixed' '$T/plan' && grep -q '65536 B per send' '$T/plan'"
"$ZCGEN" --profile "$P/loopback-udp.yaml" --dry-run >"$T/plan" 2>&1
check "loopback-udp: 1400 B datagrams, one slot per send in flight" \
	bash -c "grep -q '1400 B payload' '$T/plan' && grep -q 'slots of' '$T/plan'"
"$ZCGEN" --profile "$P/100g-tcp.yaml" --dest 127.0.0.1:5201 --server none --cpus 0-1 --queues 2 --dry-run >"$T/plan" 2>&1
check "100g-tcp overridden to loopback: plan, and the nic: section not applied on loopback" \
	bash -c "grep -q 'queue 1: cpu 1, 2 streams' '$T/plan' && grep -q 'not applied' '$T/plan'"
"$ZCGEN" --profile "$P/100g-tcp.yaml" --dest 127.0.0.1:5201 --server none --cpus 0-1 --no-nic --dry-run >"$T/plan" 2>&1
check "more queues than CPUs: a warning, queues wrap" \
	bash -c "grep -q 'warning' '$T/plan' && grep -q 'queue 7: cpu 1' '$T/plan'"

# Profile errors: exit 2, every error with file:line:col and key, nothing sent.
start_sink tcp
cat >"$T/bad.yaml" <<EOY
name: bad
target:
  host: 127.0.0.1
  port: $SINK_PORT
queues: 0
size: 10 parsecs
bogus: 1
EOY
"$ZCGEN" --profile "$T/bad.yaml" --duration 1 >"$T/out" 2>&1
rc=$?
check "bad profile: exit 2" [ "$rc" -eq 2 ]
check "bad profile: queues out of range at line 5" grep -q "bad.yaml:5:[0-9]*: error: queues" "$T/out"
check "bad profile: bad unit at line 6" grep -q "bad.yaml:6:[0-9]*: error: size" "$T/out"
check "bad profile: unknown key at line 7" grep -q "bad.yaml:7:[0-9]*: error: bogus" "$T/out"
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --cpus 4095 --duration 1 >"$T/out" 2>&1
check "a CPU the process may not use: exit 2" [ $? -eq 2 ]
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --mode fast --duration 1 >"$T/out" 2>&1
check "bad --mode: exit 2, names the choices" bash -c "[ $? -eq 2 ] && grep -q 'zc-fixed' '$T/out'"
sleep 0.2
stop_sink
check "profile errors: nothing reached the sink" [ "$(jq .total.bytes "$SINK_JSON")" -eq 0 ]

# mode auto: the built-in crossover, then a calibration file that moves it.
"$ZCGEN" --dest 127.0.0.1:5201 --size 64K --mode auto --dry-run >"$T/plan" 2>&1
check "auto without calibration: zc-fixed at 64 KiB, says why" \
	grep -q 'auto chose zc-fixed.*built-in default' "$T/plan"
printf '{"entries":[{"driver":"loopback","kernel":"%s","protocol":"tcp","crossover_bytes":100000,"measured":"2026-11-29T00:00:00Z"}]}\n' \
	"$(uname -r)" >"$T/calib.json"
ZCGEN_CALIBRATION=$T/calib.json "$ZCGEN" --dest 127.0.0.1:5201 --size 64K --mode auto --dry-run >"$T/plan" 2>&1
check "auto with a calibration of 100000 B: copy at 64 KiB, from the file" \
	bash -c "grep -q 'auto chose copy' '$T/plan' && grep -q '$T/calib.json' '$T/plan'"

# nothing listening: no table of zeros, the error and a hint to start a receiver, exit 1
"$ZCGEN" --dest 127.0.0.1:1 --duration 1 --rate 100M >"$T/nl.out" 2>"$T/nl.err"
rc=$?
check "nothing listening: exit 1 ($rc)" [ "$rc" -eq 1 ]
check "nothing listening: no table, no rate line" bash -c "! grep -q '^total\|rate: target' '$T/nl.out' '$T/nl.err'"
check "nothing listening: the hint names zcgen sink and iperf3 -s" \
	grep -q 'start a receiver: zcgen sink --listen 0.0.0.0:1, or iperf3 -s -p 1' "$T/nl.err"
# UDP without --size on loopback: a 1500 MTU's payload, and the plan says why
"$ZCGEN" --dest 127.0.0.1:5201 --protocol udp --dry-run >"$T/udp.plan" 2>&1
check "udp on loopback without --size: 1472 B, said in the plan" \
	bash -c "grep -q 'message:   1472 B per send' '$T/udp.plan' && grep -q '^size: .*loopback' '$T/udp.plan'"
# a profile for a bigger host: --dry-run shows the plan and what is missing, exit 0; a run exits 2
if [ "$(nproc)" -lt 8 ] && ! ip link show eth1 >/dev/null 2>&1; then
	"$ZCGEN" --profile "$P/100g-tcp.yaml" --dry-run >"$T/big.out" 2>&1
	rc=$?
	check "100g-tcp --dry-run on a small host: exit 0 ($rc)" [ "$rc" -eq 0 ]
	check "100g-tcp --dry-run: the whole plan (queue 7 on cpu 7) and the nic section" \
		bash -c "grep -q 'queue 7: cpu 7' '$T/big.out' && grep -q '^nic:       eth1' '$T/big.out'"
	check "100g-tcp --dry-run: lists the CPUs and the device this host lacks" \
		bash -c "grep -q 'this host lacks' '$T/big.out' && grep -q 'device eth1' '$T/big.out' && grep -q 'CPUs .* not available' '$T/big.out'"
	"$ZCGEN" --profile "$P/100g-tcp.yaml" --duration 1 >/dev/null 2>&1
	check "100g-tcp run on a small host: exit 2" [ $? -eq 2 ]
	"$ZCGEN" --profile "$P/100g-tcp.yaml" --dry-run --depth 0 >/dev/null 2>&1
	check "100g-tcp --dry-run with a profile error: exit 2" [ $? -eq 2 ]
fi
finish
