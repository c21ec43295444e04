#!/usr/bin/env bash
# t_fleet.sh - fleet runs under Open MPI (docs/fleet.md) on loopback: two ranks towards one zcgen
# sink, one report whose total is the exact sum of the ranks' and the sink's count; the start
# skew reported; a rank without a part, or one that cannot connect, stops every rank before any
# data; per-rank substitution (template, port_step) and rate_share; a rank whose traffic breaks
# during the run reports what it did and the others' results are kept; no mpirun: unchanged.
source "$ZCGEN_SRC/tests/lib.sh"

command -v jq >/dev/null || skip "jq not installed"
command -v mpirun >/dev/null || skip "mpirun not installed (apt-get install openmpi-bin libopenmpi-dev)"

# profile FILE PORT FLEET-YAML: a 1.5 s TCP profile towards 127.0.0.1:PORT with that fleet: section
profile() {
	cat >"$1" <<-YAML
	target:
	  host: 127.0.0.1
	  port: $2
	protocol: tcp
	queues: 1
	streams: 2
	size: 64K
	duration: 1500ms
	interval: 500ms
	$3
	YAML
}
MPIRUN=(timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2)
# A sanitizer build: Open MPI's own allocations kept until exit are not zcgen's leaks
# (tests/lsan-openmpi.supp names only Open MPI's libraries). Its libraries have no frame
# pointers and its components are dlclosed at MPI_Finalize: without the slow unwinder and
# with the components unloaded, the leaks' stacks name no module to match.
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$ZCGEN_SRC/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export OMPI_MCA_mca_base_component_disable_dlclose=1

# Without mpirun: a fleet: section is refused; a build without MPI names the missing option.
profile "$T/probe.yaml" 5201 "fleet: {ranks: [{cpus: 0}, {cpus: 1}]}"
"$ZCGEN" --profile "$T/probe.yaml" --dry-run >"$T/probe.out" 2>&1
rc=$?
if grep -q "built without MPI" "$T/probe.out"; then
	grep -q "ZCGEN_MPI=ON" "$T/probe.out" && [ "$rc" -eq 2 ] ||
		{ cat "$T/probe.out"; echo "FAIL - the refusal does not name the build option"; exit 1; }
	skip "this zcgen was built without MPI (ZCGEN_MPI=OFF, or AUTO found no Open MPI): $(cat "$T/probe.out")"
fi
check "no mpirun: a fleet: profile is refused, exit 2" [ "$rc" -eq 2 ]
check "... saying to start it with mpirun" grep -q "start it with mpirun" "$T/probe.out"

# 1. Two ranks, one sink: the report's total is the sum of the ranks' and the sink's count.
start_sink tcp
profile "$T/two.yaml" "$SINK_PORT" "fleet: {ranks: [{cpus: 0, source-ports: 41000-41001}, {cpus: 1, source-ports: 42000-42001}]}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/two.yaml" --json "$T/two.json" --csv "$T/two.csv" >"$T/two.out" 2>&1
rc=$?
sleep 0.3 # the sink reads what is still in its receive queues
stop_sink
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/two.out"
check "two ranks: exit 0" [ "$rc" -eq 0 ]
J=$T/two.json
check "hosts[] has 2 entries, ranks 0 and 1 with a host name" \
	[ "$(jq -c '[.hosts[] | [.rank, (.host | length > 0)]]' "$J")" = '[[0,true],[1,true]]' ]
tb=$(jq '.total.bytes' "$J")
check "total.bytes ($tb) is the exact sum of the ranks'" \
	[ "$(jq '[.hosts[].total.bytes] | add' "$J")" = "$tb" ]
check "every rank sent something" jq -e '[.hosts[].total.bytes > 0] | all' "$J"
sb=$(jq '.total.bytes' "$SINK_JSON")
check "the sink counted total.bytes ($sb = $tb)" [ "$sb" = "$tb" ]
check "the sink saw 4 connections (2 ranks x 2 streams)" [ "$(jq '.total.connections' "$SINK_JSON")" = 4 ]
check "queues[] carries every rank's queue, with its rank" \
	[ "$(jq -c '[.queues[].rank]' "$J")" = '[0,1]' ]
