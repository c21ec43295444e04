#!/usr/bin/env bash
# bench.sh - the benchmark of docs/performance.md: zcgen against iperf3 through the veth lab
# (`zcgen compare --lab --repeat N`) and mode auto against copy and zc-fixed per size
# (`zcgen sweep`). One line per case: name, ratio, target, PASS/MISS, the figures behind it.
# Not part of ctest: it takes minutes and its figures mean something only on a quiet machine.
#
#   sudo tests/bench.sh [BUILD_DIR]       # without BUILD_DIR: builds build-bench in the source tree
#
# Environment: BENCH_REPEAT (default 5), BENCH_DURATION seconds per run (5),
# BENCH_SWEEP_DURATION per sweep cell (2s), BENCH_SWEEP_REPEAT sweeps whose medians count (3), BENCH_OUT (directory for the JSON; default a new
# /tmp/zcgen-bench.XXXXXX), BENCH_CASES (default "tcp1 tcp1auto tcp2 udp udpgso sweep drop1400
# drop65000 dropgso"), SENDZC (path to liburing's examples/send-zerocopy, built by hand outside
# the repository: the drop-lab cases compare zc-fixed against it; without it they say so and
# measure zcgen alone).
# Exit: 0 every case ran (PASS or MISS), 1 a case could not run, 77 a prerequisite is missing.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
REPEAT=${BENCH_REPEAT:-5}
DUR=${BENCH_DURATION:-5}
SWEEP_DUR=${BENCH_SWEEP_DURATION:-2s}
SWEEP_REPEAT=${BENCH_SWEEP_REPEAT:-3}
CASES=${BENCH_CASES:-tcp1 tcp1auto tcp2 udp udpgso sweep drop1400 drop65000 dropgso}
SENDZC=${SENDZC:-}
SIZES=1200,4000,8000,16K,65435

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing ($2)"; exit 77; }; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces for the lab)"; exit 77; }
need iperf3 "apt-get install iperf3"
need jq "apt-get install jq"

if [ $# -ge 1 ]; then
	BUILD=$(cd "$1" && pwd) || exit 1
else
	BUILD=$SRC/build-bench
	echo "bench: building $BUILD (Release)"
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
		cmake --build "$BUILD" -j"$(nproc)" >/dev/null || { echo "bench: build failed"; exit 1; }
fi
Z=$BUILD/zcgen
[ -x "$Z" ] || { echo "bench: no zcgen in $BUILD"; exit 1; }

OUT=${BENCH_OUT:-$(mktemp -d /tmp/zcgen-bench.XXXXXX)}
mkdir -p "$OUT"
export ZCGEN_LAB_PREFIX=zcb$$
SINK_PID=
stop_sink() { [ -n "$SINK_PID" ] && kill -INT "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null; SINK_PID=; }
cleanup() {
	stop_sink
	"$Z" lab down >/dev/null 2>&1
	ip netns del "$ZCGEN_LAB_PREFIX-tx" 2>/dev/null
	ip netns del "$ZCGEN_LAB_PREFIX-rx" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failed=0
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
line() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

echo "bench: $($Z --version), iperf3 $(iperf3 --version | head -1 | cut -d' ' -f2), kernel $(uname -r)," \
	"$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg); repeat $REPEAT, $DUR s per run; JSON in $OUT"

# ge A B: A >= B (floating point; false when either is missing)
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "null" && b != "null" && a + 0 >= b + 0) }'; }
fmt() { [ "$1" = null ] && echo "-" || awk -v v="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, v }'; }

# compare_case NAME TARGET_KEY TARGET CPU_CHECK ARGS...: one `zcgen compare --lab` case
compare_case() {
	local name=$1 key=$2 target=$3 cpucheck=$4 j r z i c verdict
	shift 4
	j=$OUT/$name.json
	if ! "$Z" compare --lab --repeat "$REPEAT" --duration "$DUR" --json "$j" "$@" \
		>"$OUT/$name.out" 2>&1; then
		line "$(printf '%-22s %-8s %-36s %s' "$name" "-" ">= ${target}x $key" "FAILED: see $OUT/$name.out")"
		tail -5 "$OUT/$name.out" | sed 's/^/    /'
		failed=1
		return
	fi
	r=$(jq ".ratio.$key" "$j")
	z=$(jq ".zcgen.total.$key" "$j")
	i=$(jq ".iperf3.total.$key" "$j")
	c=$(jq '.ratio.cpu_seconds_per_gb' "$j")
	verdict=MISS
	if ge "$r" "$target" && { [ "$cpucheck" = no ] || ge 1 "$c"; }; then
		verdict=PASS
	fi
	local scale=1 unit=""
	case $key in
	*bits_per_second) scale=1e9 unit=Gbit/s ;;
	*packets_per_second) scale=1e3 unit=kpkt/s ;;
	esac
	line "$(printf '%-22s %-8s %-36s %-5s zcgen %s vs iperf3 %s %s [zcgen %s..%s]; CPU-s/GB %s vs %s (ratio %s)' \
		"$name" "$(fmt "$r" 3)" ">= ${target}x $key$([ "$cpucheck" = yes ] && echo ', CPU/GB <= 1x')" \
		"$verdict" "$(fmt "$(awk -v v="$z" -v s="$scale" 'BEGIN{print v/s}')")" \
		"$(fmt "$(awk -v v="$i" -v s="$scale" 'BEGIN{print v/s}')")" "$unit" \
		"$(fmt "$(jq ".zcgen.total.${key}_min / $scale" "$j")")" \
		"$(fmt "$(jq ".zcgen.total.${key}_max / $scale" "$j")")" \
		"$(fmt "$(jq .zcgen.total.cpu_seconds_per_gb "$j")" 3)" \
		"$(fmt "$(jq .iperf3.total.cpu_seconds_per_gb "$j")" 3)" "$(fmt "$c" 3)")"
}

