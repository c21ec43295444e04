#!/usr/bin/env bash
# t_badinput.sh - the bad-input corpus (tests/badinput/): every malformed profile and command
# line exits with its code and says its message, at once, sending nothing; as root, the
# default-route guard in throwaway namespaces (routing tables, split defaults, nexthops).
source "$(dirname "$0")/lib.sh"
B=$ZCGEN_SRC/tests/badinput

# Inputs that are made, not committed: binary, a FIFO, sizes and depths past the limits.
for i in $(seq 0 255); do printf "\\$(printf %o "$i")"; done >"$T/garbage.yaml"
mkfifo "$T/fifo.yaml"
head -c 70000 /dev/zero | tr '\0' '#' >"$T/big.yaml"
for i in $(seq 0 4999); do echo "k$i: 1"; done >"$T/many.yaml"
{ printf 'name: '; head -c 10000 /dev/zero | tr '\0' '['; echo; } >"$T/deep.yaml"

start_sink tcp

# subst TEXT: the placeholders of cases.txt
subst() {
	local s=$1
	s=${s//@B@/$B}
	s=${s//@T@/$T}
	s=${s//@SINK@/127.0.0.1:$SINK_PORT}
	s=${s//@ZCGEN@/$ZCGEN}
	printf '%s' "$s"
}

trim() { local s=$1; s=${s#"${s%%[! ]*}"}; printf '%s' "${s%"${s##*[! ]}"}"; }

# run_case NAME EXIT MESSAGE ARGS [PREFIX...]: one case, judged on its code, message and health
run_case() {
	local want=$1 msg=$2 args=$3 rc
	shift 3
	eval "set -- \"\$@\" $args"
	timeout 10 "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
	if [ $rc = 124 ]; then
		fail "zcgen $args: still running after 10 s"
	elif grep -q -e 'Sanitizer' -e 'runtime error:' "$T/out"; then
		fail "zcgen $args: sanitizer report: $(head -5 "$T/out")"
	elif [ $rc != "$want" ]; then
		fail "zcgen $args: exit $rc, not $want: $(head -5 "$T/out")"
	elif ! grep -qF -- "$msg" "$T/out"; then
		fail "zcgen $args: no '$msg' in: $(head -5 "$T/out")"
	else
		ok "exit $want: $msg"
	fi
}

n=0
while IFS= read -r line; do
	case $line in '#'* | '') continue ;; esac
	want=$(trim "${line%%|*}")
	rest=${line#*|}
	msg=$(trim "${rest%%|*}")
	args=$(trim "${rest#*|}")
	run_case "$want" "$(subst "$msg")" "$(subst "$args")" "$ZCGEN"
	n=$((n + 1))
done <"$B/cases.txt"
[ $n -ge 90 ] && ok "$n cases run from cases.txt" || fail "only $n cases in cases.txt"

# After lab exec's COMMAND, -v and -h are the command's, not zcgen's: with a lab
# prefix that no lab has, the command is looked for (and the lab is missing).
ZCGEN_LAB_PREFIX=zcgnolab timeout 10 "$ZCGEN" lab exec true -v >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'zcgnolab' "$T/out" && ! grep -q 'liburing' "$T/out" &&
	ok "lab exec CMD -v: the -v is left to CMD" ||
	fail "lab exec CMD -v: exit $rc: $(head -3 "$T/out")"

# A profile of 5000 mistakes: counted, 20 shown, not 5000 lines.
"$ZCGEN" run --profile "$T/many.yaml" --dry-run >"$T/out" 2>&1
lines=$(wc -l <"$T/out")
[ "$lines" -le 25 ] && ok "5000 errors: $lines lines printed" || fail "5000 errors: $lines lines printed"

# A report that cannot be written on a read-only file system (root writes anywhere else).
if [ "$(id -u)" = 0 ] && mkdir "$T/ro" && unshare -m true 2>/dev/null; then
	args="run --dest 127.0.0.1:$SINK_PORT --duration 1 --json $T/ro/r.json"
	unshare -m bash -c "mount --bind '$T/ro' '$T/ro' && mount -o remount,bind,ro '$T/ro' &&
		exec timeout 10 '$ZCGEN' $args" >"$T/out" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -qF "cannot write the report there: Read-only file system" "$T/out" &&
		ok "a read-only directory for --json: exit 2 before the run" ||
		fail "read-only --json: exit $rc: $(head -3 "$T/out")"
	[ ! -e "$T/ro/r.json" ] && ok "nothing left where the check probed" || fail "$T/ro/r.json left"
else
	echo "note: the read-only --json case needs root and unshare -m: not run"
fi
# A path that can be written is left as it was: no empty file from the check.
"$ZCGEN" run --dest 127.0.0.1:$SINK_PORT --duration 1 --omit 2s --json "$T/r.json" >"$T/out" 2>&1
[ $? = 2 ] && [ ! -e "$T/r.json" ] && ok "a run refused after the check leaves no report file" ||
	fail "refused run: $(ls -la "$T/r.json" 2>&1)"

sleep 0.2
stop_sink
bytes=$(jq .total.bytes "$SINK_JSON")
[ "$bytes" = 0 ] && ok "no bad input sent anything to the sink" || fail "the sink received $bytes bytes"

# --- the default-route guard, each case in its own namespace
if [ "$(id -u)" != 0 ]; then
	echo "note: the default-route cases (routes.txt) need root to make namespaces: not run"
elif ! ip netns add "zcbad-probe-$$" 2>/dev/null; then
	echo "note: ip netns add is not permitted here: the default-route cases not run"
else
	ip netns del "zcbad-probe-$$"
	# make_ns NAME: the namespace of one case, as routes.txt describes it
	make_ns() {
		ip netns add "$1" &&
		ip -n "$1" link add v0 type veth peer name v1 &&
		ip -n "$1" link add v2 type veth peer name v3 &&
		ip -n "$1" link set v0 up && ip -n "$1" link set v1 up &&
		ip -n "$1" link set v2 up && ip -n "$1" link set v3 up &&
		ip -n "$1" addr add 192.0.2.1/24 dev v0 &&
		ip -n "$1" -6 addr add 2001:db8::1/64 dev v0 nodad &&
		ip -n "$1" addr add 198.51.100.1/24 dev v2
	}
	NS=
	trap '[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null; cleanup' EXIT
	n=0
	while IFS= read -r line; do
		case $line in '#'* | '') continue ;; esac
		setup=$(trim "${line%%|*}")
		rest=${line#*|}
		want=$(trim "${rest%%|*}")
		rest=${rest#*|}
		msg=$(trim "${rest%%|*}")
		args=$(trim "${rest#*|}")
		NS=zcbad-$$-$n
		n=$((n + 1))
		make_ns "$NS" || { fail "namespace $NS: cannot set up"; ip netns del "$NS" 2>/dev/null; continue; }
		IFS=';' read -ra cmds <<<"$setup"
		bad=
		for c in "${cmds[@]}"; do
			# shellcheck disable=SC2086
			ip -n "$NS" $c 2>"$T/ip.err" || bad="ip $c: $(cat "$T/ip.err")"
		done
		if [ -n "$bad" ]; then
			echo "note: $bad: this kernel cannot make that route; case not run"
		else
			run_case "$want" "$(subst "$msg")" "$(subst "$args")" ip netns exec "$NS" "$ZCGEN"
		fi
		ip netns del "$NS"
		NS=
	done <"$B/routes.txt"
fi

finish