check "each rank's part was applied (cpus 0 and 1)" \
	[ "$(jq -c '[.hosts[].queues[0].cpu]' "$J")" = '[0,1]' ]
skew=$(jq '.fleet.start_skew_s' "$J")
dur=$(jq '.total.duration_s' "$J")
echo "# start skew $skew s over a run of $dur s"
check "the start skew is reported and under 5% of the duration" \
	jq -e '.fleet.start_skew_s >= 0 and .fleet.start_skew_s < 0.05 * .total.duration_s' "$J"
check "the clocks agree (one host): no warning" jq -e '.fleet.clock_warning == false' "$J"
check "rank 0 printed the fleet's table" grep -q '^fleet: 2 ranks; start skew' "$T/two.out"
check "... with a total row of the same bytes" grep -Eq "^total +$tb " "$T/two.out"
check "the ranks' own lines are tagged" grep -q '^\[rank 1\] ' "$T/two.out"
check "the CSV has a rank column and both ranks' rows" \
	bash -c "head -1 '$T/two.csv' | grep -q '^rank,interval_start_s' && cut -d, -f1 '$T/two.csv' | sort -u | tr '\n' ' ' | grep -q '^0 1 rank $'"

# 2. A rank without a part: every rank exits 2 with the same words, before any traffic.
profile "$T/short.yaml" 5201 "fleet: {ranks: [{cpus: 0}]}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/short.yaml" >"$T/short.out" 2>&1
rc=$?
check "a rank without a part: exit 2" [ "$rc" -eq 2 ]
check "... every rank says rank 1 has no part" \
	[ "$(grep -c '^\[rank [01]\] zcgen: fleet: .*rank 1 has no part' "$T/short.out")" = 2 ]
[ "$(grep -c 'rank 1 has no part' "$T/short.out")" = 2 ] || sed 's/^/# /' "$T/short.out"

# 3. A rank that cannot connect stops the fleet before any data; rank 0 names it.
start_sink tcp
refused=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
profile "$T/bad.yaml" "$SINK_PORT" "fleet: {ranks: [{cpus: 0}, {cpus: 1, dest: '127.0.0.1:$refused'}]}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/bad.yaml" --json "$T/bad.json" >"$T/bad.out" 2>&1
rc=$?
sleep 0.2
stop_sink
[ "$rc" -eq 1 ] || { echo "# exit $rc:"; sed 's/^/# /' "$T/bad.out"; }
check "a rank that cannot connect: exit 1" [ "$rc" -eq 1 ]
check "... rank 0 names rank 1 and the reason" grep -q '^zcgen: fleet: rank 1 (.*) could not start: .*Connection refused' "$T/bad.out"
check "... and the other rank sent nothing" [ "$(jq '.total.bytes' "$SINK_JSON")" = 0 ]
check "... and no report was written" [ ! -e "$T/bad.json" ]

# 3b. The receiver refuses a rank (a sink that serves one test at a time, both ranks to its
# port): the fleet stops before any data; rank 0 names the refused rank and why.
start_sink tcp --max-tests 1
profile "$T/busy.yaml" "$SINK_PORT" "fleet: {template: {cpus: '{rank}'}}"
sed -i 's/^  port: .*/&\n  server: zcgen/' "$T/busy.yaml"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/busy.yaml" --json "$T/busy.json" >"$T/busy.out" 2>&1
rc=$?
sleep 0.2
stop_sink
[ "$rc" -eq 1 ] || { echo "# exit $rc:"; sed 's/^/# /' "$T/busy.out"; }
check "a rank the receiver refuses: exit 1" [ "$rc" -eq 1 ]
check "... rank 0 names it and the reason" grep -q '^zcgen: fleet: rank [01] (.*) could not start: .*busy' "$T/busy.out"
check "... the sink refused one test and counted no data" \
	[ "$(jq -c '[.total.iperf3_denied, .total.bytes]' "$SINK_JSON")" = "[1,0]" ]
check "... and no report was written" [ ! -e "$T/busy.json" ]

