#!/usr/bin/env bash
# t_plot.sh - zcgen plot: a run's and a sink's JSON report drawn as SVG, one line per queue or
# worker plus the total, the receiver's rate when present; rendered by rsvg-convert to a PNG of
# the picture's size; reports it cannot draw are refused with the reason.
source "$(dirname "$0")/lib.sh"
command -v rsvg-convert >/dev/null || skip "rsvg-convert (librsvg2-bin) is not installed"
command -v jq >/dev/null || skip "jq is not installed"

# png_size FILE: "W H" from the PNG header
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'; }

start_sink tcp --interval 0.25
"$ZCGEN" --dest "127.0.0.1:$SINK_PORT" --server zcgen --queues 2 --cpus 0-1 --duration 1.5 \
	--interval 0.25 --quiet --json "$T/run.json" >"$T/run.out" 2>&1
rc=$?
stop_sink
check "the run: exit 0 ($rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/run.out"

"$ZCGEN" plot "$T/run.json" -o "$T/run.svg"
check "plot of a run: exit 0" [ $? -eq 0 ]
nint=$(jq '.intervals | length' "$T/run.json")
nline=$(grep -c '<polyline' "$T/run.svg")
check "one line per queue and the total (2 + 1 = $nline)" [ "$nline" -eq 3 ]
pts=$(grep -m1 '<polyline' "$T/run.svg" | sed 's/.*points="\([^"]*\)".*/\1/' | wc -w)
check "a point per interval ($pts of $nint)" [ "$pts" -eq "$nint" ]
check "the receiver's rate is drawn" grep -q 'class="receiver"' "$T/run.svg"
check "the legend names queue 0 and queue 1" bash -c 'grep -q ">queue 0<" "$0" && grep -q ">queue 1<" "$0"' "$T/run.svg"
rsvg-convert "$T/run.svg" -o "$T/run.png"
check "rsvg-convert renders it: exit 0" [ $? -eq 0 ]
check "a PNG of the picture's size ($(png_size "$T/run.png"))" [ "$(png_size "$T/run.png")" = "960 520" ]

"$ZCGEN" plot "$SINK_JSON" >"$T/sink.svg"
check "plot of a sink report to stdout: exit 0" [ $? -eq 0 ]
check "... one line per sink worker and the total" [ "$(grep -c '<polyline' "$T/sink.svg")" -eq 2 ]
check "... rendered by rsvg-convert" rsvg-convert "$T/sink.svg" -o "$T/sink.png"

jq '.intervals = []' "$T/run.json" >"$T/empty.json"
"$ZCGEN" plot "$T/empty.json" -o "$T/empty.svg" 2>"$T/empty.err"
rc=$?
check "a report without intervals: exit 1 ($rc)" [ "$rc" -eq 1 ]
check "... saying it has no intervals" grep -q 'no intervals' "$T/empty.err"
check "... and leaving no picture" [ ! -e "$T/empty.svg" ]
printf '{"intervals": [1,\n' >"$T/bad.json"
"$ZCGEN" plot "$T/bad.json" 2>"$T/bad.err" >/dev/null
rc=$?
check "malformed JSON: exit 1 ($rc), with line and column" bash -c '[ "$0" -eq 1 ] && grep -q "bad.json:[0-9]*:[0-9]*:" "$1"' "$rc" "$T/bad.err"
"$ZCGEN" plot 2>/dev/null
check "no report given: exit 2" [ $? -eq 2 ]
finish
