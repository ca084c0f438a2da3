#!/usr/bin/env bash
# bench-bulk.sh: ingest a large synthetic EVTX collection and measure
# throughput and memory (issue 8, target: peak RSS <= 256 MiB).
#
#   cmd/evtxhunt/bench/bench-bulk.sh
#
# Environment:
#   BULK_DIR=/tmp/evtxhunt-bulk  the collection; generated when missing with
#                                the project's EVTX writer (genbulk: Sysmon and
#                                Security logs, ~10 % Sysmon Event ID 1), into
#                                BULK_DIR.partial then renamed, so an
#                                interrupted generation is never taken as done
#   BULK_MIB=2048                size of a generated collection, MiB
#   BULK_FILE_MIB=64             size of one generated file, MiB
#   EXPORT_FILES=2               files given to evtxexport for scale (0: skip)
#   INGEST_ARGS=                 extra ingest flags, e.g. --no-ancestry to see
#                                what the ancestry rebuild adds
# Steps: build evtxhunt (not timed), read the collection once to warm the
# page cache, then `/usr/bin/time -v evtxhunt ingest --quiet --db DB BULK_DIR`
# into a fresh database. Reported: wall time, MB/s (input bytes / wall),
# the cores used ((user + sys) / wall), MB/s per core (input / (user + sys)),
# peak RSS (and an RSS sample every second, to see in which phase it peaks),
# rows stored, database size; and the same for `evtxexport -f xml`
# over the first EXPORT_FILES files, one after the other.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
bulk=${BULK_DIR:-/tmp/evtxhunt-bulk}
mib=${BULK_MIB:-2048}
filemib=${BULK_FILE_MIB:-64}
nexport=${EXPORT_FILES:-2}

if [ ! -d "$bulk" ]; then
	echo "bench-bulk: generating $mib MiB into $bulk (genbulk -file $filemib)"
	rm -rf "$bulk.partial"
	t0=$(date +%s)
	(cd "$repo" && go run ./evtx/evtxtest/internal/genbulk -out "$bulk.partial" -size "$mib" -file "$filemib")
	mv "$bulk.partial" "$bulk"
	echo "bench-bulk: generated in $(($(date +%s) - t0)) s"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/evtxhunt-bench-bulk.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$repo" && go build -o "$work/evtxhunt" ./cmd/evtxhunt)

mapfile -d '' files < <(find "$bulk" -type f -print0 | sort -z)
bytes=$(find "$bulk" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')
echo "evtxhunt $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?'); collection $bulk: ${#files[@]} files, $((bytes / 1000000)) MB"
cat "${files[@]}" >/dev/null # warm the page cache
echo "before: nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# field FILE NAME: a value of /usr/bin/time -v output.
field() { awk -F': ' -v k="$2" '$1 ~ k {print $2}' "$1" | head -1; }
# seconds H:MM:SS.ss|M:SS.ss: the elapsed time in seconds.
seconds() { awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}' <<<"$1"; }

# summary LABEL BYTES TIMEFILE: wall, MB/s, cores, MB/s per core, peak RSS.
summary() {
	local wall user sys rss
	wall=$(seconds "$(field "$3" 'Elapsed \\(wall clock\\) time')")
	user=$(field "$3" 'User time')
	sys=$(field "$3" 'System time')
	rss=$(field "$3" 'Maximum resident set size')
	awk -v label="$1" -v b="$2" -v w="$wall" -v u="$user" -v s="$sys" -v rss="$rss" 'BEGIN {
		mb = b / 1e6; cpu = u + s
		printf "%-26s %8.1f MB  wall %7.2f s  %6.1f MB/s  cpu %7.2f s (user %.2f, sys %.2f)  cores used %.2f  %6.1f MB/s per core  peak RSS %.1f MiB\n",
			label, mb, w, mb / w, cpu, u, s, cpu / w, mb / cpu, rss / 1024
	}'
}

st=0
read -r -a extra <<<"${INGEST_ARGS:-}"
echo "+ /usr/bin/time -v evtxhunt ingest --quiet ${extra[*]} --db DB $bulk"
/usr/bin/time -v -o "$work/ingest.time" "$work/evtxhunt" ingest --quiet "${extra[@]}" --db "$work/bulk.db" "$bulk" >"$work/ingest.out" 2>"$work/ingest.err" &
tpid=$!
# Sample the RSS of evtxhunt (the child of time) every second: "seconds KiB".
t0=$(date +%s)
while kill -0 "$tpid" 2>/dev/null; do
	for c in $(pgrep -P "$tpid"); do
		echo "$(($(date +%s) - t0)) $(awk '/^VmRSS/ {print $2}' "/proc/$c/status" 2>/dev/null)"
	done
	sleep 1
done >"$work/rss"
wait "$tpid" || st=$?
if [ "$st" != 0 ]; then
	echo "bench-bulk: evtxhunt ingest exited $st:" >&2
	cat "$work/ingest.err" >&2
fi
summary "evtxhunt ingest (exit $st)" "$bytes" "$work/ingest.time"
sed 's/^/  | /' "$work/ingest.out"
rss=$(field "$work/ingest.time" 'Maximum resident set size')
awk -v rss="$rss" 'BEGIN { printf "  peak RSS target <= 256 MiB: %s (%.1f MiB)\n", (rss / 1024 <= 256) ? "met" : "MISSED", rss / 1024 }'
awk 'NF == 2 { if ($2 > m) { m = $2; at = $1 } last = $1; line = line sprintf(" %d:%d", $1, $2 / 1024) }
	NR % 10 == 0 { print "  RSS (s:MiB)" line; line = "" }
	END { if (line != "") print "  RSS (s:MiB)" line; printf "  sampled peak %.1f MiB at %d s of %d s\n", m / 1024, at, last }' "$work/rss"
rows=$(sqlite3 "$work/bulk.db" 'SELECT count(*) FROM xdr_data' 2>/dev/null || echo '?')
dbsize=$(du -cb "$work"/bulk.db* | tail -1 | cut -f1)
echo "  rows in xdr_data: $rows; database (with -wal/-shm): $((dbsize / 1000000)) MB"

if [ "$nexport" -gt 0 ]; then
	sub=("${files[@]:0:nexport}")
	sbytes=$(stat -c %s "${sub[@]}" | awk '{s += $1} END {printf "%.0f\n", s}')
	export_all() {
		local f
		for f in "$@"; do evtxexport -f xml "$f" >/dev/null 2>&1 || echo "evtxexport $f: exit $?" >&2; done
	}
	export -f export_all
	/usr/bin/time -v -o "$work/export.time" bash -c 'export_all "$@"' _ "${sub[@]}"
	summary "evtxexport -f xml (${#sub[@]} files)" "$sbytes" "$work/export.time"
fi
echo "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
