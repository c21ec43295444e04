#!/bin/bash
# t_docs_commands.sh - every `zcgen ...` command in README.md and docs/*.md
# code blocks runs as written, in at most 2 minutes: durations cut to 0.2 s,
# loopback targets pointed at a sink this test starts, documentation and
# real-device targets run as --dry-run (or at that sink), --lab in this
# test's own lab (ZCGEN_LAB_PREFIX). Synopses (FILE, [--opt]) and printed
# output are not commands; the few commands that cannot run here are listed
# below with the reason.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to extract the commands"
command -v jq >/dev/null || skip "jq is needed (README pipes into it)"
SRC=$(cd "$(dirname "$0")/.." && pwd)
use_lab zcd
# fleet_env: for the fleet commands (mpirun) in a sanitizer build, Open MPI's own allocations
# are not zcgen's leaks (tests/lsan-openmpi.supp; see t_fleet.sh). Those commands alone: the
# slow unwinder would slow every other one down.
fleet_env() {
	export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRC/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
	export OMPI_MCA_mca_base_component_disable_dlclose=1
}
start_sink both

# Commands that cannot run on this machine, by a pattern of the command as written, and why.
CANNOT=(
	'--profile dut.yaml|dut.yaml stands for the user'"'"'s own device profile; ndr through the lab runs above'
	'offload-check eth1 --profile profiles/100g-tcp.yaml|needs the real 100G port eth1 and the receiver at the profile'"'"'s target (offload-check has no --dry-run: it measures)'
)

mkdir -p "$T/cwd"
ln -s "$SRC/profiles" "$T/cwd/profiles"
python3 - "$SRC" "$SINK_PORT" >"$T/cmds" <<'PY'
import glob, os, re, sys
src, port = sys.argv[1], sys.argv[2]
files = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
placeholder = re.compile(r"\[|\b(FILE|DEV|HOST|PORT|LIST|TIME|REPORT|SECS|LEN|RATE|CPU|PATH|N)\b|\.\.\.")
# every run, sink and trial this short: the test asks only that each command runs as written
# (exit 0, or 3 for a profile's expect: verdict), which no command's length decides
dur = "--duration 0.2s"
subs = {"run", "sink", "nic", "lab", "sweep", "compare", "offload-check", "plot", "ndr"}
real = re.compile(r"\b(192\.0\.2\.\d+|198\.18\.0\.2|10\.0\.0\.2)\b")
def code_lines(path):
    """Lines of fenced and indented code blocks; a trailing backslash joins the next line."""
    fence, prev_blank, indent, held = False, True, False, ""
    for n, line in enumerate(open(path), 1):
        if line.startswith("```"):
            fence, prev_blank, indent = not fence, False, False
            continue
        indent = not fence and line.startswith("    ") and (prev_blank or indent)
        prev_blank = not line.strip()
        if fence or indent:
            s = line.strip()
            if s.endswith("\\"):
                held += s[:-1]
                continue
            yield n, held + s
            held = ""