# 4. A template: {rank} substituted, port_step; --dry-run prints every rank's plan.
profile "$T/tmpl.yaml" 6000 "fleet: {template: {cpus: '{rank}', source-ports: '4{rank}000-4{rank}001'}, port_step: 10}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/tmpl.yaml" --dry-run >"$T/tmpl.out" 2>&1
rc=$?
check "--dry-run under mpirun: exit 0" [ "$rc" -eq 0 ]
check "... rank 0 prints both ranks' plans" [ "$(grep -c '^rank [01] (' "$T/tmpl.out")" = 2 ]
check "... port_step: rank 1 targets port 6010" grep -q 'target: *tcp 127.0.0.1:6010' "$T/tmpl.out"
check "... {rank}: rank 1's queue is on cpu 1" grep -q 'queue 0: cpu 1,' "$T/tmpl.out"

# 5. rate_share: 400 Mbit/s split 1:3 over the ranks, compared within one run.
start_sink tcp
profile "$T/rate.yaml" "$SINK_PORT" "rate: 400M
fleet: {ranks: [{cpus: 0}, {cpus: 1}], rate_share: [1, 3]}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/rate.yaml" --json "$T/rate.json" >"$T/rate.out" 2>&1
rc=$?
sleep 0.2
stop_sink
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/rate.out"
ratio=$(jq '.hosts[1].total.bits_per_second / .hosts[0].total.bits_per_second' "$T/rate.json")
echo "# rate_share [1, 3]: rank 1 / rank 0 = $ratio"
check "rate_share [1, 3]: rank 1 sends 3x rank 0 (within 10%)" \
	jq -e '(.hosts[1].total.bits_per_second / .hosts[0].total.bits_per_second) as $r | $r > 2.7 and $r < 3.3' "$T/rate.json"

# 7. Parts by host name: both ranks run on this host, whose entry in fleet.hosts (its short
# name with a domain added: short names match) gives each its CPU by {local_rank}; a
# fleet.hosts that does not name this host leaves the ranks without a part.
H=$(hostname)
profile "$T/hosts.yaml" 6000 "fleet: {hosts: {nosuchhost: {cpus: 0}, ${H%%.*}.lab.example: {cpus: '{local_rank}', source-ports: '4{local_rank}000-4{local_rank}001'}}}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/hosts.yaml" --dry-run >"$T/hosts.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/hosts.out"
check "fleet.hosts: exit 0" [ "$rc" -eq 0 ]
check "... rank 0 prints both ranks' plans" [ "$(grep -c '^rank [01] (' "$T/hosts.out")" = 2 ]
check "... this host's part, {local_rank}: rank 1's queue is on cpu 1" grep -q 'queue 0: cpu 1,' "$T/hosts.out"
check "... and rank 0's on cpu 0" grep -q 'queue 0: cpu 0,' "$T/hosts.out"
profile "$T/nohost.yaml" 6000 "fleet: {hosts: {nosuchhost: {cpus: 0}, other.example: {cpus: 1}}}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/nohost.yaml" --dry-run >"$T/nohost.out" 2>&1
rc=$?
check "fleet.hosts without this host: exit 2" [ "$rc" -eq 2 ]
check "... every rank says rank 0 and its host have no part, naming the hosts given" \
	[ "$(grep -c "^\[rank [01]\] zcgen: fleet: .*rank 0 (host $H) has no part: fleet.hosts names nosuchhost, other.example, not $H" "$T/nohost.out")" = 2 ]
[ "$rc" -eq 2 ] || sed 's/^/# /' "$T/nohost.out"
profile "$T/mixed.yaml" 6000 "fleet: {ranks: [{cpus: 1}], hosts: {nosuchhost: {cpus: 0}}}"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/mixed.yaml" --dry-run >"$T/mixed.out" 2>&1
rc=$?
check "ranks: for rank 0 only, hosts: not this one: exit 2, rank 1 has no part" \
	bash -c "[ $rc -eq 2 ] && [ \$(grep -c 'rank 1 (host $H) has no part' '$T/mixed.out') = 2 ]"

