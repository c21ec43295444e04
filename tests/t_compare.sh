#!/usr/bin/env bash
# t_compare.sh - `zcgen compare`: zcgen and iperf3 side by side through the lab (TCP and UDP,
# two repeats), the ratio of the medians, the iperf3 server and the lab gone afterwards,
# and clear failures (nothing listening, no iperf3).
source "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || skip "jq is not installed (apt-get install jq)"
# Skip what follows, after what ran so far: a failure there still fails the test.
skip_rest() { finish || exit 1; skip "$@"; }

# Failures first: they need neither root nor the iperf3 side of zcgen runs.
"$ZCGEN" compare --dest 127.0.0.1:5201 --duration 1 --iperf3 /nonexistent/iperf3 \
	>"$T/noiperf.out" 2>&1
check "no iperf3: exit 1" [ $? -eq 1 ]
check "no iperf3: says so" grep -q 'iperf3 not found' "$T/noiperf.out"

"$ZCGEN" compare --repeat 0 >"$T/usage.out" 2>&1
check "--repeat 0: usage error" [ $? -eq 2 ]

command -v iperf3 >/dev/null || { skip_rest "iperf3 is not installed (apt-get install iperf3)"; }

# A port with nothing listening: a free one, found by binding and closing.
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 1)
"$ZCGEN" compare --dest "127.0.0.1:$FREE" --duration 1 >"$T/refused.out" 2>&1
rc=$?
check "nothing listening: exit 1" [ "$rc" -eq 1 ]
check "nothing listening: the reason is printed" grep -qi 'refused' "$T/refused.out"
check "nothing listening: no totals printed" bash -c "! grep -q '^totals' '$T/refused.out'"

# Does this zcgen speak the iperf3 control protocol (--server iperf3)? Ask a real iperf3 -s.
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 5399)
iperf3 -s -p "$PPORT" -1 >"$T/probe-srv.out" 2>&1 &
PROBE_PID=$!
for _ in $(seq 50); do ss -ltn 2>/dev/null | grep -q ":$PPORT " && break; sleep 0.1; done
"$ZCGEN" --dest "127.0.0.1:$PPORT" --server iperf3 --duration 1 --size 64K --quiet \
	>"$T/probe.out" 2>&1
probe_rc=$?
kill "$PROBE_PID" 2>/dev/null; wait "$PROBE_PID" 2>/dev/null
if [ "$probe_rc" -ne 0 ]; then
	sed 's/^/  probe: /' "$T/probe.out"
	skip_rest "zcgen runs cannot play the iperf3 client yet (--server iperf3 exited $probe_rc): the lab cases need it"
fi

use_lab zcgc$$ skip_rest

# check_case NAME JSON OUT: what holds for both protocols
check_case() {
	local n=$1 j=$2 out=$3 pid
	check "$n: zcgen sent" [ "$(jq '.zcgen.total.bits_per_second > 0' "$j")" = true ]
	check "$n: iperf3 sent" [ "$(jq '.iperf3.total.bits_per_second > 0' "$j")" = true ]
	check "$n: both received (the iperf3 server's count)" \
		[ "$(jq '.zcgen.total.received_bits_per_second > 0 and .iperf3.total.received_bits_per_second > 0' "$j")" = true ]
	check "$n: both have a CPU cost" \
		[ "$(jq '.zcgen.total.cpu_busy_s > 0 and .iperf3.total.cpu_seconds_per_gb > 0' "$j")" = true ]
	check "$n: min <= median <= max" \
		[ "$(jq '[.zcgen.total, .iperf3.total][] | .bits_per_second_min <= .bits_per_second and .bits_per_second <= .bits_per_second_max' "$j" | sort -u)" = true ]
	check "$n: ratio = zcgen/iperf3 of the medians" \
		[ "$(jq '((.ratio.bits_per_second - .zcgen.total.bits_per_second / .iperf3.total.bits_per_second) | fabs) < 1e-9 * .ratio.bits_per_second' "$j")" = true ]
	check "$n: CPU/GB ratio of the medians too" \
		[ "$(jq '((.ratio.cpu_seconds_per_gb - .zcgen.total.cpu_seconds_per_gb / .iperf3.total.cpu_seconds_per_gb) | fabs) < 1e-9' "$j")" = true ]
	check "$n: two runs of each tool" \
		[ "$(jq '[.zcgen.runs, .iperf3.runs] | map(length)' -c "$j")" = "[2,2]" ]
	check "$n: the order alternates (zcgen first, then iperf3 first)" \
		[ "$(jq -c '[.zcgen.runs[].position]' "$j")" = "[1,2]" ]
	check "$n: each run keeps the tool's own report" \
		[ "$(jq '.zcgen.runs[0].report.total.bytes > 0 and .iperf3.runs[1].report.end.sum_sent.bytes > 0' "$j")" = true ]
	pid=$(sed -n 's/.*iperf3 -s -p [0-9]* in [^ ]* (pid \([0-9]*\)[,)].*/\1/p' "$out")
	check "$n: the iperf3 server's pid was printed" [ -n "$pid" ]
	check "$n: the iperf3 server is gone" bash -c "[ -n '$pid' ] && ! kill -0 '$pid' 2>/dev/null"
	check "$n: the lab is down" bash -c "! ip netns list | grep -q '^$P-'"
	# the server runs on the CPUs the queues leave free; not pinned when they take every CPU
	if [ "$(jq .environment.queues "$j")" -ge "$(nproc)" ]; then
		check "$n: the server is not pinned (the queues take every CPU)" \
			[ "$(jq .environment.server_cpus "$j")" = null ]
	else
		check "$n: the server is pinned to the free CPUs ($(jq -r .environment.server_cpus "$j"))" \
			[ "$(jq -r .environment.server_cpus "$j")" != null ]
	fi
}