for path in files:
    for n, s in code_lines(path):
        s = re.sub(r"^\$ ", "", s)
        if not re.match(r"^(sudo )?zcgen( |$)", s) or re.match(r"^zcgen( [\w-]+)+:", s):
            continue
        cmd = re.sub(r"\s+#.*$", "", s)
        c = re.sub(r"^sudo ", "", cmd)
        words = c.split()
        pipe = c.split(" | ")
        # a synopsis: placeholders, [optional] parts, a|b alternatives; output: a table's header
        if placeholder.search(pipe[0]) or any(p.lstrip().startswith("-") for p in pipe[1:]):
            continue
        if len(words) > 1 and not words[1].startswith("-") and words[1] not in subs:
            continue
        # a line of a shell loop over "for g in --no-gro --gro": its last value
        c = c.replace("$g", "--gro")
        inlab = " lab exec -- " in c
        sub = words[1] if len(words) > 1 and not words[1].startswith("-") else "run"
        dry = "--dry-run" in c
        if sub in ("run",) and ("eth1" in c or "profiles/100g-" in c) and not dry:
            c += " --dry-run"; dry = True
        if inlab:
            # inside the lab's sending namespace 198.18.0.2:5201 is the lab's sink
            c = re.sub(r"--duration \S+", dur, c)
            # a fleet in the lab: mpirun's command line names zcgen after -np N
            c = re.sub(r"(^|-- |-np \d+ )zcgen\b", r'\1"$ZCGEN"', c)
            if " mpirun " in c and "--duration" not in c:
                c += " " + dur
            print(f"{os.path.relpath(path, src)}:{n}\t{cmd}\t{c.strip()}")
            continue
        if not dry:
            c = real.sub("127.0.0.1", c)
        c = re.sub(r"127\.0\.0\.1:5201\b", "127.0.0.1:" + port, c)
        if sub == "run" and "-c" in words:
            c = re.sub(r"(-c 127\.0\.0\.1)", r"\1 -p " + port, c)
            c = re.sub(r"-t \d+", "-t 1", c)
        if sub == "sink":
            c = re.sub(r"(--listen \S+):\d+", r"\1:0", c)
            c = re.sub(r"--duration \S+", "", c) + " " + dur + " --quiet"
        c = re.sub(r"--duration \S+", dur, c)
        c = re.sub(r"--repeat \d+", "--repeat 1", c)
        if sub == "ndr":
            # one frame size, short trials, a coarse precision: the search as written, in seconds
            c = re.sub(r"--frame-sizes (\d+)[\d,]*", r"--frame-sizes \1", c)
            c = re.sub(r"--precision \S+", "", c)
            c += " --precision 20 --trial-duration 0.3s --settle 100ms --latency-loads none"
        head = c.split("|")[0]
        if sub in ("run", "sweep", "compare", "offload-check") and not dry and "--duration" not in head and "-c" not in words:
            parts = c.split("|", 1)
            parts[0] = parts[0].rstrip() + " " + dur + " "
            c = "|".join(parts)
        # a profile's own omit (warm-up) would be longer than the shortened run
        if sub == "run" and dur in c and "--omit" not in c:
            parts = c.split("|", 1)
            parts[0] = parts[0].rstrip() + " --omit 0 "
            c = "|".join(parts)
        if sub == "offload-check" and "--repeat" not in head:
            parts = c.split("|", 1)
            parts[0] = parts[0].rstrip() + " --repeat 1 "
            c = "|".join(parts)
        if sub == "run" and "profiles/loopback-" in c and "--dest" not in c:
            c += " --dest 127.0.0.1:" + port
        if sub == "nic" and "eth1" in c:
            # the lab's veth stands in for the real port: up for this command, down after it
            c = ("zcgen lab up --queues 2 >/dev/null && zcgen lab exec -- zcgen " +
                 " ".join(words[1:]).replace("eth1", "zcl-tx0") + " && zcgen lab down >/dev/null")
            c = re.sub(r"(^|-- |&& )zcgen\b", r'\1"$ZCGEN"', c)
        c = re.sub(r"(^|-- )zcgen\b", r'\1"$ZCGEN"', c)
        print(f"{os.path.relpath(path, src)}:{n}\t{cmd}\t{c.strip()}")
PY
n=$(wc -l <"$T/cmds")
check "commands found in README.md and docs/ ($n)" [ "$n" -ge 15 ]
start=$SECONDS
while IFS=$'\t' read -r where orig cmd; do
	why=
	for c in "${CANNOT[@]}"; do
		[[ "$orig" == *"${c%%|*}"* ]] && why=${c#*|}
	done
	if [ -n "$why" ]; then
		echo "not run - $where: $orig: $why"
		continue
	fi
	(cd "$T/cwd" && { [[ "$cmd" != *" mpirun "* ]] || fleet_env; } &&
		timeout 40 bash -o pipefail -c "$cmd" </dev/null >"$T/out" 2>&1)
	rc=$?
	# exit 3: an expect: threshold missed in 0.2 s is the profile's verdict, not a broken command
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then
		ok "$where: $orig"
	else
		sed 's/^/    /' "$T/out" | tail -15
		fail "$where: $orig (ran: $cmd; exit $rc)"
	fi
done <"$T/cmds"
echo "all commands took $((SECONDS - start)) s"
check "every command in at most 2 minutes ($((SECONDS - start)) s)" [ $((SECONDS - start)) -le 120 ]
finish
