#!/usr/bin/env bash
# t_fleet_lab.sh - the shipped fleet profile through the built-in lab (docs/fleet.md): two
# ranks in the lab's sending namespace, each on its own CPU and source ports, both into the
# lab's one sink on one port; the fleet total is the sum of the ranks' and of the sink's counts;
# a rank with no route, or a NIC that refuses the nic: section, stops the fleet before any data; SIGINT to mpirun stops every rank,
# rank 0 writes what it has; a rank killed with SIGKILL hangs nothing and rank 0 still writes
# its report. After each, the sending veth's settings equal the snapshot taken before. The two
# ranks share the veth: rank 0 sets it up for both, each rank counts its own TX queue, and the
# fleet's report judges the host's per-queue split.
source "$(dirname "$0")/lib.sh"

for t in jq mpirun ethtool; do
	command -v $t >/dev/null || skip "needs $t"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for 2 ranks"
use_lab zcgq$$
"$ZCGEN" --profile "$ZCGEN_SRC/profiles/lab-fleet.yaml" --dry-run >"$T/probe.out" 2>&1
grep -q "built without MPI" "$T/probe.out" && skip "this zcgen was built without MPI: $(cat "$T/probe.out")"
# Sanitizer builds: Open MPI's own allocations are not zcgen's leaks (see t_fleet.sh).
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$ZCGEN_SRC/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export OMPI_MCA_mca_base_component_disable_dlclose=1

"$ZCGEN" lab up --queues 2 >"$T/lab.out" 2>&1 || { cat "$T/lab.out"; fail "lab up"; finish; exit; }
X="ip netns exec $P-tx"
MPI=(mpirun --allow-run-as-root --oversubscribe -np 2)
# Not what the profile's nic: section sets, so that putting it back has something to get
# right: TSO off (the profile turns it on) and XPS masks that xps: auto changes.
$X ethtool -K zcl-tx0 tso off >/dev/null || fail "ethtool -K zcl-tx0 tso off"
$X sh -c 'echo 3 > /sys/class/net/zcl-tx0/queues/tx-0/xps_cpus; echo 2 > /sys/class/net/zcl-tx0/queues/tx-1/xps_cpus' ||
	fail "cannot set the XPS masks"
capture() {
	$X ethtool -l zcl-tx0
	$X ethtool -k zcl-tx0
	$X sh -c 'for f in /sys/class/net/zcl-tx0/queues/tx-*/xps_cpus; do echo "$f $(cat "$f")"; done'
}
BEFORE=$(capture)
same_nic() { [ "$(capture)" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(capture) | sed 's/^/# /'; false; }; }

# 1. The shipped command (docs/fleet.md), 2 s.
"$ZCGEN" lab exec -- "${MPI[@]}" "$ZCGEN" --profile "$ZCGEN_SRC/profiles/lab-fleet.yaml" --duration 2s \
	--json "$T/fleet.json" >"$T/fleet.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/fleet.out"
J=$T/fleet.json
check "lab-fleet.yaml: exit 0" [ "$rc" -eq 0 ]
check "... two ranks on CPUs 0 and 1" [ "$(jq -c '[.hosts[] | [.rank, .queues[0].cpu]]' "$J")" = '[[0,0],[1,1]]' ]
check "... rank 0 applied the nic: section, rank 1 waited for it" \
	bash -c "grep -q '^\[rank 0\] nic zcl-tx0: ' '$T/fleet.out' && grep -q '^\[rank 1\] zcgen: note: the nic: section is applied by the lowest rank' '$T/fleet.out'"
tb=$(jq .total.bytes "$J")
check "... total.bytes ($tb) is the exact sum of the ranks'" [ "$(jq '[.hosts[].total.bytes] | add' "$J")" = "$tb" ]
check "... every rank's receiver (the one sink, one test each) counted what it sent" \
	jq -e '[.hosts[] | .receiver.source == "zcgen" and .receiver.bytes == .total.bytes and .total.bytes > 0] | all' "$J"