# The sweep case: auto within 5% of the better of copy and zc-fixed at every size.
sweep_case() {
	local name=sweep-auto j=$OUT/sweep.json how
	if "$Z" sweep --help 2>/dev/null | grep -q -- '--lab'; then
		# directly: sweep --lab brings the lab up (and down) itself, auto cells included
		# One 2 s cell is noisy (+-15% here): the sweep runs SWEEP_REPEAT times, and each
		# cell's figure is its median over them.
		how="zcgen sweep --lab --modes copy,zc-fixed,auto, median of $SWEEP_REPEAT sweeps"
		: >"$OUT/sweep.out"
		for k in $(seq "$SWEEP_REPEAT"); do
			"$Z" sweep --lab --sizes "$SIZES" --modes copy,zc-fixed,auto --duration "$SWEEP_DUR" \
				--json "$OUT/sweep-$k.json" >>"$OUT/sweep.out" 2>&1 || { sweep_failed; return; }
			jq -e '(.cells | length) > 0 and all(.cells[]; .ok)' "$OUT/sweep-$k.json" >/dev/null \
				|| { sweep_failed; return; }
		done
		jq -s '{cells: (map(.cells) | add | group_by([.size, .mode]) | map(.[0] +
			{mib_per_second: (map(.mib_per_second) | sort | .[length / 2 | floor]),
			 runs: map(.mib_per_second)}))}' "$OUT"/sweep-[0-9]*.json >"$j"
	else
		# This zcgen's sweep has no --lab (nor auto cells): the same cells by hand, in the lab.
		how="fallback: lab exec sweep copy,zc-fixed + one auto run per size"
		"$Z" lab up --queues 1 --no-sink >"$OUT/sweep.out" 2>&1 || { sweep_failed; return; }
		ip netns exec "$ZCGEN_LAB_PREFIX-rx" "$Z" sink --listen 0.0.0.0:5201 --protocol tcp --quiet \
			>>"$OUT/sweep.out" 2>&1 &
		SINK_PID=$!
		sleep 1
		"$Z" lab exec -- "$Z" sweep --dest 198.18.0.2:5201 --sizes "$SIZES" --modes copy,zc-fixed \
			--duration "$SWEEP_DUR" --queues 1 --streams 1 --depth 8 --json "$OUT/sweep-cz.json" \
			>>"$OUT/sweep.out" 2>&1 || { sweep_failed; return; }
		local cells=()
		for s in ${SIZES//,/ }; do
			"$Z" lab exec -- "$Z" --dest 198.18.0.2:5201 --mode auto --size "$s" --duration "$SWEEP_DUR" \
				--omit 0 --queues 1 --streams 1 --depth 8 --no-nic --quiet --json "$OUT/auto-$s.json" \
				>>"$OUT/sweep.out" 2>&1 || { sweep_failed; return; }
			cells+=("$(jq -c --arg s "$s" '{size: .plan.message_size, mode: "auto", ok: true,
				mib_per_second: (.total.bits_per_second / 8 / 1048576),
				mode_used: (.plan.mode_used // .plan.mode)}' "$OUT/auto-$s.json")")
		done
		jq --argjson auto "$(printf '%s\n' "${cells[@]}" | jq -s .)" '.cells += $auto' \
			"$OUT/sweep-cz.json" >"$j"
		stop_sink
		"$Z" lab down >/dev/null 2>&1
	fi
	# per size from the JSON: auto / max(copy, zc-fixed), and the mode auto used
	local per worst
	per=$(jq -r '.cells | group_by(.size)[] |
		{size: .[0].size,
		 auto: (map(select(.mode == "auto"))[0].mib_per_second // 0),
		 best: ([.[] | select(.mode == "copy" or .mode == "zc-fixed") | .mib_per_second] | max // 0),
		 used: (map(select(.mode == "auto"))[0].mode_used // "?")} |
		"\(.size) \(.auto) \(.best) \(.used)"' "$j")
	worst=$(echo "$per" | awk '$3 > 0 { r = $2 / $3; if (min == "" || r < min) { min = r; at = $1 } }
		END { if (min == "") print "null -"; else printf "%.3f %s\n", min, at }')
	local r=${worst% *} at=${worst#* } verdict=MISS detail
	ge "$r" 0.95 && verdict=PASS
	detail=$(echo "$per" | awk '{ printf "%s%s: %.0f/%.0f %s", sep, $1, $2, $3, $4; sep = ", " }')
	line "$(printf '%-22s %-8s %-36s %-5s worst at %s B; auto/best MiB/s, mode auto used, per size: %s (%s)' \
		"$name" "$(fmt "$r" 3)" ">= 0.95x max(copy, zc-fixed)" "$verdict" "$at" "$detail" "$how")"
}
sweep_failed() {
	line "$(printf '%-22s %-8s %-36s %s' sweep-auto - ">= 0.95x max(copy, zc-fixed)" "FAILED: see $OUT/sweep.out")"
	tail -5 "$OUT/sweep.out" | sed 's/^/    /'
	stop_sink
	"$Z" lab down >/dev/null 2>&1
	failed=1
}

# ---- the drop lab: the sender alone (docs/lab.md), rates from the qdiscs' drop counters ----
DROP_TX=$ZCGEN_LAB_PREFIX-tx
drop_count() {
	tc -j -s -n "$DROP_TX" qdisc show dev zcl-tx0 | jq '[.[] | select(.kind == "pfifo") | .drops] | add'
}
# drop_rate MULT CMD...: run CMD in the background, sample the drop counters every 0.25 s while
# it runs; print the steady-state packets/s x MULT: the median of the 0.25 s intervals, without
# the first two (start-up) and the last (the stop).
drop_rate() {
	local mult=$1 pid f=$OUT/samples.$$
	shift
	: >"$f"
	"$@" >>"$OUT/drop.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		echo "$(date +%s.%N) $(drop_count)" >>"$f"
		sleep 0.25
	done
	wait "$pid" || { echo null; return; }
	awk -v m="$mult" 'NR > 1 { r[n++] = m * ($2 - p2) / ($1 - p1) } { p1 = $1; p2 = $2 }
		END { for (i = 2; i < n - 1; i++) printf "%.0f\n", r[i] }' "$f" | tr '\n' ' ' | med
}
med() { tr ' ' '\n' | grep -v '^$' | grep -v null | sort -g | awk '{ v[n++] = $1 } END { if (!n) print "null"; else print v[int((n - 1) / 2)] }'; }
declare -A DROP_Z
# drop_case SIZE QUEUES [GSO]: zc-fixed against send-zerocopy, REPEAT alternating runs each
drop_case() {
	local size=$1 q=$2 gso=${3:-1} name zr=() pr=() z p r cpus=0 verdict
	name=drop-udp-${size}B-${q}q$([ "$gso" -gt 1 ] && echo "-gso$gso")
	[ "$q" = 2 ] && cpus=0,1
	if ! "$Z" lab up --drop --queues "$q" >>"$OUT/drop.out" 2>&1; then
		line "$(printf '%-22s %-8s %-36s %s' "$name" - "" "FAILED: lab up --drop, see $OUT/drop.out")"
		failed=1
		return
	fi
	for k in $(seq "$REPEAT"); do
		zr+=("$(drop_rate "$gso" "$Z" lab exec -- "$Z" --dest 198.18.0.2:5201 --protocol udp \
			--size "$size" --mode zc-fixed --queues "$q" --cpus "$cpus" --duration "$DUR" --omit 0 \
			--gso "$gso" --no-nic --quiet)")
		[ -n "$SENDZC" ] && [ "$gso" = 1 ] || continue
		# send-zerocopy's -C pins all its threads to one CPU: two queues are two processes, CPU 0 and 1
		if [ "$q" = 1 ]; then
			pr+=("$(drop_rate 1 ip netns exec "$DROP_TX" "$SENDZC" -4 -D 198.18.0.2 -t "$DUR" -n 8 -b 1 \
				-d -z 1 -s "$size" -C 0 udp)")
		else
			pr+=("$(drop_rate 1 bash -c "ip netns exec $DROP_TX $SENDZC -4 -D 198.18.0.2 -t $DUR -n 8 -b 1 -d -z 1 -s $size -C 0 udp &
				ip netns exec $DROP_TX $SENDZC -4 -D 198.18.0.2 -t $DUR -n 8 -b 1 -d -z 1 -s $size -C 1 udp; wait")")
		fi
	done
	z=$(echo "${zr[*]}" | med)
	DROP_Z[$size-$q-$gso]=$z
	if [ "$gso" -gt 1 ]; then
		verdict=MISS
		ge "$z" 8.1e6 && verdict=PASS
		line "$(printf '%-22s %-8s %-36s %-5s zcgen zc-fixed --gso %s %s Mdatagrams/s [%s]' "$name" - \
			">= 8.1M datagrams/s" "$verdict" "$gso" "$(fmt "$(awk -v v="$z" 'BEGIN{print v/1e6}')")" "${zr[*]}")"
		return
	fi
	if [ -z "$SENDZC" ]; then
		line "$(printf '%-22s %-8s %-36s %-5s zcgen zc-fixed %s kdatagrams/s [%s]; SENDZC not set: the comparison with send-zerocopy is skipped' \
			"$name" - ">= 1.1x send-zerocopy" SKIP "$(fmt "$(awk -v v="$z" 'BEGIN{print v/1e3}')" 0)" "${zr[*]}")"
	else
		p=$(echo "${pr[*]}" | med)
		r=$(awk -v a="$z" -v b="$p" 'BEGIN { if (a == "null" || b == "null" || b == 0) print "null"; else print a / b }')
		verdict=MISS
		ge "$r" 1.1 && verdict=PASS
		line "$(printf '%-22s %-8s %-36s %-5s zcgen zc-fixed %s vs send-zerocopy %s kdatagrams/s; runs zcgen [%s] peer [%s]' \
			"$name" "$(fmt "$r" 3)" ">= 1.1x send-zerocopy" "$verdict" \
			"$(fmt "$(awk -v v="$z" 'BEGIN{print v/1e3}')" 0)" "$(fmt "$(awk -v v="$p" 'BEGIN{print v/1e3}')" 0)" \
			"${zr[*]}" "${pr[*]}")"
	fi
	if [ "$q" = 2 ] && [ -n "${DROP_Z[$size-1-1]:-}" ]; then
		r=$(awk -v a="$z" -v b="${DROP_Z[$size-1-1]}" 'BEGIN { if (a == "null" || b == "null" || b == 0) print "null"; else print a / b }')
		verdict=MISS
		ge "$r" 1.8 && verdict=PASS
		line "$(printf '%-22s %-8s %-36s %-5s zcgen zc-fixed 2 queues over 1' "drop-udp-${size}B-2q/1q" "$(fmt "$r" 3)" ">= 1.8x" "$verdict")"
	fi
}

printf '%-22s %-8s %-36s %s\n' case ratio target "result and figures (medians [min..max])"
for c in $CASES; do
	case $c in
	tcp1) compare_case tcp-1q-64K-zc-fixed bits_per_second 1.2 yes \
		--protocol tcp --queues 1 --streams 1 --size 64K --mode zc-fixed ;;
	tcp1auto) compare_case tcp-1q-64K-auto bits_per_second 1.2 yes \
		--protocol tcp --queues 1 --streams 1 --size 64K --mode auto ;;
	tcp2) compare_case tcp-2q-64K-zc-fixed bits_per_second 1.1 no \
		--protocol tcp --queues 2 --streams 1 --size 64K --mode zc-fixed ;;
	udp) compare_case udp-1400B received_packets_per_second 1.5 no \
		--protocol udp --queues 1 --streams 1 --size 1400 ;;
	udpgso) compare_case udp-1400B-gso16 received_packets_per_second 3 no \
		--protocol udp --queues 1 --streams 1 --size 1400 --gso 16 ;;
	sweep) sweep_case ;;
	drop1400) drop_case 1400 1; drop_case 1400 2 ;;
	drop65000) drop_case 65000 1; drop_case 65000 2 ;;
	dropgso) drop_case 1400 1 44 ;;
	*) echo "bench: unknown case '$c' (tcp1 tcp1auto tcp2 udp udpgso sweep drop1400 drop65000 dropgso)"; failed=1 ;;
	esac
done
echo "bench: measured $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) ($(nproc) CPUs), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: summary in $SUMMARY"
exit $failed
