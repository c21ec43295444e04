#!/usr/bin/env bash
# layers_nic.sh SRC - the door between gen/ and nic/ (STYLE.md 2, docs/nic.md "Layout"):
# a file of gen/ includes no nic/ header but nic/nic.h, nic/nic.h includes no other nic/
# header, and nic/ includes nothing of gen/.
# Run by ctest as unit_layers_nic (label unit); needs no root, reads only the source tree.
set -uo pipefail
src=${1:-${ZCGEN_SRC:?give the source tree}}
fails=0

[ -f "$src/nic/nic.h" ] && [ -d "$src/gen" ] || { echo "FAIL - $src is not the zcgen source tree"; exit 1; }

# Every #include of a nic/ header in gen/: "nic/x.h", <nic/x.h>, "../nic/x.h", "# include".
inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([.][.]/)*nic/'
bad=$(grep -EnH "$inc" "$src"/gen/*.c "$src"/gen/*.h 2>/dev/null |
	grep -Ev ':[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([.][.]/)*nic/nic[.]h[">]' || true)
if [ -n "$bad" ]; then
	echo "FAIL - gen/ includes nic/ headers other than nic/nic.h (declare what gen/ needs in nic/nic.h):"
	echo "$bad" | sed "s|^$src/||; s|^|  |"
	fails=$((fails + 1))
else
	echo "ok - gen/ reaches nic/ through nic/nic.h alone"
fi

# The door itself opens onto nothing else: nic/nic.h includes no other nic/ header.
bad=$(grep -EnH "$inc" "$src/nic/nic.h" || true)
if [ -n "$bad" ]; then
	echo "FAIL - nic/nic.h includes other nic/ headers (declare what gen/ needs in nic/nic.h itself):"
	echo "$bad" | sed "s|^$src/||; s|^|  |"
	fails=$((fails + 1))
else
	echo "ok - nic/nic.h includes no other nic/ header"
fi

bad=$(grep -EnH '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([.][.]/)*gen/' \
	"$src"/nic/*.c "$src"/nic/*.h 2>/dev/null || true)
if [ -n "$bad" ]; then
	echo "FAIL - nic/ includes gen/ headers (nic/ knows nothing of the generator):"
	echo "$bad" | sed "s|^$src/||; s|^|  |"
	fails=$((fails + 1))
else
	echo "ok - nic/ includes nothing of gen/"
fi
[ "$fails" -eq 0 ]