check "... and the fleet's receiver total is the fleet's total" jq -e '.receiver.bytes == .total.bytes' "$J"
check "... the start skew is reported" jq -e '.fleet.start_skew_s >= 0 and .fleet.start_skew_s < 0.05 * .total.duration_s' "$J"
# Ranks sharing a host share its device: rank 0 set it up for both ranks' queues (tx-0 for
# CPU 0, tx-1 for CPU 1), and each rank's per-queue NIC figures are its own queue's.
check "... rank 0 set XPS for both ranks: tx-0 to CPU 0, tx-1 to CPU 1 (as before the run)" grep -q "^\[rank 0\] nic zcl-tx0: xps tx-0: 0-1 -> cpu 0" "$T/fleet.out"
check "... rank 1 was told its queue is the device's tx-1" grep -q '^\[rank 1\] zcgen: note: .*its tx-1 to tx-1' "$T/fleet.out"
check "... each rank's ring is its own queue of the device (nic.tx_queue 0 and 1)" \
	[ "$(jq -c '[.hosts[] | .queues[0].nic.tx_queue]' "$J")" = '[0,1]' ]
# The device's counters: each rank reads its own queue and that queue's share of the whole
# device; together the two queues carried the fleet's bytes (plus headers), and no rank claims
# a steering figure of its own (the other rank's traffic is on the same device).
check "... the two ranks' queues carried the fleet's bytes (shares add up to the device)" \
	jq -e '([.hosts[].queues[0].nic.tx_bytes] | add) as $d | $d >= .total.bytes and $d < 1.1 * .total.bytes and
		([.hosts[].queues[0].nic.share] | add) > 0.999' "$J"
check "... no rank reports a steering figure of its own on the shared device" \
	jq -e '[.hosts[].total.steering] == [null, null]' "$J"
# The host's figure: recomputed here from the ranks' raw counters and bytes, 1 - half the
# distance between the device's split and the rings' split.
check "... the fleet's report judges the host's split (host_steering, recomputed from hosts[])" \
	jq -e '(.hosts | map(.queues[0])) as $q | ($q | map(.nic.tx_bytes) | add) as $nd |
		($q | map(.bytes) | add) as $rb |
		(1 - ([$q[] | ((.nic.tx_bytes / $nd) - (.bytes / $rb)) | fabs] | add) / 2) as $s |
		(.host_steering | length) == 1 and .host_steering[0].interface == "zcl-tx0" and
		.host_steering[0].ranks == [0, 1] and .host_steering[0].host == .hosts[0].host and
		((.host_steering[0].steering - $s) | fabs) < 0.001' "$J"
check "... and prints it" grep -q "^steering on $(jq -r '.hosts[0].host' "$J") zcl-tx0: [01][.][0-9]* .*tx-0 .* for rank 0's .*, tx-1 .* for rank 1's " "$T/fleet.out"
check "... the nic is as before" same_nic

# 2. A rank with no route: the fleet stops before any data, rank 0 names the rank, its host
# and the reason; the NIC rank 0 had set up is put back.
sed 's/^  template:.*$/  ranks: [{cpus: 0}, {cpus: 1, dest: "203.0.113.1:5201"}]/; /^    cpus: "{rank}"/d; /^    source-ports:/d' \
	"$ZCGEN_SRC/profiles/lab-fleet.yaml" >"$T/noroute.yaml"
$X "${MPI[@]}" "$ZCGEN" --profile "$T/noroute.yaml" --duration 2s --json "$T/noroute.json" >"$T/noroute.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || sed 's/^/# /' "$T/noroute.out"
check "a rank with no route: exit 1" [ "$rc" -eq 1 ]
check "... rank 0 names rank 1, its host and the reason" \
	grep -q "^zcgen: fleet: rank 1 ($(hostname)) could not start: .*[Nn]etwork is unreachable" "$T/noroute.out"
check "... before any data: no report" [ ! -e "$T/noroute.json" ]
check "... the nic is as before" same_nic

# 3. The NIC refused (more TX channels than the veth has): rank 0, which applies the nic:
# section, cannot start; the fleet stops before any data and rank 0 names itself and why.
sed 's/^  interface: zcl-tx0.*$/  interface: zcl-tx0\n  channels: {tx: 64}/' "$ZCGEN_SRC/profiles/lab-fleet.yaml" >"$T/nicbad.yaml"
$X "${MPI[@]}" "$ZCGEN" --profile "$T/nicbad.yaml" --duration 2s --json "$T/nicbad.json" >"$T/nicbad.out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || sed 's/^/# /' "$T/nicbad.out"
check "the NIC refused: exit 2, as a single run's (docs/cli.md)" [ "$rc" -eq 2 ]
check "... rank 0 names itself, its host and the NIC's reason" \
	grep -q "^zcgen: fleet: rank 0 ($(hostname)) could not start: nic zcl-tx0" "$T/nicbad.out"
