#!/bin/bash
# t_offload.sh - offload-check on the veth lab (TSO seen in the link statistics, a fixed
# feature reported unsupported, the features put back, also after SIGINT) and expect:
# thresholds (exit 0 when met, 3 when missed).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, ethtool -K)"
command -v ethtool >/dev/null || skip "ethtool is missing"
command -v jq >/dev/null || skip "jq is missing"

export ZCGEN_LAB_PREFIX=zcgo$$
NS=$ZCGEN_LAB_PREFIX-tx
DEV=zcl-tx0
RXSINK=
trap '[ -n "$RXSINK" ] && kill "$RXSINK" 2>/dev/null; "$ZCGEN" lab down >/dev/null 2>&1; cleanup' EXIT

# The lab without its own sinks: a receiver of ours on another port (offload-check
# works against any receiver), so that the test depends on the lab's layout only.
"$ZCGEN" lab up --queues 1 --no-sink >"$T/up.out" 2>&1 || { cat "$T/up.out"; skip "the lab cannot be built here"; }
ip netns exec "$ZCGEN_LAB_PREFIX-rx" "$ZCGEN" sink --listen 0.0.0.0:5301 --protocol tcp --quiet \
	>"$T/rxsink.out" 2>&1 &
RXSINK=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/rxsink.out" && break; sleep 0.05; done
grep -q '^listening on' "$T/rxsink.out" || { cat "$T/rxsink.out"; fail "the receiver did not start"; finish; }
DEST=198.18.0.2:5301
features() { ip netns exec "$NS" ethtool -k "$DEV"; }
features >"$T/k.before" || skip "ethtool -k does not work in the lab"
# a kernel feature veth fixes off ("tx-checksum-ipv4: off [fixed]")
FIXED=$(awk '/^\t.*: off \[fixed\]/ { sub(":", "", $1); print $1; exit }' "$T/k.before")
[ -n "$FIXED" ] || skip "veth has no fixed feature on this kernel"

# --- TSO on vs off, and the fixed one -------------------------------------------------
"$ZCGEN" offload-check --lab --dest $DEST --offloads "tso,$FIXED" --duration 1s --repeat 1 \
	--json "$T/oc.json" >"$T/oc.out" 2>&1
rc=$?
cat "$T/oc.out"
check "offload-check exits 0" [ "$rc" -eq 0 ]
tso() { jq -r ".offloads[] | select(.name == \"tso\") | $1" "$T/oc.json"; }
bpp_on=$(tso '.on.bytes_per_packet // 0 | floor')
bpp_off=$(tso '.off.bytes_per_packet // 0 | floor')
echo "tso: $bpp_on B per packet on, $bpp_off off"
check "TSO on: far above the MTU per packet in the link statistics" [ "$bpp_on" -gt 3000 ]
check "TSO off: at most about the MTU (1514 with the Ethernet header)" \
	[ "$bpp_off" -gt 0 -a "$bpp_off" -le 1600 ]
check "TSO's kernel features are listed" \
	[ "$(tso '.kernel_features | index("tx-tcp-segmentation") != null')" = true ]
check "$FIXED is unsupported, not failed" \
	[ "$(jq -r ".offloads[] | select(.name == \"$FIXED\") | .verdict" "$T/oc.json")" = unsupported ]
check "the JSON says everything was put back" [ "$(jq -r .restored "$T/oc.json")" = true ]
features >"$T/k.after"
check "ethtool -k after equals before" diff "$T/k.before" "$T/k.after"

# --- SIGINT during a run: still put back --------------------------------------------
"$ZCGEN" offload-check --lab --dest $DEST --offloads sg --duration 3s --repeat 1 >"$T/int.out" 2>&1 &
pid=$!
# the first run has it on, the second off: wait for that one
for _ in $(seq 100); do features | grep -q '^scatter-gather: off' && break; sleep 0.1; done
check "sg is off while its test runs" grep -q '^scatter-gather: off' <(features)
kill -INT "$pid"
wait "$pid"
rc=$?
check "interrupted: exit 1" [ "$rc" -eq 1 ]
check "interrupted: says so" grep -q "put back" "$T/int.out"
features >"$T/k.after2"
check "ethtool -k after SIGINT equals before" diff "$T/k.before" "$T/k.after2"

# --- expect: thresholds, on loopback -------------------------------------------------
start_sink tcp
cat >"$T/easy.yaml" <<EOF
target:
  host: 127.0.0.1
  port: $SINK_PORT
duration: 1s
expect:
  min_gbps_total: 1M
EOF
sed 's/min_gbps_total: 1M/min_gbps_total: 100000/' "$T/easy.yaml" >"$T/hard.yaml"

"$ZCGEN" run --profile "$T/easy.yaml" --quiet --json "$T/easy.json" >"$T/easy.out" 2>"$T/easy.err"
rc=$?
cat "$T/easy.err"
check "an easily met min_gbps_total exits 0" [ "$rc" -eq 0 ]
check "easy: expect.met is true" [ "$(jq -r .expect.met "$T/easy.json")" = true ]

"$ZCGEN" run --profile "$T/hard.yaml" --quiet --json "$T/hard.json" >"$T/hard.out" 2>"$T/hard.err"
rc=$?
cat "$T/hard.err"
check "an impossible min_gbps_total exits 3" [ "$rc" -eq 3 ]
check "the miss names the figure and what was measured" \
	grep -Eq '^zcgen: expect: min_gbps_total 100000 Gbit/s missed: measured [0-9.]+ Gbit/s$' "$T/hard.err"
check "hard: the JSON lists the miss" \
	[ "$(jq -r '.expect.met, .expect.missed[0].key' "$T/hard.json" | tr '\n' ' ')" = "false min_gbps_total " ]

# offloads_effective: a fixed feature cannot be effective
cat >"$T/eff.yaml" <<EOF
target:
  host: 198.18.0.2
expect:
  offloads_effective: [$FIXED]
EOF
"$ZCGEN" offload-check --lab --dest $DEST --profile "$T/eff.yaml" --offloads "$FIXED" --duration 1s \
	>"$T/eff.out" 2>"$T/eff.err"
rc=$?
cat "$T/eff.err"
check "offloads_effective missed: exit 3" [ "$rc" -eq 3 ]
check "offloads_effective missed: named" grep -q "offloads_effective $FIXED effective missed: measured unsupported" "$T/eff.err"

finish
