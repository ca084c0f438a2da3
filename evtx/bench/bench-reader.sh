#!/usr/bin/env bash
# bench-reader.sh: time the evtx reader against libevtx's evtxexport over the same files.
#
#   evtx/bench/bench-reader.sh [DIR] [ROUNDS]
#
# DIR defaults to the shared corpus (../shared/corpus/evtx beside the checkout),
# ROUNDS to 5. Each round runs, one after the other on the same files:
#   reader:     go test's BenchmarkScan/wanted, one iteration: evtx.Scan over DIR
#               with the hunt's (channel, event id) pairs (Sysmon 1/5, Security 4688/4689),
#               GOMAXPROCS chunk decoders;
#   evtxexport: evtxexport -f xml on every file of DIR, output to /dev/null.
# The best (minimum) wall and CPU time of each side is kept, since the machine is
# shared and noise only ever adds time. The reader's figure includes starting the
# test binary; building it is not timed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$repo/../shared/corpus/evtx}
rounds=${2:-5}
command -v evtxexport >/dev/null || { echo "bench-reader: evtxexport not installed (apt-get install libevtx-utils)" >&2; exit 1; }
[ -d "$dir" ] || { echo "bench-reader: $dir is not a directory" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && go test -c -o "$work/evtx.test" ./evtx)

mapfile -d '' files < <(find "$dir" -type f -print0 | sort -z)
bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
cat "${files[@]}" >/dev/null # warm the page cache for both sides

# run LABEL CMD...: time one command; prints "wall cpu" in seconds.
run() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null 2>&1 || true
	awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$work/time"
}

export_all() {
	for f in "$@"; do evtxexport -f xml "$f" >/dev/null 2>&1 || true; done
}
export -f export_all

best() { sort -n -k"$1" "$2" | head -1 | awk -v k="$1" '{print $k}'; }

for ((i = 1; i <= rounds; i++)); do
	EVTX_BENCH_DIR=$dir run "$work/evtx.test" -test.run '^$' -test.bench 'BenchmarkScan/wanted$' -test.benchtime 1x >>"$work/reader"
	run bash -c 'export_all "$@"' _ "${files[@]}" >>"$work/export"
done

rw=$(best 1 "$work/reader"); rc=$(best 2 "$work/reader")
ew=$(best 1 "$work/export"); ec=$(best 2 "$work/export")
awk -v b="$bytes" -v n="${#files[@]}" -v r="$rounds" -v rw="$rw" -v rc="$rc" -v ew="$ew" -v ec="$ec" -v cpus="$(nproc)" 'BEGIN {
	mb = b / 1e6
	printf "files %d, %.1f MB, best of %d rounds, %d CPUs\n", n, mb, r, cpus
	printf "%-34s wall %7.3f s  %7.1f MB/s   cpu %7.3f s\n", "reader (wanted records only)", rw, mb / rw, rc
	printf "%-34s wall %7.3f s  %7.1f MB/s   cpu %7.3f s\n", "evtxexport -f xml", ew, mb / ew, ec
	printf "speed-up: wall %.2fx, cpu %.2fx\n", ew / rw, ec / rc
}'
