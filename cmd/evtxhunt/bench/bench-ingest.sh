#!/usr/bin/env bash
# bench-ingest.sh: time `evtxhunt ingest` against libevtx's `evtxexport -f xml`
# over the same EVTX files, side by side (issue 8, target: wall-time ratio
# evtxhunt / evtxexport <= 0.25).
#
#   cmd/evtxhunt/bench/bench-ingest.sh [DIR]
#
# DIR defaults to the shared corpus ($CORPUS_DIR, else ../shared/corpus/evtx
# beside the checkout). Environment:
#   N=5         repetitions of each side, run alternately (ingest, export, ingest, ...)
#   ZIP=1       also time the corpus zipped into one archive (0: skip)
# Each repetition:
#   evtxhunt:   the built binary (go build, not timed), `ingest --quiet --db
#               tmp.db DIR` into a fresh database (tmp.db and its -wal/-shm removed);
#   evtxexport: `evtxexport -f xml FILE >/dev/null` for every file of DIR, one
#               after the other; it exits non-zero on some damaged files and
#               its wall time is counted anyway.
# The zip variant ingests corpus.zip (made at run time in a temporary
# directory with zip -r, never kept); since evtxexport cannot read archives,
# its side there is `unzip` into a temporary directory plus the same exports.
# Reported: the median wall time of each side, MB/s (input bytes / median
# wall), the median CPU time (user+sys), the ratio of the medians, and the
# exit statuses seen. nproc and the load average are printed before and after.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${1:-${CORPUS_DIR:-$repo/../shared/corpus/evtx}}
n=${N:-5}
dozip=${ZIP:-1}
command -v evtxexport >/dev/null || { echo "bench-ingest: evtxexport not installed (apt-get install libevtx-utils)" >&2; exit 1; }
[ -d "$dir" ] || { echo "bench-ingest: $dir is not a directory" >&2; exit 1; }
if [ "$dozip" = 1 ]; then
	for t in zip unzip; do command -v $t >/dev/null || { echo "bench-ingest: $t not installed (ZIP=0 skips the zip variant)" >&2; exit 1; }; done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/evtxhunt-bench-ingest.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$repo" && go build -o "$work/evtxhunt" ./cmd/evtxhunt)
echo "evtxhunt $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?'), $(evtxexport -V 2>/dev/null | head -1)"
echo "before: nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"

mapfile -d '' files < <(find "$dir" -type f -print0 | sort -z)
bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')
cat "${files[@]}" >/dev/null # warm the page cache for both sides

# timed OUT CMD...: run CMD, append "wall cpu status" (seconds) to OUT.
timed() {
	local out=$1 t0 t1 st=0
	shift
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$work/time" bash -c '"$@"' _ "$@" >/dev/null 2>"$work/stderr" || st=$?
	t1=$(date +%s%N)
	awk -v w="$(((t1 - t0) / 1000000))" -v st="$st" '{printf "%.3f %.3f %d\n", w / 1000, $1 + $2, st}' "$work/time" >>"$out"
}

# ingest INPUT: evtxhunt ingest into a fresh database.
ingest() {
	rm -f "$work/tmp.db" "$work/tmp.db-wal" "$work/tmp.db-shm"
	"$work/evtxhunt" ingest --quiet --db "$work/tmp.db" "$1"
}

# export_all FILE...: evtxexport -f xml on every file; the status is the last non-zero one.
export_all() {
	local st=0 f
	for f in "$@"; do evtxexport -f xml "$f" >/dev/null 2>&1 || st=$?; done
	return $st
}

# unzip_export ZIP: unpack ZIP into a fresh directory, then export_all its files.
unzip_export() {
	rm -rf "$work/unzipped"
	unzip -q "$1" -d "$work/unzipped"
	local fs
	mapfile -d '' fs < <(find "$work/unzipped" -type f -print0 | sort -z)
	export_all "${fs[@]}"
}

export work
export -f ingest export_all unzip_export

for ((i = 1; i <= n; i++)); do
	timed "$work/ingest.dir" ingest "$dir"
	timed "$work/export.dir" export_all "${files[@]}"
done
if [ -s "$work/stderr" ] && [ "$(awk '{print $3}' "$work/ingest.dir" | sort -u)" != 0 ]; then
	echo "bench-ingest: evtxhunt ingest failed:" >&2
	cat "$work/stderr" >&2
fi
rows=$(sqlite3 "$work/tmp.db" 'SELECT count(*) FROM xdr_data' 2>/dev/null || echo '?')

if [ "$dozip" = 1 ]; then
	(cd "$dir" && zip -q -r "$work/corpus.zip" .)
	zbytes=$(stat -c %s "$work/corpus.zip")
	cat "$work/corpus.zip" >/dev/null
	for ((i = 1; i <= n; i++)); do
		timed "$work/ingest.zip" ingest "$work/corpus.zip"
		timed "$work/export.zip" unzip_export "$work/corpus.zip"
	done
	zrows=$(sqlite3 "$work/tmp.db" 'SELECT count(*) FROM xdr_data' 2>/dev/null || echo '?')
fi

# median COLUMN FILE: the median of a column (the mean of the middle two for an even count).
median() {
	awk -v k="$1" '{print $k}' "$2" | sort -g | awk '{v[NR] = $1} END {m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.3f\n", (v[m] + v[m + 1]) / 2}'
}
statuses() { awk '{print $3}' "$1" | sort -u | paste -sd, -; }

# report LABEL INGEST EXPORT BYTES DESC: one side-by-side block.
report() {
	local iw ic ew ec
	iw=$(median 1 "$2"); ic=$(median 2 "$2"); ew=$(median 1 "$3"); ec=$(median 2 "$3")
	awk -v label="$1" -v b="$4" -v iw="$iw" -v ic="$ic" -v ew="$ew" -v ec="$ec" -v ist="$(statuses "$2")" -v est="$(statuses "$3")" -v edesc="$5" 'BEGIN {
		mb = b / 1e6
		printf "%s (%.1f MB input)\n", label, mb
		printf "  %-32s median wall %7.3f s  %7.1f MB/s   cpu %7.3f s  exit %s\n", "evtxhunt ingest", iw, mb / iw, ic, ist
		printf "  %-32s median wall %7.3f s  %7.1f MB/s   cpu %7.3f s  exit %s\n", edesc, ew, mb / ew, ec, est
		printf "  ratio evtxhunt/evtxexport (wall): %.3f  (target <= 0.25: %s)\n", iw / ew, (iw / ew <= 0.25) ? "met" : "MISSED"
	}'
}

echo "files ${#files[@]} under $dir, $n repetitions per side, alternating; xdr_data rows after one ingest: $rows"
report "directory" "$work/ingest.dir" "$work/export.dir" "$bytes" "evtxexport -f xml (each file)"
if [ "$dozip" = 1 ]; then
	echo "zip: corpus.zip $((zbytes / 1000)) kB; rows after one ingest: $zrows"
	report "zip archive" "$work/ingest.zip" "$work/export.zip" "$bytes" "unzip + evtxexport -f xml"
fi
echo "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