check "... before any data: no report" [ ! -e "$T/nicbad.json" ]
check "... the nic is as before" same_nic

# rank_pid RANK: the pid of that rank among mpirun's children
rank_pid() {
	local p
	for p in $(pgrep -P "$MP"); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo "$p"; return; }
	done
}
# start_long NAME: a 30 s fleet run in the background; returns once both ranks send (each
# has printed an interval line: the readiness signal, not a guessed sleep).
start_long() {
	$X "${MPI[@]}" "$ZCGEN" --profile "$ZCGEN_SRC/profiles/lab-fleet.yaml" --duration 30s --interval 200ms \
		--live --json "$T/$1.json" >"$T/$1.out" 2>&1 &
	MP=$!
	for _ in $(seq 400); do
		[ "$(grep -c '^\[rank [01]\] \[' "$T/$1.out")" -ge 2 ] && grep -q '^\[rank 1\] \[' "$T/$1.out" &&
			grep -q '^\[rank 0\] \[' "$T/$1.out" && break
		kill -0 "$MP" 2>/dev/null || break
		sleep 0.05
	done
	R0=$(rank_pid 0)
	R1=$(rank_pid 1)
}
# gone PID...: those processes have ended (a zombie not reaped yet by its new parent counts)
gone() {
	local i p st left
	for ((i = 0; i < 100; i++)); do
		left=
		for p in "$@"; do
			st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
			[ -n "$st" ] && [ "$st" != Z ] && left=1
		done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	false
}
# ends_within SECONDS: mpirun has exited by then (else it is killed: a hang)
ends_within() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		kill -0 "$MP" 2>/dev/null || { wait "$MP"; MRC=$?; return 0; }
		sleep 0.05
	done
	kill -9 "$MP" 2>/dev/null
	wait "$MP"
	false
}

# 4. SIGINT to mpirun: every rank stops (mpirun forwards SIGTERM), rank 0 writes the fleet's
# report of what was sent until then, and the NIC is put back.
start_long int
check "sigint: both ranks were sending (pids $R0, $R1)" [ -n "$R0" -a -n "$R1" ]
kill -INT "$MP"
check "sigint: mpirun ends within 20 s" ends_within 20
echo "# sigint: mpirun exit $MRC"
check "sigint: every rank stopped" gone "$R0" "$R1"
check "sigint: both ranks say they were stopped by the signal" \
	[ "$(grep -c '^\[rank [01]\] zcgen: stopped by SIG' "$T/int.out")" = 2 ]
check "sigint: rank 0 put its nic back" grep -q '^\[rank 0\] zcgen: stopped by SIG.*; nic zcl-tx0 put back' "$T/int.out"
check "sigint: rank 0 wrote the fleet's report, interrupted, both ranks in it" \
	jq -e '.total.interrupted == true and (.hosts | length) == 2 and .total.bytes == ([.hosts[].total.bytes] | add) and .total.bytes > 0' "$T/int.json"
check "sigint: the nic is as before" same_nic
[ -e "$T/int.json" ] || sed 's/^/# /' "$T/int.out"

# 5. A rank killed (SIGKILL) during the run: Open MPI ends the job, nothing hangs, rank 0
# writes its own report (the other rank never answers) and puts the NIC back.
start_long kill
check "kill -9: both ranks were sending (pids $R0, $R1)" [ -n "$R0" -a -n "$R1" ]
kill -9 "$R1"
check "kill -9: mpirun ends within 20 s" ends_within 20
echo "# kill -9: mpirun exit $MRC"
check "kill -9: rank 0 ended too" gone "$R0"
check "kill -9: mpirun exits non-zero" [ "${MRC:-0}" -ne 0 ]
check "kill -9: rank 0 says the report is its own" grep -q "^zcgen: fleet: the ranks did not all answer .*the report is rank 0's own" "$T/kill.out"
check "kill -9: rank 0 put its nic back" grep -q '^\[rank 0\] zcgen: stopped by SIG.*; nic zcl-tx0 put back' "$T/kill.out"
check "kill -9: rank 0's report was written" jq -e '.total.interrupted == true and .total.bytes > 0' "$T/kill.json"
check "kill -9: the nic is as before" same_nic
[ -e "$T/kill.json" ] || sed 's/^/# /' "$T/kill.out"

"$ZCGEN" lab down >/dev/null 2>&1
check "the lab is gone" bash -c "! ip netns list | grep -q '^$P-'"
finish
