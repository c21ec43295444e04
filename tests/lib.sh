# lib.sh - shared helpers for the shell tests (sourced). Needs $ZCGEN.
set -uo pipefail
: "${ZCGEN:?ZCGEN must name the zcgen binary}"
T=$(mktemp -d /tmp/zcgen-test.XXXXXX)
SINK_PID=
fails=0
passes=0

cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }
ok() { passes=$((passes + 1)); echo "ok - $*"; }
fail() { fails=$((fails + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: the command's status decides
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]; }

# start_sink PROTO [ARGS...]: a sink on 127.0.0.1 with a free port; sets SINK_PID, SINK_PORT, SINK_JSON
start_sink() {
	local proto=$1; shift
	SINK_N=$((${SINK_N:-0} + 1))
	SINK_JSON=$T/sink-$SINK_N.json
	# A fresh output file per sink: the background shell truncates it only after the
	# fork, so a reused name could still show the previous sink's port.
	SINK_OUT=$T/sink-$SINK_N.out
	"$ZCGEN" sink --listen "${SINK_HOST:-127.0.0.1}:0" --protocol "$proto" --quiet --json "$SINK_JSON" "$@" >"$SINK_OUT" 2>&1 &
	SINK_PID=$!
	for _ in $(seq 100); do grep -q '^listening on' "$SINK_OUT" 2>/dev/null && break; sleep 0.05; done
	SINK_PORT=$(sed -n 's/^listening on .*:\([0-9]*\) .*/\1/p' "$SINK_OUT")
	[ -n "$SINK_PORT" ] || { cat "$SINK_OUT"; echo "FAIL - sink did not start"; exit 1; }
}

# stop_sink: SIGINT, wait for its JSON
stop_sink() {
	kill -INT "$SINK_PID"
	wait "$SINK_PID" || true
	SINK_PID=
}

# wait_counted PROM BYTES: until the metrics file PROM of a sink started with --metrics PROM
# (and a short --interval) counts BYTES, its workers' sum, 5 s at most: a plain stream's last
# bytes may still be in the sink's receive queue when the sender exits (on loopback, up to a
# few hundred MB)
wait_counted() {
	local got
	for _ in $(seq 100); do
		got=$(awk '/^zcgen_sink_bytes_total/ { s += $2 } END { printf "%.0f", s }' "$1" 2>/dev/null)
		[ "${got:-0}" -ge "${2:-1}" ] 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# the sink counted ${got:-nothing} of $2 bytes 5 s after the sender's exit"
}

# use_lab PREFIX [SKIP_FN]: this test's own lab (ZCGEN_LAB_PREFIX=PREFIX, sets $P), taken down
# on every exit; skips through SKIP_FN (default skip) where namespaces cannot be made.
use_lab() {
	local skipper=${2:-skip}
	[ "$(id -u)" = 0 ] || "$skipper" "needs root to create network namespaces"
	P=$1
	export ZCGEN_LAB_PREFIX=$P
	ip netns add "$P-probe" 2>/dev/null || "$skipper" "ip netns add is not permitted here"
	ip netns del "$P-probe"
	trap labclean EXIT
}
labclean() {
	"$ZCGEN" lab down >/dev/null 2>&1
	ip netns del "$P-tx" 2>/dev/null
	ip netns del "$P-rx" 2>/dev/null
	cleanup
}
