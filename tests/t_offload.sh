#!/bin/bash
# t_offload.sh - offload-check on the veth lab (TSO seen in the link statistics, every
# payload byte checked by its own verifying sink, a fixed feature reported unsupported,
# the features put back, also after SIGINT, its sinks stopped) and expect: thresholds
# (exit 0 when met, 3 when missed; max_loss_percent from a zcgen server's counts).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, ethtool -K)"
command -v ethtool >/dev/null || skip "ethtool is missing"
command -v jq >/dev/null || skip "jq is missing"

export ZCGEN_LAB_PREFIX=zcgo$$
NS=$ZCGEN_LAB_PREFIX-tx
RXNS=$ZCGEN_LAB_PREFIX-rx
DEV=zcl-tx0
trap '"$ZCGEN" lab down >/dev/null 2>&1; cleanup' EXIT

# The lab as users get it, its sink included (the receiver of --dest below);
# offload-check --lab without --dest starts a verifying sink of its own per run.
"$ZCGEN" lab up --queues 1 >"$T/up.out" 2>&1 || { cat "$T/up.out"; skip "the lab cannot be built here"; }
DEST=198.18.0.2:5201
rxpids() { ip netns pids "$RXNS" | sort | tr '\n' ' '; }
RXPIDS=$(rxpids)
features() { ip netns exec "$NS" ethtool -k "$DEV"; }
features >"$T/k.before" || skip "ethtool -k does not work in the lab"
# a kernel feature veth fixes off ("tx-checksum-ipv4: off [fixed]")
FIXED=$(awk '/^\t.*: off \[fixed\]/ { sub(":", "", $1); print $1; exit }' "$T/k.before")
[ -n "$FIXED" ] || skip "veth has no fixed feature on this kernel"

# --- TSO on vs off with the payload checked, and the fixed one --------------------------
"$ZCGEN" offload-check --lab --offloads "tso,$FIXED" --duration 1s --repeat 1 \
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
check "the receiver checked the data" [ "$(jq -r .integrity_checked "$T/oc.json")" = true ]
for st in on off; do
	check "TSO $st: the receiver's corrupt_bytes is in the JSON and 0" \
		[ "$(tso ".$st.receiver.corrupt_bytes")" = 0 ]
	check "TSO $st: the receiver got data from every run" \
		[ "$(tso ".$st.receiver.checked and .$st.receiver.bytes > 0")" = true ]
done
check "TSO's verdict is not broken" [ "$(tso .verdict)" != broken ]
check "the evidence says what the receiver found" grep -q "no corrupt byte" <(tso .evidence)
check "offload-check's sinks are gone from the receiving namespace" [ "$(rxpids)" = "$RXPIDS" ]
check "$FIXED is unsupported, not failed" \
	[ "$(jq -r ".offloads[] | select(.name == \"$FIXED\") | .verdict" "$T/oc.json")" = unsupported ]
check "the JSON says everything was put back" [ "$(jq -r .restored "$T/oc.json")" = true ]
features >"$T/k.after"
check "ethtool -k after equals before" diff "$T/k.before" "$T/k.after"

# --- SIGINT during a run: still put back, its sink stopped --------------------------
"$ZCGEN" offload-check --lab --offloads sg --duration 3s --repeat 1 >"$T/int.out" 2>&1 &
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
check "interrupted: its sink is gone from the receiving namespace" [ "$(rxpids)" = "$RXPIDS" ]

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
stop_sink

# max_loss_percent: measured from a zcgen server's counts (TCP: every byte arrived, 0 %)
start_sink tcp --verify
cat >"$T/loss.yaml" <<EOF
target:
  host: 127.0.0.1
  port: $SINK_PORT
  server: zcgen
duration: 1s
expect:
  max_loss_percent: 50
EOF
"$ZCGEN" run --profile "$T/loss.yaml" --quiet --json "$T/loss.json" >"$T/loss.out" 2>"$T/loss.err"
rc=$?
cat "$T/loss.err"
check "max_loss_percent 50 with server zcgen (TCP, loss 0): exit 0" [ "$rc" -eq 0 ]
check "loss: expect.met is true, one threshold checked" \
	[ "$(jq -r '.expect.met, .expect.checked' "$T/loss.json" | tr '\n' ' ')" = "true 1 " ]
# the same threshold without a server has no figure: missed as not measured
sed 's/server: zcgen/server: none/' "$T/loss.yaml" >"$T/loss0.yaml"
"$ZCGEN" run --profile "$T/loss0.yaml" --quiet >/dev/null 2>"$T/loss0.err"
rc=$?
check "max_loss_percent with server none: exit 3, not measured" [ "$rc" -eq 3 ]
check "server none: says not measured" grep -q "max_loss_percent 50 % missed: measured not measured" "$T/loss0.err"
stop_sink

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
check "--dest: says that integrity was not checked" grep -q "not checked" "$T/eff.out"

finish
