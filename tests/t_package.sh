#!/usr/bin/env bash
# t_package.sh - install and package: `cmake --install` lays out bin/, the man page, the profiles,
# the docs and bash completion; `cpack -G DEB` makes a .deb that depends on the Debian library
# packages the binary links; the .deb, unpacked with dpkg-deb -x (never installed), runs and finds
# its profiles by name; the man page lists every option that some --help lists, and no other.
source "$(dirname "$0")/lib.sh"
B=$(dirname "$ZCGEN")
[ -f "$B/CMakeCache.txt" ] || skip "no CMake build directory beside $ZCGEN"
[ -f "$B/zcgen.1" ] || skip "the man page was not built (-DZCGEN_MAN=OFF)"
for t in cpack dpkg-deb dpkg-shlibdeps man; do command -v $t >/dev/null || skip "$t is not installed"; done

# --- cmake --install into a scratch prefix
cmake --install "$B" --prefix "$T/inst" >"$T/install.log" 2>&1
check "cmake --install: exit 0" [ $? -eq 0 ]
for f in bin/zcgen share/man/man1/zcgen.1 share/zcgen/profiles/lab-tcp.yaml \
	share/zcgen/profiles/100g-tcp.yaml share/doc/zcgen/README.md share/doc/zcgen/cli.md \
	share/bash-completion/completions/zcgen; do
	check "installed: $f" [ -e "$T/inst/$f" ]
done
"$T/inst/bin/zcgen" --profile loopback-udp --dry-run >"$T/byname.out" 2>&1
check "an installed zcgen finds --profile loopback-udp by name" grep -q '127.0.0.1:5201' "$T/byname.out"
"$T/inst/bin/zcgen" --profile no-such-profile --dry-run >"$T/noname.out" 2>&1
rc=$?
check "an unknown profile name: exit 2 ($rc)" [ "$rc" -eq 2 ]
check "... saying it cannot read it" grep -q 'cannot read the profile' "$T/noname.out"

# --- cpack -G DEB in a copy of the build's install step (the build directory is the cwd of cpack)
(cd "$B" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1
rc=$?
check "cpack -G DEB: exit 0 ($rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || tail -20 "$T/cpack.log"
deb=$(ls "$T"/pkg/zcgen_*.deb 2>/dev/null | head -1)
check "a .deb was made ($deb)" [ -n "$deb" ]
if [ -n "$deb" ]; then
	deps=$(dpkg-deb -f "$deb" Depends)
	for lib in liburing2 libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libyaml-0-2 libjansson4 libc6; do
		check "Depends names $lib ($deps)" grep -q "$lib" <<<"$deps"
	done
	dpkg-deb -x "$deb" "$T/deb"
	"$T/deb/usr/bin/zcgen" --version >"$T/ver.out" 2>&1
	check "the unpacked zcgen --version: $(cat "$T/ver.out")" grep -q '^zcgen [0-9]' "$T/ver.out"
	"$T/deb/usr/bin/zcgen" --profile lab-tcp.yaml --dest 127.0.0.1:5201 --no-nic --dry-run >"$T/debname.out" 2>&1
	check "the unpacked zcgen finds lab-tcp.yaml under its own prefix" grep -q '127.0.0.1:5201' "$T/debname.out"
	man=$(ls "$T"/deb/usr/share/man/man1/zcgen.1* 2>/dev/null | head -1)
	MANWIDTH=100 man -l -P cat "$man" >"$T/man.out" 2>"$T/man.err"
	check "man -l renders the page" grep -q 'zero-copy' "$T/man.out"
	check "... with its exit status section" grep -q 'EXIT STATUS' "$T/man.out"
fi

# --- the man page and --help list the same options
helpopts() { "$ZCGEN" "$@" --help 2>&1 | grep -o -- '--[a-z0-9][a-z0-9-]*' ; }
{
	"$ZCGEN" --help 2>&1 | grep -o -- '--[a-z0-9][a-z0-9-]*'
	helpopts run; helpopts sink; helpopts sweep; helpopts compare; helpopts offload-check; helpopts plot; helpopts merge; helpopts ndr
	helpopts lab up; helpopts lab status
	for s in show pin restore; do helpopts nic $s; done
} | sort -u >"$T/help.opts"
# (the section on iperf3's flags names iperf3's own long options, which zcgen refuses)
awk '/^# /{ skip = /IPERF3/ } !skip' "$ZCGEN_SRC/docs/zcgen.1.scd" |
	grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u >"$T/man.opts"
missing=$(comm -23 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')
extra=$(comm -13 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')
check "every option of --help is in zcgen(1) (missing: ${missing:-none})" [ -z "${missing// /}" ]
check "zcgen(1) names no option that --help does not (extra: ${extra:-none})" [ -z "${extra// /}" ]
check "--help lists options at all ($(wc -l <"$T/help.opts"))" [ "$(wc -l <"$T/help.opts")" -gt 40 ]

# --- -v and -V
check "zcgen -v prints the version" bash -c '"$0" -v | grep -q "^zcgen [0-9]"' "$ZCGEN"
check "zcgen -V prints the version" bash -c '"$0" -V | grep -q "^zcgen [0-9]"' "$ZCGEN"

# --- bash completion offers options from --help and the installed profiles
comp=$(PATH="$B:$PATH" bash -c 'source "$1"; COMP_WORDS=(zcgen --pro); COMP_CWORD=1; _zcgen; echo "${COMPREPLY[*]}"' _ \
	"$T/inst/share/bash-completion/completions/zcgen")
check "completion of --pro offers --profile and --protocol ($comp)" bash -c '[[ "$0" == *--profile* && "$0" == *--protocol* ]]' "$comp"
comp=$(PATH="$B:$PATH" bash -c 'source "$1"; COMP_WORDS=(zcgen sink --li); COMP_CWORD=2; _zcgen; echo "${COMPREPLY[*]}"' _ \
	"$T/inst/share/bash-completion/completions/zcgen")
check "completion of sink --li offers --listen ($comp)" [ "$comp" = "--listen" ]
finish
