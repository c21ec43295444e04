#!/bin/bash
# t_profile_json.sh - a run's report repeats the run: environment.profile,
# written back as a .yaml file (JSON is YAML 1.2 flow style), loads without
# a complaint and --dry-run shows the same plan as the original profile.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is needed"

cat >"$T/paced.yaml" <<YAML
name: paced-roundtrip
protocol: udp
queues: 2
streams: 2
sizes: {64: 7, 576: 4, 1472: 1}
mode: copy
depth: 4
duration: 1s
omit: 200ms
interval: 250ms
rate:
  value: 40kpps
  per: queue
  ramp: {from: 10kpps, over: 500ms}
  burst: 4
udp:
  gso_segments: 1
source:
  address: 127.0.0.1
  ports: 41000-41003
dscp: 10
buffers:
  hugepages: off
expect:
  min_gbps_total: 0.001
  max_loss_percent: 50
YAML

start_sink udp
"$ZCGEN" run --profile "$T/paced.yaml" --dest "127.0.0.1:$SINK_PORT" --quiet \
	--json "$T/run.json" >"$T/run.out" 2>&1
rc=$?
stop_sink
check "the paced run exits 0 or 3 (expect: thresholds)" [ "$rc" -eq 0 -o "$rc" -eq 3 ]
[ -s "$T/run.json" ] || { cat "$T/run.out"; fail "no JSON"; finish; exit 1; }
jq .environment.profile "$T/run.json" >"$T/back.yaml"
check "the profile has rate, sizes, source, dscp, buffers, expect, udp" \
	[ "$(jq '.environment.profile | has("rate") and has("sizes") and has("source") and has("dscp")
		and has("buffers") and has("expect") and has("udp")' "$T/run.json")" = true ]
check "rate keeps every key" [ "$(jq -c '.environment.profile.rate | [.value, .per, .layer, .ramp.from, .ramp.over, .burst]' "$T/run.json")" = '["40000pps","queue","payload","10000pps",0.5,4]' ]

"$ZCGEN" run --profile "$T/paced.yaml" --dest "127.0.0.1:$SINK_PORT" --dry-run >"$T/plan1" 2>&1
r1=$?
"$ZCGEN" run --profile "$T/back.yaml" --dry-run >"$T/plan2" 2>"$T/plan2.err"
r2=$?
check "the original profile's dry run exits 0" [ "$r1" -eq 0 ]
check "the report's profile loads and its dry run exits 0 ($(head -c 300 "$T/plan2.err"))" [ "$r2" -eq 0 ]
check "the report's profile loads without a warning" [ ! -s "$T/plan2.err" ]
# the first line names the profile's file: everything after it is the plan
if diff <(tail -n +2 "$T/plan1") <(tail -n +2 "$T/plan2") >"$T/plan.diff"; then
	ok "--dry-run shows the same plan from the report's profile"
else
	cat "$T/plan.diff"
	fail "--dry-run shows the same plan from the report's profile"
fi

# the loader's side: a written null is "not given", an empty value is still an error
printf 'target: {host: 127.0.0.1, port: 5201}\ncpus: null\nnic: null\nduration_s: 0.5\n' >"$T/null.yaml"
"$ZCGEN" run --profile "$T/null.yaml" --dry-run >"$T/null.out" 2>&1
check "cpus: null, nic: null and duration_s: 0.5 load ($(head -c 200 "$T/null.out"))" \
	grep -q 'time:      0.500 s measured' "$T/null.out"
printf 'target: {host: 127.0.0.1, port: 5201}\ncpus:\n' >"$T/empty.yaml"
"$ZCGEN" run --profile "$T/empty.yaml" --dry-run >"$T/empty.out" 2>&1
rc=$?
check "an empty cpus: is still an error (exit $rc)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'cpus: missing value' '$T/empty.out'"

# a TCP profile with its own keys: congestion, tos, a step schedule, tcp_pacing
cat >"$T/tcp.yaml" <<YAML
protocol: tcp
queues: 2
size: 16K
duration: 1s
tos: 32
tcp: {congestion: reno}
rate:
  steps: [{rate: 100M, for: 300ms}, {rate: 0, for: 200ms}, {rate: 200M, for: 1s}]
  tcp_pacing: on
YAML
start_sink tcp
"$ZCGEN" run --profile "$T/tcp.yaml" --dest "127.0.0.1:$SINK_PORT" --quiet --json "$T/tcp.json" \
	>"$T/tcp.out" 2>&1 || { cat "$T/tcp.out"; fail "tcp run exited non-zero"; }
stop_sink
jq .environment.profile "$T/tcp.json" >"$T/tcp-back.yaml"
"$ZCGEN" run --profile "$T/tcp.yaml" --dest "127.0.0.1:$SINK_PORT" --dry-run >"$T/tplan1" 2>&1
"$ZCGEN" run --profile "$T/tcp-back.yaml" --dry-run >"$T/tplan2" 2>&1
check "tcp: the steps are in the report" [ "$(jq -c '.environment.profile.rate.steps | map(.rate)' "$T/tcp.json")" = '["100000000","0","200000000"]' ]
check "tcp: steps, tos, congestion, tcp_pacing give the same plan" \
	diff <(tail -n +2 "$T/tplan1") <(tail -n +2 "$T/tplan2")
finish
