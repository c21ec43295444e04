#!/bin/bash
# t_nic.sh - `zcgen nic show|pin|restore` on a 4-queue veth in a throwaway namespace:
# show agrees with ethtool, pin sets channels and XPS and leaves a 0600 state file,
# restore brings back exactly the state before, refusals exit 2 and change nothing,
# the lock keeps a second process out.
set -u

ZCGEN=${ZCGEN:?set ZCGEN to the zcgen binary}
[ -x "$ZCGEN" ] || { echo "FAIL: $ZCGEN is not an executable (build first)"; exit 1; }
NS=zcgt-$$-n
X="ip netns exec $NS"
STATE_DIR=/run/zcgen/nic
fails=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
for t in jq ethtool tc flock stat; do
	command -v $t >/dev/null || skip "needs $t"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs to pin 2 queues"

INO=
cleanup() {
	[ -n "${HOLDER:-}" ] && kill -9 "$HOLDER" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	# Only this namespace's files: the inode names them.
	[ -n "$INO" ] && rm -f "$STATE_DIR/net-$INO-v0.json" "$STATE_DIR/net-$INO-v0.lock"
}
trap cleanup EXIT

ip netns add "$NS" 2>/dev/null || skip "ip netns add is not permitted here"
INO=$($X stat -L -c %i /proc/self/ns/net)
STATE=$STATE_DIR/net-$INO-v0.json
LOCK=$STATE_DIR/net-$INO-v0.lock
ip -n "$NS" link add name v0 numtxqueues 4 numrxqueues 4 type veth \
	peer name v1 numtxqueues 4 numrxqueues 4 || skip "cannot create a multi-queue veth"
ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up || skip "cannot bring the veth up"

# Not the defaults, so that restore has something to get right: GRO on, an
# XPS mask on tx-3 (a queue that vanishes with the pin's channel change).
$X ethtool -K v0 gro on || fail "ethtool -K v0 gro on"
$X sh -c 'echo 2 > /sys/class/net/v0/queues/tx-3/xps_cpus' || fail "cannot set xps of tx-3"

