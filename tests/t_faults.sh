#!/usr/bin/env bash
# t_faults.sh - the fault matrix of a run with a nic: section (docs/cli.md, "Exit codes";
# docs/nic.md, "When a run is stopped"): on a 4-queue veth in this test's own namespaces,
# a normal end, SIGINT, SIGTERM, SIGHUP, a signal during the NIC set-up, kill -9 then
# `nic restore` (also of a state file killed half way through its write), a second zcgen
# on the same device, a stale state file (of a namespace that is gone, another boot, another
# ifindex: set aside, not applied), `nic restore` without root, and --lab with a Ctrl-C during lab up
# (run, sweep, ndr, offload-check, compare) and a SIGHUP during the run. After each: ethtool -k/-l, the XPS masks, the MTU and the
# qdisc equal the snapshot taken before; the exit code and message are the documented
# ones; the JSON report is written when traffic had started. Each case is a run of 1-2 s.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
for t in jq ethtool tc ip setsid setpriv; do
	command -v $t >/dev/null || skip "needs $t"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for 2 queues"

NTX=zcgf$$-tx
NRX=zcgf$$-rx
X="ip netns exec $NTX"
STATE_DIR=/run/zcgen/nic
INO=
RUN_PID=
SINKP=
faults_clean() {
	[ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null
	[ -n "$SINKP" ] && kill "$SINKP" 2>/dev/null
	ip netns del "$NTX" 2>/dev/null
	ip netns del "$NRX" 2>/dev/null
	# Only this namespace's files: the inode names them.
	[ -n "$INO" ] && rm -f "$STATE_DIR/net-$INO-v0".*
	if [ -n "${P:-}" ]; then labclean; else cleanup; fi
}
trap faults_clean EXIT

ip netns add "$NTX" 2>/dev/null || skip "ip netns add is not permitted here"
ip netns add "$NRX" || skip "ip netns add is not permitted here"
INO=$($X stat -L -c %i /proc/self/ns/net)
STATE=$STATE_DIR/net-$INO-v0.json
LOCK=$STATE_DIR/net-$INO-v0.lock
ip -n "$NTX" link add v0 numtxqueues 4 numrxqueues 4 type veth \
	peer name v1 numtxqueues 4 numrxqueues 4 netns "$NRX" || skip "cannot create a multi-queue veth"
ip -n "$NTX" addr add 10.231.0.1/24 dev v0 && ip -n "$NRX" addr add 10.231.0.2/24 dev v1 &&
	ip -n "$NTX" link set lo up && ip -n "$NRX" link set lo up &&
	ip -n "$NTX" link set v0 up && ip -n "$NRX" link set v1 up || skip "cannot set up the veth"

# Not the defaults, so that a restore has something to get right: GRO on, an XPS mask on
# tx-3 (a queue that goes with the run's channel change), and an MTU the run changes.
$X ethtool -K v0 gro on >/dev/null || fail "ethtool -K v0 gro on"
$X sh -c 'echo 2 > /sys/class/net/v0/queues/tx-3/xps_cpus' || fail "cannot set xps of tx-3"
ip -n "$NTX" link set v0 mtu 1500

capture() {
	$X ethtool -l v0
	$X ethtool -k v0
	$X sh -c 'for f in /sys/class/net/v0/queues/tx-*/xps_cpus; do echo "$f $(cat "$f")"; done'
	ip -n "$NTX" -o link show v0 | grep -o 'mtu [0-9]*'
	$X tc qdisc show dev v0
}
BEFORE=$(capture)

ip netns exec "$NRX" "$ZCGEN" sink --listen 10.231.0.2:5201 --protocol tcp --quiet \
	>"$T/sink.out" 2>&1 &
SINKP=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/sink.out" 2>/dev/null && break; sleep 0.05; done
grep -q '^listening on' "$T/sink.out" || { cat "$T/sink.out"; fail "the sink did not start"; finish; exit; }

# 2 queues (channels tx 4 -> 2), XPS, an mq root for counters, tso off, MTU 1400: all put back.
# A modest rate: the machine is shared, and only the NIC's state matters here.
cat >"$T/p.yaml" <<EOF
target: { host: 10.231.0.2, port: 5201, server: none }
protocol: tcp
queues: 2
cpus: 0-1
size: 16K
mode: copy
rate: 200M
duration: 1s
interval: 100ms
nic:
  interface: v0
  offloads: { tso: off }
  mtu: 1400
  xps: auto
  irq_affinity: auto
EOF

# same_as_before CASE: the device as before, no state file, no unfinished one, no lock file.
same_as_before() {
	local now
	now=$(capture)
	check "$1: ethtool -k/-l, xps, mtu and qdisc as before" [ "$now" = "$BEFORE" ]
	[ "$now" = "$BEFORE" ] || diff <(echo "$BEFORE") <(echo "$now")
	check "$1: no state, .tmp or lock file left" \
		bash -c "! ls '$STATE_DIR'/net-$INO-v0.* >/dev/null 2>&1"
}

# start_run NAME [ENV...]: a long run in the background, its pid in RUN_PID
start_run() {
	local name=$1; shift
	rm -f "$T/$name.json"
	env "$@" ip netns exec "$NTX" "$ZCGEN" --profile "$T/p.yaml" --duration 20 --live \
		--json "$T/$name.json" >"$T/$name.out" 2>&1 &
	RUN_PID=$!
	# A signal before the exec would hit the forked shell (and run its EXIT trap): wait
	# until env and ip netns exec have become zcgen.
	for _ in $(seq 200); do
		[ "$(basename "$(readlink "/proc/$RUN_PID/exe" 2>/dev/null)")" = zcgen ] && break
		sleep 0.01
	done
}
# wait_traffic NAME: until the first interval line (the NIC is set up, data flows)
wait_traffic() {
	for _ in $(seq 200); do grep -q '^\[' "$T/$1.out" 2>/dev/null && return 0; sleep 0.05; done
	cat "$T/$1.out"
	return 1
}
# end_run: wait for RUN_PID, its status in rc
end_run() {
	wait "$RUN_PID" 2>/dev/null
	rc=$?
	RUN_PID=
}

# --- a normal end
ip netns exec "$NTX" "$ZCGEN" --profile "$T/p.yaml" --json "$T/normal.json" >"$T/normal.out" 2>&1
rc=$?
check "normal: exit 0 (rc $rc)" [ "$rc" -eq 0 ]
check "normal: the NIC was changed (channels, mtu)" \
	grep -q 'nic v0: channels: tx 4 -> 2' "$T/normal.out"
check "normal: a report, not interrupted" \
	[ "$(jq '.total.interrupted == false and .total.bytes > 0' "$T/normal.json")" = true ]
same_as_before normal

# --- SIGINT, SIGTERM, SIGHUP while data flows: 128+N, a report of what was measured
for sig in INT TERM HUP; do
	start_run "sig$sig"
	wait_traffic "sig$sig" || fail "SIG$sig: no traffic"
	kill -"$sig" "$RUN_PID"
	end_run
	want=$((128 + $(kill -l "$sig")))
	check "SIG$sig: exit $want (rc $rc)" [ "$rc" -eq "$want" ]
	check "SIG$sig: says so, and that v0 is put back" \
		grep -q "^zcgen: stopped by SIG$sig; nic v0 put back" "$T/sig$sig.out"
	check "SIG$sig: the JSON report is written, interrupted, with the bytes sent" \
		[ "$(jq '.total.interrupted == true and .total.bytes > 0' "$T/sig$sig.json")" = true ]
	check "SIG$sig: the table is printed" grep -q '^total' "$T/sig$sig.out"
	same_as_before "SIG$sig"
done

# --- a signal during the NIC set-up: held until the set-up is done, then all put back.
# ZCGEN_TEST_APPLY_DELAY_MS (nic/apply.c) sleeps after the state file is written and after
# each step, so that a signal sent once the state file exists lands inside the set-up.
check "setup: no state file before it" [ ! -e "$STATE" ]
start_run setup ZCGEN_TEST_APPLY_DELAY_MS=300
for _ in $(seq 200); do [ -e "$STATE" ] && break; sleep 0.02; done
check "setup: the state file appears (the set-up has begun)" [ -e "$STATE" ]
kill -TERM "$RUN_PID"
end_run
check "setup: exit 143 (rc $rc)" [ "$rc" -eq 143 ]
check "setup: says the signal came during the set-up, and nothing was sent" \
	grep -q '^zcgen: SIGTERM arrived while nic v0 was being set up: .*nothing was sent' "$T/setup.out"
check "setup: the set-up was finished before it was undone" grep -q '^nic v0: xps tx-1' "$T/setup.out"
check "setup: no traffic, so no report" [ ! -e "$T/setup.json" ]
check "setup: stopped message" grep -q '^zcgen: stopped by SIGTERM; nic v0 put back' "$T/setup.out"
same_as_before setup

# --- kill -9 while data flows: the state file stays, `nic restore` puts it all back
start_run kill9
wait_traffic kill9 || fail "kill -9: no traffic"
kill -9 "$RUN_PID"
end_run
check "kill -9: the state file is left" [ -e "$STATE" ]
check "kill -9: the device is still changed" [ "$(capture)" != "$BEFORE" ]
out=$($X "$ZCGEN" nic restore v0 2>&1); rc=$?
check "kill -9, restore: exit 0, restored ($out)" [ "$rc" -eq 0 -a "$out" = "v0: restored" ]
same_as_before "kill -9, restore"

# --- kill -9 between the state file's sync and its rename: only STATE.tmp holds the snapshot.
# (made from a real one: the state file of a killed run, put back to the name it is written
# under; nic/state.c writes it there, syncs it, then renames it)
start_run tmp
wait_traffic tmp || fail "tmp: no traffic"
kill -9 "$RUN_PID"
end_run
mv "$STATE" "$STATE.tmp"
out=$($X "$ZCGEN" nic restore v0 2>&1); rc=$?
check "unfinished state file: exit 0 (rc $rc)" [ "$rc" -eq 0 ]
check "unfinished state file: named, and restored from" \
	bash -c "grep -q 'v0.json.tmp, written whole by a zcgen killed' <<<'$out' && grep -q '^v0: restored' <<<'$out'"
same_as_before "unfinished state file"

# --- a half-written STATE.tmp (killed inside the write: nothing was changed yet) and a
# stale lock file of a pid that is gone: removed, nothing to restore
head -c 100 <<<"{ \"version\": 1, \"device\": \"v0\", \"channels\": { \"rx\": 4," >"$STATE.tmp"
sh -c 'echo $$' >"$LOCK"
out=$($X "$ZCGEN" nic restore v0 2>&1); rc=$?
check "half-written state file: exit 0, removed, nothing to restore ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'was half-written by a zcgen killed before it changed anything: removed' <<<'$out' && grep -q 'nothing to restore' <<<'$out'"
same_as_before "half-written state file"

# --- a second zcgen on the same device: refused, exit 2, the first run's NIC untouched
start_run first
wait_traffic first || fail "second: the first run did not start"
MID=$(capture)
ip netns exec "$NTX" "$ZCGEN" --profile "$T/p.yaml" --json "$T/second.json" >"$T/second.out" 2>&1
rc2=$?
check "second: exit 2 (rc $rc2)" [ "$rc2" -eq 2 ]
check "second: names the first run's pid, and that nothing changed" \
	grep -q "^zcgen: nic v0 is being changed by pid [0-9]* (zcgen): one process at a time changes a device; nothing was changed or sent" "$T/second.out"
check "second: the device is as the first run set it" [ "$(capture)" = "$MID" ]
check "second: the first run's state file is still there" [ -e "$STATE" ]
check "second: no report" [ ! -e "$T/second.json" ]
kill -INT "$RUN_PID"
end_run
check "second: the first run ends as usual (rc $rc)" [ "$rc" -eq 130 ]
same_as_before second

# --- a stale state file: one left in a network namespace that is gone, whose inode the kernel
# gave to this one, for a device of the same name (a lab's zcl-tx0 after a killed run); or
# from another boot; or, in a file from before the namespace cookie, of another ifindex.
# Made from a real one (a pin's, in this test's own state directory, ZCGEN_NIC_STATE_DIR)
# with what would hurt if it were applied: channels tx 1, GRO off, MTU 1280, a gone pid.
SD=$T/state
SF=$SD/net-$INO-v0.json
XS="env ZCGEN_NIC_STATE_DIR=$SD $X"
$XS "$ZCGEN" nic pin v0 --queues 2 --cpus 0-1 >"$T/stalepin.out" 2>&1 || fail "stale: nic pin v0: $(cat "$T/stalepin.out")"
cp "$SF" "$T/real.json"
$XS "$ZCGEN" nic restore v0 >/dev/null 2>&1 || fail "stale: nic restore after the pin"
check "stale: the pin's state file has the namespace's cookie and the boot id" \
	[ "$(jq 'has("netns_cookie") and (.boot_id | length) == 36' "$T/real.json")" = true ]
GONE=$(sh -c 'echo $$')
# fabricate JQ_FILTER [NAME]: the real state file, harmful, changed by JQ_FILTER, as NAME
fabricate() {
	jq --argjson pid "$GONE" --argjson t "$(($(date +%s) - 3 * 3600))" \
		'.pid = $pid | .time = $t | .channels.tx = 1 | .features."rx-gro" = false | .mtu = 1280 | '"$1" \
		"$T/real.json" >"${2:-$SF}"
	cp "${2:-$SF}" "$T/fabricated.json"
}
# stale_after CASE: the device as before; no state, .tmp or lock file; the fabricated file
# set aside whole as STATE.stale (then removed for the next case)
stale_after() {
	local now
	now=$(capture)
	check "$1: ethtool -k/-l, xps, mtu and qdisc as before" [ "$now" = "$BEFORE" ]
	[ "$now" = "$BEFORE" ] || diff <(echo "$BEFORE") <(echo "$now")
	check "$1: no state, .tmp or lock file left" \
		bash -c "[ ! -e '$SF' ] && [ ! -e '$SF.tmp' ] && [ ! -e '$SD/net-$INO-v0.lock' ]"
	check "$1: the stale file is set aside as it was" cmp -s "$SF.stale" "$T/fabricated.json"
	rm -f "$SF.stale"
}
if [ "$(jq 'has("netns_cookie")' "$T/real.json")" = true ]; then
	# a run: the file is set aside with a note, the run saves and restores its own state
	fabricate '.netns_cookie += 1000'
	$XS "$ZCGEN" --profile "$T/p.yaml" --json "$T/stalerun.json" >"$T/stalerun.out" 2>&1
	rc=$?
	check "stale cookie, run: exit 0 (rc $rc)" [ "$rc" -eq 0 ]
	check "stale cookie, run: notes the file set aside, its pid, time and why" \
		grep -q "^nic v0: note: a stale state file (pid $GONE, saved [-0-9]* [:0-9]* UTC) is set aside as $SF.stale, not used: it was saved in another network namespace, gone since, whose inode the kernel gave to this one (netns cookie [0-9]* then, [0-9]* now); v0's state now is saved instead" "$T/stalerun.out"
	check "stale cookie, run: the NIC was changed and put back" grep -q 'nic v0: channels: tx 4 -> 2' "$T/stalerun.out"
	stale_after "stale cookie, run"

	# nic restore: refused, set aside, exit 2
	fabricate '.netns_cookie += 1000'
	out=$($XS "$ZCGEN" nic restore v0 2>&1); rc=$?
	check "stale cookie, restore: exit 2 (rc $rc)" [ "$rc" -eq 2 ]
	check "stale cookie, restore: refused, says why and where it went ($out)" \
		bash -c "grep -q '^zcgen nic restore: $SF (pid $GONE, saved .*) is stale, not applied: it was saved in another network namespace, gone since, .*; set aside as $SF.stale\$' <<<'$out' && grep -q '^zcgen nic restore: nothing restored; v0 is left as it is' <<<'$out' && ! grep -q restored\$ <<<'$out'"
	stale_after "stale cookie, restore"

	# the same in a whole STATE.tmp (a kill -9 between its sync and its rename)
	fabricate '.netns_cookie += 1000' "$SF.tmp"
	out=$($XS "$ZCGEN" nic restore v0 2>&1); rc=$?
	check "stale cookie in .tmp, restore: exit 2, refused ($out)" \
		bash -c "[ $rc -eq 2 ] && grep -q '$SF.tmp (pid $GONE, saved .*) is stale, not applied' <<<'$out' && ! grep -q 'holds the state' <<<'$out'"
	stale_after "stale cookie in .tmp, restore"
else
	echo "note: no SO_NETNS_COOKIE on this kernel (before 5.14): the cookie cases are left out"
fi

fabricate '.boot_id = "00000000-0000-4000-8000-000000000000"'
out=$($XS "$ZCGEN" nic restore v0 2>&1); rc=$?
check "stale boot id, restore: exit 2, another boot named ($out)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'is stale, not applied: it was saved in another boot of this machine (boot id 00000000-0000-4000-8000-000000000000, now ' <<<'$out'"
stale_after "stale boot id, restore"

# a file from before the cookie and the boot id: judged by its ifindex
IFX=$(jq .ifindex "$T/real.json")
fabricate "del(.netns_cookie, .boot_id) | .ifindex = $((IFX + 100))"
out=$($XS "$ZCGEN" nic restore v0 2>&1); rc=$?
check "old file, another ifindex, restore: exit 2, set aside ($out)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'is stale, not applied: v0 has ifindex $IFX now, $((IFX + 100)) when the state was saved: it is another device of that name' <<<'$out'"
stale_after "old file, another ifindex, restore"

# ... and with its ifindex, kept as before: a run leaves it, notes it; restore applies it
jq 'del(.netns_cookie, .boot_id)' "$T/real.json" >"$SF"
$XS "$ZCGEN" --profile "$T/p.yaml" --json "$T/oldrun.json" >"$T/oldrun.out" 2>&1
rc=$?
check "old file, its ifindex, run: exit 0, the file kept and said so (rc $rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q '^nic v0: note: a state file from pid [0-9]* is kept' '$T/oldrun.out' && [ -e '$SF' ] && [ ! -e '$SF.stale' ]"
out=$($XS "$ZCGEN" nic restore v0 2>&1); rc=$?
check "old file, its ifindex, restore: exit 0, restored ($out)" [ "$rc" -eq 0 -a "$out" = "v0: restored" ]
check "old file, its ifindex: the device as before" [ "$(capture)" = "$BEFORE" ]
check "old file, its ifindex: nothing left" bash -c "! ls '$SD'/net-$INO-v0.* >/dev/null 2>&1"

# --- nic restore without root: says root is needed, not "Permission denied"
BIN=$(mktemp -d /tmp/zcgen-faults-bin.XXXXXX)
chmod 755 "$BIN"
cp "$ZCGEN" "$BIN/zcgen" && chmod 755 "$BIN/zcgen"
out=$($X setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/zcgen" nic restore v0 2>&1); rc=$?
rm -rf "$BIN"
check "non-root restore: exit 2 (rc $rc)" [ "$rc" -eq 2 ]
check "non-root restore: says root (CAP_NET_ADMIN) is needed ($out)" \
	bash -c "grep -q 'needs root (CAP_NET_ADMIN)' <<<'$out' && ! grep -qi 'permission denied' <<<'$out'"

# --- --lab: a Ctrl-C and a hang-up during lab up (to the whole process group, as a terminal
# sends them; with the default actions a terminal's job has, where a background job of a
# script would have SIGINT ignored), and a SIGHUP during the run (to zcgen alone: it passes
# it on to the run in the lab). ZCGEN_TEST_LAB_UP_DELAY_MS (nic/lab.c) sleeps once the new
# lab's veth has its addresses: a signal sent then lands inside lab up, every time.
use_lab "zcgl$$" # not zcgf: the lab's namespaces are $P-tx and $P-rx
trap faults_clean EXIT # use_lab's trap, and this test's namespaces
lab_gone() { ! ip netns list | grep -q "^$P-"; }
# in_lab_up: until the lab being built has its receiving address (then the delay begins)
in_lab_up() {
	for _ in $(seq 1000); do
		ip -n "$P-rx" addr show dev zcl-rx0 2>/dev/null | grep -q 198.18.0.2 && return 0
		sleep 0.01
	done
	return 1
}
for sig in INT HUP; do
	env --default-signal=INT,HUP ZCGEN_TEST_LAB_UP_DELAY_MS=1500 setsid "$ZCGEN" \
		--profile "$ZCGEN_SRC/profiles/lab-tcp.yaml" \
		--lab --duration 2 --omit 0 --json "$T/lab$sig.json" >"$T/lab$sig.out" 2>&1 &
	RUN_PID=$!
	in_lab_up || echo "note: the lab's receiving address did not appear"
	kill -"$sig" -- -"$RUN_PID"
	end_run
	want=$((128 + $(kill -l "$sig")))
	check "lab, SIG$sig during lab up: exit $want (rc $rc)" [ "$rc" -eq "$want" ]
	check "lab, SIG$sig during lab up: no lab left" lab_gone
	check "lab, SIG$sig during lab up: says the lab is taken down and nothing was sent" \
		grep -q "^zcgen: stopped by SIG$sig during lab up: the lab is taken down; nothing was sent" \
		"$T/lab$sig.out"
	check "lab, SIG$sig during lab up: no report" [ ! -e "$T/lab$sig.json" ]
	lab_gone || "$ZCGEN" lab down
done

# --- every other command with --lab: its stop handling is in place before lab up, so a
# Ctrl-C during lab up (to the group) leaves no lab, runs nothing and exits 1 (their
# interrupted status)
lab_cmds=(
	"sweep|sweep --lab --sizes 1200 --modes copy --duration 300ms"
	"ndr|ndr --lab --mode copy --frame-sizes 512 --trial-duration 300ms"
	"offload-check|offload-check --lab --offloads sg --duration 1s --repeat 1"
)
command -v iperf3 >/dev/null &&
	lab_cmds+=("compare|compare --profile $ZCGEN_SRC/profiles/lab-tcp.yaml --lab --duration 1 --repeat 1")
for c in "${lab_cmds[@]}"; do
	name=${c%%|*}
	# shellcheck disable=SC2086 # the command line is split on purpose
	env --default-signal=INT,HUP ZCGEN_TEST_LAB_UP_DELAY_MS=1500 setsid "$ZCGEN" ${c#*|} \
		>"$T/lab-$name.out" 2>&1 &
	RUN_PID=$!
	in_lab_up || echo "note: $name: the lab's receiving address did not appear"
	kill -INT -- -"$RUN_PID"
	end_run
	check "$name --lab, SIGINT during lab up: exit 1 (rc $rc)" [ "$rc" -eq 1 ]
	check "$name --lab, SIGINT during lab up: no lab left" lab_gone
	check "$name --lab, SIGINT during lab up: says so, nothing was run" \
		grep -q "stopped by SIGINT during lab up: the lab is taken down; nothing was" \
		"$T/lab-$name.out"
	lab_gone || { cat "$T/lab-$name.out"; "$ZCGEN" lab down; }
done

"$ZCGEN" --profile "$ZCGEN_SRC/profiles/lab-tcp.yaml" --lab --duration 20 --omit 0 --interval 100ms \
	--live --json "$T/labhup.json" >"$T/labhup.out" 2>&1 &
RUN_PID=$!
wait_traffic labhup || fail "lab, SIGHUP: no traffic"
kill -HUP "$RUN_PID"
end_run
check "lab, SIGHUP during the run: exit 129 (rc $rc)" [ "$rc" -eq 129 ]
check "lab, SIGHUP: the run's report is written, interrupted" \
	[ "$(jq '.total.interrupted == true and .total.bytes > 0' "$T/labhup.json")" = true ]
check "lab, SIGHUP: the lab's NIC put back, said so" grep -q '^zcgen: stopped by SIGHUP; nic zcl-tx0 put back' "$T/labhup.out"
check "lab, SIGHUP: no lab left" lab_gone

finish
