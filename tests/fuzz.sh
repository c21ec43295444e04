#!/usr/bin/env bash
# fuzz.sh [SECONDS] - build the libFuzzer harnesses of tests/fuzz/ with clang, ASan and UBSan
# into build-fuzz, and run each for SECONDS (default 20) on a copy of its seed corpus, as many
# at a time as there are CPUs (ZCGEN_FUZZ_JOBS=N: N at a time).
# Fails on any crash, leak, sanitizer report, hang (an input taking over 25 s) or growth past
# 2 GB. What a fuzzer finds is kept in build-fuzz/fuzz-artifacts/NAME/ (reproduce with
# build-fuzz/tests/fuzz/fuzz_NAME FILE); nothing is written into the source tree.
# Longer runs: docs/reliability.md.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
build=${ZCGEN_FUZZ_BUILD:-$src/build-fuzz}
case $secs in ''|*[!0-9]*) echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2; exit 2;; esac
if ! command -v clang >/dev/null; then
	echo "fuzz: clang not found (libFuzzer comes with it): apt-get install clang libclang-rt-14-dev" >&2
	exit 1
fi
echo "== fuzz: building into $build"
mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DZCGEN_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
	>"$build.cmake.log" 2>&1 || { cat "$build.cmake.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target fuzzers >"$build.build.log" 2>&1 ||
	{ cat "$build.build.log" >&2; exit 1; }

work=$(mktemp -d /tmp/zcgen-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The fuzzers run side by side, one per CPU (ZCGEN_FUZZ_JOBS): each is one process on one
# thread for its SECONDS, so each fuzzes as long as it would alone, and the whole takes
# SECONDS per round of ZCGEN_FUZZ_JOBS fuzzers instead of SECONDS per fuzzer.
jobs=${ZCGEN_FUZZ_JOBS:-$(nproc)}
case $jobs in ''|*[!0-9]*|0) echo "fuzz: ZCGEN_FUZZ_JOBS must be a whole number from 1, not '$jobs'" >&2; exit 2;; esac
names=()
for bin in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=${bin##*/fuzz_}
	corpus=$work/$name
	arts=$build/fuzz-artifacts/$name
	dict=()
	[ -f "$src/tests/fuzz/$name.dict" ] && dict=(-dict="$src/tests/fuzz/$name.dict")
	mkdir -p "$corpus" "$arts"
	[ -d "$src/tests/fuzz/corpus/$name" ] && cp -r "$src/tests/fuzz/corpus/$name/." "$corpus/"
	echo "== fuzz_$name: ${secs} s from $(find "$corpus" -type f | wc -l) inputs"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
	# leaks count (detect_leaks); UBSan stops at the first report, as ASan does
	(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=25 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$arts/" "${dict[@]}" "$corpus" \
		>"$work/$name.log" 2>&1
	 echo $? >"$work/$name.rc") &
	names+=("$name")
done
wait
pass=0 fail=0 failed=()
for name in "${names[@]}"; do
	if [ "$(cat "$work/$name.rc" 2>/dev/null)" = 0 ]; then
		pass=$((pass + 1))
		echo "   fuzz_$name: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$name.log" | tail -1)"
	else
		fail=$((fail + 1))
		failed+=("fuzz_$name")
		tail -n 60 "$work/$name.log"
		echo "fuzz_$name: FAILED; the input is in $build/fuzz-artifacts/$name/" >&2
	fi
done
echo "fuzz: $pass passed, $fail failed${failed:+ (${failed[*]})}"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
