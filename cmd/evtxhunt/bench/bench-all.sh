#!/usr/bin/env bash
# bench-all.sh: run every issue-8 benchmark one after the other and print a
# summary table.
#
#   cmd/evtxhunt/bench/bench-all.sh [LOGDIR]
#
# Runs, with the sizes of the issue unless the environment says otherwise
# (see each script): bench-ingest.sh (corpus, directory and zip, vs
# evtxexport), bench-bulk.sh (2 GiB synthetic collection: MB/s, per core,
# peak RSS), bench-pack.sh (built-in pack over 1 M rows), and
#   go test ./normalize -run '^$' -bench Ancestry -benchtime 1x
# when normalize has an Ancestry benchmark. Each step's full output is kept
# in LOGDIR (default: a new directory under /tmp, printed at the end). A step
# that fails is shown as failed in the table; the others still run.
# SKIP="ingest bulk pack ancestry" (any subset) leaves steps out;
# SUMMARY_ONLY=1 runs nothing and prints the table of the logs in LOGDIR.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
logs=${1:-$(mktemp -d "${TMPDIR:-/tmp}/evtxhunt-bench-all.XXXXXX")}
mkdir -p "$logs"
skip=" ${SKIP:-} "

echo "evtxhunt $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# step NAME CMD...: run one benchmark, its output to the terminal and LOGDIR/NAME.log.
step() {
	local name=$1 t0 st
	shift
	if [[ $skip == *" $name "* ]]; then
		echo "== $name: skipped" | tee "$logs/$name.log"
		return
	fi
	echo "== $name: $*"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$logs/$name.log"
	st=${PIPESTATUS[0]}
	echo "== $name: exit $st after $(($(date +%s) - t0)) s" | tee -a "$logs/$name.log"
}

if [ "${SUMMARY_ONLY:-0}" = 1 ]; then
	skip=" ingest bulk pack ancestry "
	[ $# -ge 1 ] || { echo "bench-all: SUMMARY_ONLY=1 needs LOGDIR" >&2; exit 2; }
else
	step ingest "$here/bench-ingest.sh"
	step bulk "$here/bench-bulk.sh"
	step pack "$here/bench-pack.sh"
	if grep -qs '^func BenchmarkAncestry' "$repo"/normalize/*_test.go; then
		step ancestry bash -c "cd '$repo' && echo \"before: load average \$(cut -d' ' -f1-3 /proc/loadavg)\" && go test ./normalize -run '^\$' -bench Ancestry -benchtime 1x"
	else
		echo "== ancestry: normalize has no BenchmarkAncestry*" | tee "$logs/ancestry.log"
	fi
fi

# The table: one line per figure, read back from the logs.
echo
echo "summary (logs in $logs)"
printf '%-50s %-36s %s\n' "figure" "measured" "target"
awk '
FNR == 1 { step = FILENAME; sub(/.*\//, "", step); sub(/\.log$/, "", step); block = "" }
step == "ingest" && /^directory/ { block = "dir" }
step == "ingest" && /^zip archive/ { block = "zip" }
step == "ingest" && /median wall/ {
	for (i = 1; i < NF; i++) if ($i == "wall") w = $(i + 1)
	if (/evtxhunt ingest/) iw[block] = w; else ew[block] = w
}
step == "ingest" && /ratio evtxhunt/ {
	printf "%-50s %-36s %s\n", "ingest corpus (" block "), wall ratio vs evtxexport", sprintf("%s (%s s vs %s s)", $4, iw[block], ew[block]), "<= 0.25"
}
step == "bulk" && /^evtxhunt ingest/ {
	for (i = 1; i <= NF; i++) {
		if ($i == "MB/s" && $(i + 1) == "cpu") mbs = $(i - 1)
		if ($i == "per" && $(i + 1) == "core") core = $(i - 2)
		if ($i == "RSS") rss = $(i + 1)
	}
	printf "%-50s %-36s %s\n", "bulk ingest MB/s (MB/s per core)", mbs " (" core ")", "-"
	printf "%-50s %-36s %s\n", "bulk ingest peak RSS MiB", rss, "<= 256"
}
step == "bulk" && /^evtxexport/ {
	for (i = 1; i <= NF; i++) if ($i == "MB/s" && $(i + 1) == "cpu") mbs = $(i - 1)
	printf "%-50s %-36s %s\n", "evtxexport -f xml on a subset, MB/s", mbs, "-"
}
step == "pack" && /^pack:/ { r = $3; sub(/:$/, "", r); printf "%-50s %-36s %s\n", "built-in pack over " r " rows, s per run", $4 " s", "<= 5 s (1M rows)" }
step == "ancestry" && /^Benchmark.*Ancestry.*ns\/op/ {
	for (i = 1; i < NF; i++) if ($(i + 1) == "ns/op") printf "%-50s %-36s %s\n", $1, sprintf("%.2f s", $i / 1e9), "-"
}
/^== [a-z]+: exit [1-9]/ { printf "%-50s %-36s %s\n", $2 " FAILED", $3 " " $4, "" }
' "$logs/ingest.log" "$logs/bulk.log" "$logs/pack.log" "$logs/ancestry.log"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