"$ZCGEN" compare --profile "$ZCGEN_SRC/profiles/lab-tcp.yaml" --lab --duration 1 --repeat 2 \
	--json "$T/tcp.json" >"$T/tcp.out" 2>&1
rc=$?
check "lab tcp: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/tcp.out"
check_case "lab tcp" "$T/tcp.json" "$T/tcp.out"
check "lab tcp: the receiving namespace counted TCP segments for both" \
	[ "$(jq '.zcgen.total.rx_segments > 0 and .iperf3.total.rx_segments > 0' "$T/tcp.json")" = true ]
check "lab tcp: iperf3 ran with -Z (zero-copy mode)" \
	bash -c "jq -r .iperf3.command '$T/tcp.json' | grep -q -- ' -Z'"
check "lab tcp: the totals block is printed" grep -q '^  Gbit/s sent' "$T/tcp.out"

"$ZCGEN" compare --profile "$ZCGEN_SRC/profiles/lab-udp.yaml" --lab --duration 1 --repeat 2 \
	--size 1400 --gso 4 --queues 1 --json "$T/udp.json" >"$T/udp.out" 2>&1
rc=$?
check "lab udp: exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/udp.out"
check "lab udp: --gso reached zcgen's run (4 datagrams per send)" \
	[ "$(jq '.zcgen.runs[0].report.plan.gso_segments' "$T/udp.json")" = 4 ]
check "lab udp: zcgen's datagrams/s count datagrams, not sends" \
	[ "$(jq '.zcgen.runs[0] | (.packets_per_second - .report.total.datagrams_per_second | fabs) < 1' "$T/udp.json")" = true ]
check_case "lab udp" "$T/udp.json" "$T/udp.out"
check "lab udp: datagrams arrived for both" \
	[ "$(jq '.zcgen.total.received_packets_per_second > 0 and .iperf3.total.received_packets_per_second > 0' "$T/udp.json")" = true ]
check "lab udp: the receiving namespace counted datagrams for both" \
	[ "$(jq '.zcgen.total.rx_datagrams > 0 and .iperf3.total.rx_datagrams > 0' "$T/udp.json")" = true ]
# Two independent counts of the same arrivals: the iperf3 server's, and the namespace's kernel counter
check "lab udp: server's arrivals within 20% of the namespace's InDatagrams, for both tools" \
	[ "$(jq '[.zcgen.runs[], .iperf3.runs[]] | map(.received_packets_per_second / .rx_datagrams_per_second | . > 0.8 and . < 1.2) | all' "$T/udp.json")" = true ]
check "lab udp: iperf3 ran -u -b 0 -l 1400, no -Z" \
	bash -c "jq -r .iperf3.command '$T/udp.json' | grep -q -- '-u -b 0 -l 1400\$'"
check "lab udp: no retransmits key for UDP" [ "$(jq '.ratio | has("retransmits")' "$T/udp.json")" = false ]

finish
