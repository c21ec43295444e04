#!/usr/bin/env bash
# run-all.sh - install what is missing, build, and run the whole test suite twice:
# once in the normal build, once with AddressSanitizer + UndefinedBehaviorSanitizer;
# then each fuzzer for 20 s (tests/fuzz.sh).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
bash tests/deps.sh
rc=0
before=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
for variant in build build-asan; do
	opts=()
	[ "$variant" = build-asan ] && opts=(-DZCGEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
	echo "== $variant: building"
	bash tests/build.sh "$src/$variant" "${opts[@]}"
	echo "== $variant: testing"
	# leak checks stay on; io_uring's own threads are not ours to trace
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir "$src/$variant" --output-on-failure -j2 || rc=1
done
# the fuzzers, 20 s each under ASan + UBSan (tests/fuzz.sh prints "N passed, N failed")
echo "== build-fuzz: fuzzing"
bash tests/fuzz.sh 20 || rc=1
after=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
left=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
if [ -n "${left// /}" ]; then
	echo "run-all: network namespaces left behind: $left" >&2
	rc=1
fi
exit $rc