# 8. A rank whose traffic fails during the run stays in the job and reports what it did; the
# other ranks' results are kept. Rank 1's receiver resets its connections once it has read
# 40 MB (so rank 1 had sent at least that), while rank 0 sends to the sink to the end.
cat >"$T/reset.py" <<'PY'
import socket, struct, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
conns, got, lock, done = [], [0], threading.Lock(), threading.Event()
def serve(c):
    try:
        while not done.is_set():
            n = len(c.recv(1 << 20))
            with lock:
                got[0] += n
                if got[0] >= 40 << 20:
                    done.set()
            if n == 0:
                return
    except OSError:
        pass
def accept():
    while True:
        c, _ = s.accept()
        conns.append(c)
        threading.Thread(target=serve, args=(c,), daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
done.wait(60)
for c in conns:  # RST: a close with linger 0
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
print(got[0], flush=True)
PY
start_sink tcp
python3 "$T/reset.py" >"$T/reset.out" 2>&1 &
RESET_PID=$!
for _ in $(seq 100); do [ -s "$T/reset.out" ] && break; sleep 0.05; done
RPORT=$(head -1 "$T/reset.out")
profile "$T/mid.yaml" "$SINK_PORT" "fleet: {ranks: [{cpus: 0}, {cpus: 1, dest: '127.0.0.1:$RPORT'}]}"
sed -i 's/^duration: .*/duration: 3s/' "$T/mid.yaml"
"${MPIRUN[@]}" "$ZCGEN" --profile "$T/mid.yaml" --json "$T/mid.json" >"$T/mid.out" 2>&1
rc=$?
sleep 0.3
stop_sink
kill "$RESET_PID" 2>/dev/null
wait "$RESET_PID" 2>/dev/null
read_mb=$(sed -n 2p "$T/reset.out")
echo "# rank 1's receiver read $read_mb bytes before it reset"
[ "$rc" -eq 1 ] || sed 's/^/# /' "$T/mid.out"
check "a rank's traffic broken during the run: exit 1" [ "$rc" -eq 1 ]
check "... rank 0 still wrote the fleet's report" [ -s "$T/mid.json" ]
check "... rank 1 reports what it sent before: at least what its receiver read ($read_mb)" \
	jq -e --argjson r "${read_mb:-0}" '$r >= 41943040 and .hosts[1].total.bytes >= $r' "$T/mid.json"
check "... and that both its streams failed" jq -e '.hosts[1].total.streams_failed == 2' "$T/mid.json"
check "... rank 0's results are kept: no failure, and the sink counted exactly its bytes" \
	jq -e --argjson s "$(jq '.total.bytes' "$SINK_JSON")" \
	'.hosts[0].total.streams_failed == 0 and .hosts[0].total.bytes == $s and $s > 0' "$T/mid.json"
check "... total.bytes is the exact sum of the ranks'" jq -e '.total.bytes == ([.hosts[].total.bytes] | add)' "$T/mid.json"
check "... rank 0 printed the fleet's table" grep -q '^fleet: 2 ranks; start skew' "$T/mid.out"
# why, in the kernel's words: which depends on where the reset meets the sends (one in flight:
# ECONNRESET; the next one: EPIPE, or a short send with the socket closed)
check "... rank 1 said why, tagged, naming its receiver and the send's error" \
	grep -Eq "^\[rank 1\] zcgen: every stream failed to 127.0.0.1:$RPORT: send to 127.0.0.1:$RPORT: [A-Za-z]" "$T/mid.out"

# 6. No mpirun: a plain run is what it was, no hosts[] or fleet.
start_sink tcp
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --duration 500ms --json "$T/plain.json" >"$T/plain.out" 2>&1
rc=$?
sleep 0.2
stop_sink
check "a plain run: exit 0" [ "$rc" -eq 0 ]
check "... its JSON has no hosts or fleet" jq -e 'has("hosts") == false and has("fleet") == false and .total.bytes > 0' "$T/plain.json"
check "... and its lines are not tagged" bash -c "! grep -q '^\[rank' '$T/plain.out'"

finish
