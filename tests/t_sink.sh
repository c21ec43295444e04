#!/bin/bash
# t_sink.sh - `zcgen sink` on loopback: TCP byte counts, UDP sequence accounting, IPv6, errors
set -u
: "${ZCGEN:?ZCGEN must point at the zcgen binary}"
for tool in jq python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

tmp=$(mktemp -d /tmp/zcgen-t-sink.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# check DESCRIPTION JQ-EXPR FILE: the expression must be true
check() {
	if [ "$(jq -r "$2" "$3")" = true ]; then ok "$1"; else fail "$1 ($2 on $(jq -c .total "$3"))"; fi
}

# start_sink NAME ARGS...: runs the sink in the background, waits for its first
# line and sets $port and $sink_pid.
start_sink() {
	local name=$1; shift
	"$ZCGEN" sink "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	sink_pid=$!
	pids+=("$sink_pid")
	for _ in $(seq 100); do
		[ -s "$tmp/$name.out" ] && break
		kill -0 "$sink_pid" 2>/dev/null || break
		sleep 0.05
	done
	local line
	line=$(head -n1 "$tmp/$name.out")
	if [[ ! "$line" =~ ^listening\ on\ .*:([0-9]+)\ \((tcp|udp),\ [0-9]+\ workers?\)$ ]]; then
		echo "sink $name did not start: '$line'"; cat "$tmp/$name.err"
		return 1
	fi
	port=${BASH_REMATCH[1]}
	[ "$port" -gt 0 ] || { echo "sink $name printed port 0"; return 1; }
}

# stop_sink NAME: SIGINT, then the exit code must be 0 and the JSON written.
stop_sink() {
	local name=$1 rc
	kill -INT "$sink_pid"
	wait "$sink_pid"; rc=$?
	[ $rc -eq 0 ] || fail "$name: sink exited $rc after SIGINT: $(cat "$tmp/$name.err")"
	jq -e . "$tmp/$name.json" >/dev/null || fail "$name: no valid JSON"
}

# ---- usage errors -------------------------------------------------------
"$ZCGEN" sink --help | grep -q -- '--listen' && ok "--help" || fail "--help"
"$ZCGEN" sink >/dev/null 2>&1; [ $? -eq 2 ] && ok "no --listen: exit 2" || fail "no --listen: exit 2"
"$ZCGEN" sink --listen 127.0.0.1:0 --protocol sctp >/dev/null 2>&1
[ $? -eq 2 ] && ok "bad protocol: exit 2" || fail "bad protocol: exit 2"
"$ZCGEN" sink --listen ::1:5201 >/dev/null 2>&1
[ $? -eq 2 ] && ok "IPv6 without brackets: exit 2" || fail "IPv6 without brackets: exit 2"

# ---- TCP: two connections, exact byte count ------------------------------
start_sink tcp --listen 127.0.0.1:0 --protocol tcp --queues 2 --duration 30 --interval 200ms \
	--json "$tmp/tcp.json" || exit 1
# A second sink on the same port is refused (SO_REUSEPORT must not let it share).
"$ZCGEN" sink --listen 127.0.0.1:"$port" --duration 1 >/dev/null 2>"$tmp/busy.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "in use" "$tmp/busy.err"; then ok "port in use: exit 2"; else
	fail "port in use: exit $rc, $(cat "$tmp/busy.err")"; fi
head -c 10000000 /dev/zero >/dev/tcp/127.0.0.1/"$port" || fail "tcp client 1"
head -c 3333333 /dev/zero >/dev/tcp/127.0.0.1/"$port" || fail "tcp client 2"
sleep 1  # let the sink read what the kernel already has
stop_sink tcp
f=$tmp/tcp.json
check "tcp total bytes = 13333333" '.total.bytes == 13333333' "$f"
check "tcp connections = 2" '.total.connections == 2 and (.streams | length) == 2' "$f"
check "tcp per-connection bytes" '[.streams[].bytes] | sort == [3333333, 10000000]' "$f"
check "tcp both closed by the peer" '[.streams[].end] | all(. == "closed")' "$f"
check "tcp workers add up" '([.workers[].bytes] | add) == .total.bytes and (.workers | length) == 2' "$f"
check "tcp intervals add up" '([.intervals[].bytes] | add) == .total.bytes' "$f"
check "tcp schema" '.listen | test("^127\\.0\\.0\\.1:[0-9]+$")' "$f"
check "tcp protocol" '.protocol == "tcp" and .duration_s > 0' "$f"

# ---- UDP: sequences 1 2 3 5 4 4 7, then foreign ones -----------------------
start_sink udp --listen 127.0.0.1:0 --protocol udp --duration 30 --quiet --json "$tmp/udp.json" || exit 1
python3 - "$port" <<'PY' || fail "udp client"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("127.0.0.1", int(sys.argv[1]))
def send(seq, size=200):
    s.sendto(struct.pack("!IIQ", 1, 2, seq) + b"p" * (size - 16), dst)
for q in (1, 2, 3, 5, 4, 4, 7):   # 6 lost, 4 late, 4 duplicated
    send(q)
send(9, 9000)                      # larger than a receive buffer: counted in full; 8 lost
s.sendto(b"abc", dst)              # shorter than the header: foreign
send(0)                            # sequence 0: foreign
# a second, independent stream from another source port
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for q in (1, 2, 3):
    t.sendto(struct.pack("!IIQ", 1, 2, q) + b"q" * 84, dst)
PY
sleep 1
stop_sink udp
f=$tmp/udp.json
check "udp packets = 11" '.total.packets == 11' "$f"
check "udp lost = 2" '.total.lost == 2' "$f"
check "udp reordered = 1" '.total.reordered == 1' "$f"
check "udp duplicates = 1" '.total.duplicates == 1' "$f"
check "udp foreign = 2" '.total.foreign == 2 and .total.foreign_bytes == 203' "$f"
check "udp bytes (big datagram in full)" '.total.bytes == 7*200 + 9000 + 3*100' "$f"
check "udp two streams" '(.streams | length) == 2' "$f"
check "udp stream 1" '[.streams[] | select(.packets == 8)][0] | .lost == 2 and .reordered == 1 and .duplicates == 1 and .highest_seq == 9' "$f"
check "udp stream 2" '[.streams[] | select(.packets == 3)][0] | .lost == 0 and .reordered == 0 and .duplicates == 0' "$f"

# ---- IPv6 ----------------------------------------------------------------
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	start_sink v6 --listen '[::1]:0' --duration 30 --quiet --json "$tmp/v6.json" || exit 1
	grep -q '^listening on \[::1\]:' "$tmp/v6.out" && ok "v6 listening line" || fail "v6 listening line"
	head -c 123456 /dev/zero >/dev/tcp/::1/"$port" || fail "v6 client"
	sleep 1
	stop_sink v6
	check "v6 bytes" '.total.bytes == 123456 and (.streams[0].peer | startswith("[::1]:"))' "$tmp/v6.json"
else
	echo "SKIP part: no IPv6 loopback on this host"
fi

# ---- --duration ends the run by itself --------------------------------------
start_sink dur --listen 127.0.0.1:0 --duration 300ms --quiet --json "$tmp/dur.json" || exit 1
wait "$sink_pid"; rc=$?
[ $rc -eq 0 ] && ok "--duration: exit 0" || fail "--duration: exit $rc"
check "--duration: empty run" '.total.bytes == 0 and .total.connections == 0' "$tmp/dur.json"

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all sink checks passed"
