#!/usr/bin/env bash
# build.sh DIR [cmake options...] - configure and build zcgen into DIR (warnings are errors).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
cmake -S "$src" -B "$dir" -DZCGEN_WERROR=ON "$@" >"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log" >&2; exit 1; }
cmake --build "$dir" -j"$(nproc)" >"$dir.build.log" 2>&1 || { cat "$dir.build.log" >&2; exit 1; }
