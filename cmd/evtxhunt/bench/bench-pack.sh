#!/usr/bin/env bash
# bench-pack.sh: time the built-in hunt pack over 1,000,000 synthetic process
# creations (issue 8, target: the whole pack in at most 5 s).
#
#   cmd/evtxhunt/bench/bench-pack.sh
#
# Runs hunt's BenchmarkBuiltinPack1M (hunt/bench_pack_test.go):
#   go test ./hunt -run '^$' -bench BuiltinPack1M -benchtime 3x
# ns/op is one run of every built-in hunt (Parse + Run); the benchmark also
# reports cpu-ms/op (process user+sys CPU) and ms/<hunt ID> per hunt.
# Environment:
#   BENCHTIME=3x                   go test -benchtime
#   EVTXHUNT_BENCH_PACK_ROWS=1000000  rows of the synthetic database
#   EVTXHUNT_BENCH_PACK_DB=FILE    keep the database in FILE between runs
#                                  (built there when missing; default: a
#                                  temporary file, built and removed each run)
#   PLAN=1                         also log each hunt's SQLite query plan (-v)
#   PROFILE=1                      then profile: one more run with -cpuprofile
#                                  over the same database (built first, so the
#                                  profile holds the hunts only), printed with
#                                  go tool pprof -top
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
benchtime=${BENCHTIME:-3x}
work=$(mktemp -d "${TMPDIR:-/tmp}/evtxhunt-bench-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$repo"
if [ "${PROFILE:-0}" = 1 ] && [ -z "${EVTXHUNT_BENCH_PACK_DB:-}" ]; then
	export EVTXHUNT_BENCH_PACK_DB=$work/pack.db
fi
v=()
if [ "${PLAN:-0}" = 1 ]; then
	export EVTXHUNT_BENCH_PLAN=1
	v=(-v)
fi

go test -c -o "$work/hunt.test" ./hunt
echo "before: nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "+ go test ./hunt -run '^\$' -bench BuiltinPack1M -benchtime $benchtime ${v[*]}"
(cd hunt && "$work/hunt.test" -test.run '^$' -test.bench BuiltinPack1M -test.benchtime "$benchtime" ${v[@]/#-/-test.}) | tee "$work/bench.out"
echo "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk '/^BenchmarkBuiltinPack1M.*ns\/op/ {
	for (i = 1; i < NF; i++) if ($(i + 1) == "ns/op") s = $i / 1e9
	rows = $1; sub(/.*rows=/, "", rows); sub(/-[0-9]+$/, "", rows)
	printf "pack: rows %s: %.2f s per run of the whole pack (target <= 5 s over 1000000 rows: %s)\n", rows, s, (s <= 5) ? "met" : sprintf("MISSED by %.1fx", s / 5)
}' "$work/bench.out"

if [ "${PROFILE:-0}" = 1 ]; then
	unset EVTXHUNT_BENCH_PLAN
	echo "+ profile: -benchtime 1x -cpuprofile (database already built)"
	(cd hunt && "$work/hunt.test" -test.run '^$' -test.bench BuiltinPack1M -test.benchtime 1x -test.cpuprofile "$work/cpu.prof") >/dev/null
	go tool pprof -top -nodecount=30 "$work/hunt.test" "$work/cpu.prof" 2>/dev/null
	echo "+ cumulative"
	go tool pprof -top -cum -nodecount=30 "$work/hunt.test" "$work/cpu.prof" 2>/dev/null
fi
