#!/usr/bin/env bash
# quickstart.sh - install what is missing, build, and run the main job: the lab TCP profile
# through the built-in veth lab (two network namespaces, a zcgen sink on the far side), which
# shows the per-queue table with the NIC's own per-queue counters. Where network namespaces
# cannot be made (not root), it runs the loopback profile against a zcgen sink instead.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
bash tests/deps.sh
bash tests/build.sh "$src/build"
zcgen=$src/build/zcgen
if [ "$(id -u)" -eq 0 ] && ip netns add zcgen-qs-probe 2>/dev/null; then
	ip netns del zcgen-qs-probe
	exec "$zcgen" --profile profiles/lab-tcp.yaml --lab --live "$@"
fi
echo "quickstart: no network namespaces here (needs root): running on loopback instead"
out=$(mktemp -d)
trap 'kill $sink 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$out"' EXIT
"$zcgen" sink --listen 127.0.0.1:0 --protocol tcp --quiet >"$out/sink.txt" &
sink=$!
for _ in $(seq 50); do grep -q '^listening on' "$out/sink.txt" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on .*:\([0-9]*\) .*/\1/p' "$out/sink.txt")
[ -n "$port" ] || { echo "quickstart: the sink did not start" >&2; cat "$out/sink.txt" >&2; exit 1; }
"$zcgen" --profile profiles/loopback-tcp.yaml --dest "127.0.0.1:$port" --live "$@"
kill -INT $sink
wait $sink || true
echo "-- the sink's view:"
grep -v '^listening on' "$out/sink.txt"