capture() {
	$X ethtool -l v0
	$X ethtool -k v0
	$X sh -c 'for f in /sys/class/net/v0/queues/tx-*/xps_cpus; do echo "$f $(cat "$f")"; done'
	$X tc qdisc show dev v0
}
hex() { echo $((16#$(echo "$1" | tr -d ','))); }
xps() { $X cat /sys/class/net/v0/queues/tx-$1/xps_cpus; }

# --- show --json agrees with ethtool
J=$($X "$ZCGEN" nic show v0 --json) || fail "nic show --json failed"
[ "$(echo "$J" | jq .channels.tx)" = "$($X ethtool -l v0 | awk '/^TX:/{v=$2} END{print v}')" ] &&
	[ "$(echo "$J" | jq .channels.max.tx)" = "$($X ethtool -l v0 | awk '/^TX:/{print $2; exit}')" ] &&
	[ "$(echo "$J" | jq .channels.rx)" = "4" ] &&
	ok "show: channels agree with ethtool -l" || fail "show: channels differ: $(echo "$J" | jq -c .channels)"
# ethtool -k prints some kernel features under its own long names.
for pair in rx-gro:generic-receive-offload tx-scatter-gather:tx-scatter-gather \
	tx-tcp-segmentation:tx-tcp-segmentation rx-lro:large-receive-offload; do
	f=${pair%%:*}
	want=$($X ethtool -k v0 | awk -v f="${pair#*:}:" '$1 == f {print ($2 == "on") ? "true" : "false"}')
	got=$(echo "$J" | jq ".features[\"$f\"].active")
	[ -n "$want" ] && [ "$want" = "$got" ] && ok "show: $f is $got as ethtool -k says" ||
		fail "show: $f: zcgen $got, ethtool $want"
done
[ "$(echo "$J" | jq '.features["rx-lro"].fixed')" = true ] && ok "show: rx-lro is fixed on veth" ||
	fail "show: rx-lro should be fixed on veth"
[ "$(echo "$J" | jq '.queues | length')" = 4 ] && [ "$(echo "$J" | jq -r .irq_source)" = none ] &&
	[ "$(echo "$J" | jq -r '.queues[3].xps_cpus')" = 1 ] && ok "show: 4 queues, no IRQs, tx-3 on CPU 1" ||
	fail "show: queues wrong: $(echo "$J" | jq -c '.irq_source, .queues')"
$X "$ZCGEN" nic show v0 | grep -q '^channels (current/max): rx 4/4  tx 4/4' && ok "show: text form" ||
	fail "show: text form lacks the channels line"

BEFORE=$(capture)

# --- refusals: exit 2, a message naming the limit, nothing changed
out=$($X "$ZCGEN" nic pin v0 --queues 9 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'maximum is 4' && ok "pin --queues 9: exit 2 naming the maximum 4" ||
	fail "pin --queues 9: rc $rc: $out"
out=$($X "$ZCGEN" nic pin v0 --queues 2 --cpus 1000 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'CPU 1000 does not exist' && ok "pin --cpus 1000: exit 2" ||
	fail "pin --cpus 1000: rc $rc: $out"
out=$($X "$ZCGEN" nic pin zcgt-nodev --queues 2 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'no such device' && ok "pin unknown device: exit 2" ||
	fail "pin unknown device: rc $rc: $out"
out=$($X "$ZCGEN" nic show zcgt-nodev 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'no such device' && ok "show unknown device: exit 2" ||
	fail "show unknown device: rc $rc: $out"
out=$($X "$ZCGEN" nic pin v0 --queues 2 --cpus 0-1 --dry-run 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q 'channels: tx 4 -> 2' && echo "$out" | grep -q 'xps tx-0: none -> cpu 0' &&
	ok "pin --dry-run describes the changes" || fail "pin --dry-run: rc $rc: $out"
[ "$(capture)" = "$BEFORE" ] && [ ! -e "$STATE" ] && ok "refusals and --dry-run changed nothing" ||
	fail "state changed by a refused command or --dry-run: $(diff <(echo "$BEFORE") <(capture))"

# --- pin: channels, XPS, the map, a 0600 state file
out=$($X "$ZCGEN" nic pin v0 --queues 2 --cpus 0-1 2>&1); rc=$?
[ $rc = 0 ] || fail "pin: rc $rc: $out"
echo "$out" | grep -q 'pinned through XPS alone' && echo "$out" | grep -q 'queue 1 (tx-1) -> cpu 1' &&
	ok "pin: prints the map and says veth is pinned through XPS alone" || fail "pin output: $out"
[ "$($X ethtool -l v0 | awk '/^TX:/{v=$2} END{print v}')" = 2 ] && ok "pin: ethtool -l shows tx 2" ||
	fail "pin: ethtool -l: $($X ethtool -l v0 | tail -4)"
[ "$(hex "$(xps 0)")" = 1 ] && [ "$(hex "$(xps 1)")" = 2 ] && ok "pin: xps tx-0 = cpu 0, tx-1 = cpu 1" ||
	fail "pin: xps tx-0 $(xps 0), tx-1 $(xps 1)"
[ -f "$STATE" ] && [ "$(stat -c %a "$STATE")" = 600 ] && ok "pin: state file $STATE, mode 0600" ||
	fail "pin: no state file $STATE with mode 0600"
$X tc qdisc show dev v0 | grep -q 'qdisc mq' && ok "pin: mq root for per-queue counters" ||
	fail "pin: no mq root qdisc"

# A change a run could have made, for restore to undo (sg off drags tso and gso).
$X ethtool -K v0 sg off >/dev/null 2>&1 || fail "ethtool -K v0 sg off"

# --- the lock: a second process is refused while the device is held
# -o: the lock stays with flock itself, not with the command it runs, which
# only starts once the lock is held and says so.
READY=$(mktemp)
rm -f "$READY"
flock -n -o "$LOCK" sh -c ': > "$1"; exec sleep 5' sh "$READY" &
HOLDER=$!
for _ in $(seq 50); do
	[ -e "$READY" ] && break
	sleep 0.1
done
[ -e "$READY" ] || fail "the test's lock holder did not start"
rm -f "$READY"
out=$($X "$ZCGEN" nic restore v0 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'v0 is being changed' && ok "restore refused while another holds v0" ||
	fail "restore with the lock held: rc $rc: $out"
# kill -9 of the holder frees the lock: flock dies with its process.
kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null; HOLDER=

# --- restore from the state file (what a crash or kill -9 of a run leaves)
out=$($X "$ZCGEN" nic restore v0 2>&1); rc=$?
[ $rc = 0 ] && ok "restore: exit 0" || fail "restore: rc $rc: $out"
AFTER=$(capture)
[ "$AFTER" = "$BEFORE" ] && ok "restore: channels, features, xps and qdisc exactly as before" ||
	fail "restore differs: $(diff <(echo "$BEFORE") <(echo "$AFTER"))"
[ ! -e "$STATE" ] && ok "restore: state file removed" || fail "restore: $STATE still there"
out=$($X "$ZCGEN" nic restore v0 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q 'nothing to restore' && ok "restore again: nothing to restore" ||
	fail "restore again: rc $rc: $out"

# --- a pin killed with SIGKILL leaves no half state: the file written first, restore after
$X "$ZCGEN" nic pin v0 --queues 3 >/dev/null 2>&1 &
PIN=$!
kill -9 $PIN 2>/dev/null; wait $PIN 2>/dev/null
$X "$ZCGEN" nic restore v0 >/dev/null 2>&1
[ "$(capture)" = "$BEFORE" ] && [ ! -e "$STATE" ] && ok "pin killed with SIGKILL, then restore: as before" ||
	fail "after SIGKILL + restore: $(diff <(echo "$BEFORE") <(capture))"

# --- the interface with the default route is refused unless --force
ip -n "$NS" addr add 192.0.2.1/24 dev v0 && ip -n "$NS" route add default via 192.0.2.2 dev v0 ||
	fail "cannot add a default route in $NS"
out=$($X "$ZCGEN" nic pin v0 --queues 2 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'carries the default route' && [ ! -e "$STATE" ] &&
	ok "pin on the default-route interface: exit 2" || fail "default route: rc $rc: $out"
out=$($X "$ZCGEN" nic pin v0 --queues 2 --force --dry-run 2>&1); rc=$?
[ $rc = 0 ] && ok "--force lets it through (dry run)" || fail "--force --dry-run: rc $rc: $out"

$X "$ZCGEN" nic --help | grep -q 'nic pin' && $X "$ZCGEN" nic pin --help | grep -q -- '--queues' &&
	ok "--help" || fail "--help"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
