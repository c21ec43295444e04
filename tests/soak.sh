#!/usr/bin/env bash
# soak.sh [SECONDS] - a long zcgen run through the built-in lab (default 3600 s; not in CI).
#
# Runs `zcgen --profile profiles/lab-tcp.yaml --lab --duration SECONDS --omit 0` in a lab of
# its own (ZCGEN_LAB_PREFIX=zcs<pid>, taken down at the end), samples the resident memory
# (VmRSS) and the open file descriptors of the zcgen processes (the sender, which --lab runs
# as a child in the lab's namespaces, its waiting parent, and the lab's sink) every
# SOAK_EVERY seconds (default 5), and checks:
#   - bytes sent (total.bytes) equal the bytes the lab's sink received (receiver.bytes);
#   - after the warm-up (a fifth of the run, at most 60 s) no process opens a file
#     descriptor more (every later sample equals the first one after warm-up), and the
#     resident memory of the last quarter of the run stays within SOAK_RSS_SLACK_KB
#     (default 1024) of the first sample after warm-up.
# Needs root. Run it alone or under the traffic lock:
#   flock /tmp/zcgen-traffic.lock bash tests/soak.sh 3600
# Samples and the run's JSON are kept in SOAK_OUT (default a new /tmp/zcgen-soak.XXXXXX).
# Exit 0 when every check held, 1 when one did not, 2 for bad usage, 77 without root.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-3600}
every=${SOAK_EVERY:-5}
slack=${SOAK_RSS_SLACK_KB:-1024}
case $secs in ''|*[!0-9]*|0) echo "soak: SECONDS must be a positive whole number, not '$secs'" >&2; exit 2;; esac
[ "$(id -u)" = 0 ] || { echo "soak: needs root (the lab's namespaces)"; exit 77; }
for t in jq awk; do
	command -v $t >/dev/null || { echo "soak: $t not found: bash tests/deps.sh" >&2; exit 1; }
done
Z=${ZCGEN:-$src/build/zcgen}
if [ ! -x "$Z" ]; then
	echo "soak: building $src/build"
	bash "$src/tests/build.sh" "$src/build" || exit 1
fi
out=${SOAK_OUT:-$(mktemp -d /tmp/zcgen-soak.XXXXXX)}
mkdir -p "$out"
export ZCGEN_LAB_PREFIX=zcs$$
run_pid=
finish() {
	[ -n "$run_pid" ] && kill -INT "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
	"$Z" lab down >/dev/null 2>&1
	ip netns del "$ZCGEN_LAB_PREFIX-tx" 2>/dev/null
	ip netns del "$ZCGEN_LAB_PREFIX-rx" 2>/dev/null
}
trap finish EXIT
trap 'exit 1' INT TERM

"$Z" lab up --queues 2 >"$out/lab.log" 2>&1 || { cat "$out/lab.log" >&2; exit 1; }
sink_pid=$("$Z" lab status --json | jq -r '.sink.tcp.pid // empty')
[ -n "$sink_pid" ] || { echo "soak: the lab has no sink" >&2; "$Z" lab status >&2; exit 1; }

cmd=("$Z" --profile "$src/profiles/lab-tcp.yaml" --lab --duration "${secs}s" --omit 0
     --quiet --json "$out/run.json")
echo "soak: ${cmd[*]}"
echo "soak: sampling RSS and fds every ${every}s into $out/samples.csv"
"${cmd[@]}" >"$out/run.log" 2>&1 &
run_pid=$!
start=$(date +%s)
echo "t,role,pid,rss_kb,fds" >"$out/samples.csv"
sample() {  # ROLE PID
	local rss fds
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$2/status" 2>/dev/null) || return 0
	[ -n "$rss" ] || return 0
	fds=$(ls "/proc/$2/fd" 2>/dev/null | wc -l)
	echo "$(($(date +%s) - start)),$1,$2,$rss,$fds" >>"$out/samples.csv"
}
while kill -0 "$run_pid" 2>/dev/null; do
	# with --lab the run is a child in the lab's namespaces; the parent waits for it
	child=$(pgrep -P "$run_pid" | head -n 1)
	[ -n "$child" ] && sample sender "$child"
	sample parent "$run_pid"
	sample sink "$sink_pid"
	sleep "$every"
done
wait "$run_pid"
rc=$?
run_pid=
fail=0
if [ "$rc" -ne 0 ]; then
	echo "soak: zcgen exited $rc:" >&2
	tail -n 20 "$out/run.log" >&2
	fail=1
fi

sent=$(jq -r '.total.bytes // empty' "$out/run.json" 2>/dev/null)
recv=$(jq -r '.receiver.bytes // empty' "$out/run.json" 2>/dev/null)
dur=$(jq -r '.total.duration_s // empty' "$out/run.json" 2>/dev/null)
bps=$(jq -r '.total.bits_per_second // empty' "$out/run.json" 2>/dev/null)
echo "soak: ran ${dur:-?} s at $(awk -v b="${bps:-0}" 'BEGIN {printf "%.2f Gbit/s", b / 1e9}')"
if [ -z "$sent" ] || [ -z "$recv" ]; then
	echo "soak: FAIL: no total.bytes or receiver.bytes in $out/run.json" >&2
	fail=1
elif [ "$sent" != "$recv" ]; then
	echo "soak: FAIL: sent $sent bytes, the lab's sink received $recv (difference $((sent - recv)))"
	fail=1
else
	echo "soak: ok: sent $sent bytes, the lab's sink received $recv"
fi

warm=$((secs / 5))
[ "$warm" -gt 60 ] && warm=60
for role in sender parent sink; do
	# first sample after warm-up, last quarter's maximum RSS, fd range after warm-up
	read -r n base peak fd0 fdmin fdmax rss_first < <(awk -F, -v r="$role" -v w="$warm" -v s="$secs" '
		NR > 1 && $2 == r {
			if (!seen_any) { rss_first = $4; seen_any = 1 }
			if ($1 < w) next
			n++
			if (n == 1) { base = $4; fd0 = $5; fdmin = $5; fdmax = $5 }
			if ($5 < fdmin) fdmin = $5
			if ($5 > fdmax) fdmax = $5
			if ($1 >= s * 3 / 4 && $4 > peak) peak = $4
		}
		END { printf "%d %d %d %d %d %d %d\n", n, base, peak, fd0, fdmin, fdmax, rss_first }' \
		"$out/samples.csv")
	if [ "$n" -lt 2 ]; then
		echo "soak: FAIL: $role: $n samples after the ${warm}s warm-up" >&2
		fail=1
		continue
	fi
	echo "soak: $role: RSS ${rss_first} KiB at start, ${base} KiB after the ${warm}s warm-up," \
		"at most ${peak} KiB in the last quarter; fds ${fdmin}..${fdmax} after warm-up ($n samples)"
	if [ "$fdmin" -ne "$fd0" ] || [ "$fdmax" -ne "$fd0" ]; then
		echo "soak: FAIL: $role: open fds changed after warm-up ($fd0 -> $fdmin..$fdmax)"
		fail=1
	fi
	if [ "$peak" -gt $((base + slack)) ]; then
		echo "soak: FAIL: $role: RSS grew by $((peak - base)) KiB after warm-up (slack ${slack} KiB)"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "soak: passed" || echo "soak: FAILED (see $out)"
exit "$fail"
