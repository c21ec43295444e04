#!/usr/bin/env bash
# deps.sh - install what zcgen needs to build and test (Debian 12), only what is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config liburing-dev libnl-3-dev libnl-genl-3-dev
      libnl-route-3-dev libyaml-dev libjansson-dev libcmocka-dev iperf3 ethtool iproute2
      jq python3 procps scdoc man-db dpkg-dev librsvg2-bin
      clang libclang-rt-14-dev)  # clang + libclang-rt: the fuzzers (libFuzzer)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Optional: fleet runs (docs/fleet.md) build only where CMake finds Open MPI (ZCGEN_MPI=AUTO);
# without them zcgen builds and tests/t_fleet.sh skips. ZCGEN_DEPS_NO_MPI=1 leaves them out.
if [ -z "${ZCGEN_DEPS_NO_MPI:-}" ]; then
	for p in openmpi-bin libopenmpi-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
fi
if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
