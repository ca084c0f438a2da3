package normalize_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
	"evtxhunt/normalize"
)

// corpusDir returns ../shared/corpus/evtx.
func corpusDir(t testing.TB) string {
	return filepath.Join(evtxtest.SharedDir(t), "corpus", "evtx")
}

// openTemp opens a fresh store in a temporary directory.
func openTemp(t *testing.T, name string) *normalize.Store {
	t.Helper()
	st, err := normalize.Open(context.Background(), filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// count runs a COUNT query.
func count(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// manifestRow is one line of ../shared/corpus/manifest.tsv.
type manifestRow struct {
	sha256           string
	bytes, records   int64
	sysmon1, sec4688 int64 // -1 for NA
}

// readManifest loads the manifest (evtxtest.Manifest) keyed by relative path.
func readManifest(t *testing.T) map[string]manifestRow {
	t.Helper()
	_, rows := evtxtest.Manifest(t)
	out := map[string]manifestRow{}
	for _, m := range rows {
		out[m.Path] = manifestRow{sha256: m.SHA256, bytes: m.Bytes, records: m.Records, sysmon1: m.Sysmon1, sec4688: m.Sec4688}
	}
	return out
}

// TestIngestCorpus ingests the shared corpus through the real reader and
// checks every oracle record's row, the ingest_files accounting against the
// reader's own FileStats and the manifest, and the summary's arithmetic.
func TestIngestCorpus(t *testing.T) {
	ctx := context.Background()
	dir := corpusDir(t)
	st := openTemp(t, "corpus.db")
	sum, err := st.Ingest(ctx, []string{dir}, normalize.IngestOptions{Version: "test", Args: []string{"ingest", dir}, SkipAncestry: true})
	if err != nil {
		t.Fatal(err)
	}
	db := st.DB()

	t.Run("oracle rows", func(t *testing.T) {
		lines := readOracle(t)
		var started int64
		if err := db.QueryRow("SELECT started FROM ingest_runs WHERE run_id = ?", sum.RunID).Scan(&started); err != nil {
			t.Fatal(err)
		}
		checkOracleRows(t, db, lines, dir, started)
		starts := count(t, db, "SELECT count(*) FROM xdr_data WHERE x_event_id IN (1, 4688) AND x_recovered = 0")
		if starts != int64(len(lines)) {
			t.Errorf("%d live process-start rows, oracle has %d", starts, len(lines))
		}
	})

	t.Run("stop rows vs evtxexport", func(t *testing.T) {
		checkStopRows(t, db, dir, readManifest(t))
	})

	t.Run("ingest_files vs reader", func(t *testing.T) {
		want := map[string]evtx.FileStats{}
		err := evtx.Scan(ctx, []string{dir}, evtx.Options{Want: normalize.Wanted}, evtx.Handler{
			FileDone: func(fs evtx.FileStats) error { want[fs.Path+"!"+fs.Member] = fs; return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`SELECT path, member, sha256, bytes, header_chunks, chunks, chunks_bad, records,
			records_failed, records_recovered, wanted, wanted_recovered, process_records, status FROM ingest_files WHERE run_id = ?`, sum.RunID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		seen := 0
		for rows.Next() {
			var path, member, sha, status string
			var b, hc, c, cb, rec, rf, rr, w, wr, pr int64
			if err := rows.Scan(&path, &member, &sha, &b, &hc, &c, &cb, &rec, &rf, &rr, &w, &wr, &pr, &status); err != nil {
				t.Fatal(err)
			}
			seen++
			fs, ok := want[path+"!"+member]
			if !ok {
				t.Errorf("%s: not reported by the reader", path)
				continue
			}
			got := []int64{b, hc, c, cb, rec, rf, rr, w, wr, pr}
			exp := []int64{fs.Bytes, int64(fs.HeaderChunks), int64(fs.Chunks), int64(fs.ChunksBad), int64(fs.Records),
				int64(fs.RecordsFailed), int64(fs.RecordsRecovered), int64(fs.Wanted), int64(fs.WantedRecovered),
				int64(fs.Wanted + fs.WantedRecovered)}
			for i := range got {
				if got[i] != exp[i] {
					t.Errorf("%s: ingest_files counts %v, reader %v", path, got, exp)
					break
				}
			}
			if sha != fs.SHA256 || status != fs.Status {
				t.Errorf("%s: sha/status %s/%s, reader %s/%s", path, sha, status, fs.SHA256, fs.Status)
			}
		}
		if seen != len(want) || seen != sum.Files {
			t.Errorf("ingest_files has %d rows, reader saw %d files, summary %d", seen, len(want), sum.Files)
		}
	})

	t.Run("ingest_files vs manifest", func(t *testing.T) {
		man := readManifest(t)
		rows, err := db.Query("SELECT path, sha256, bytes, records, status FROM ingest_files WHERE run_id = ?", sum.RunID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var path, sha, status string
			var b, rec int64
			if err := rows.Scan(&path, &sha, &b, &rec, &status); err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, path)
			m, ok := man[filepath.ToSlash(rel)]
			if !ok {
				t.Errorf("%s: not in the manifest", rel)
				continue
			}
			n++
			if sha != m.sha256 || b != m.bytes {
				t.Errorf("%s: sha256/bytes %s/%d, manifest %s/%d", rel, sha, b, m.sha256, m.bytes)
			}
			// A file skipped for its channel is decoded only up to its first chunk.
			if (status != evtx.StatusSkipped && rec != m.records) || rec > m.records {
				t.Errorf("%s (%s): %d live records, manifest (evtxinfo) %d", rel, status, rec, m.records)
			}
			if m.sysmon1 >= 0 {
				live := count(t, db, `SELECT count(*) FROM xdr_data, json_each(xdr_data.x_sources) j
					WHERE x_event_id IN (1, 4688) AND json_extract(j.value, '$.path') = ?
					AND coalesce(json_extract(j.value, '$.recovered'), 0) = 0`, path)
				if live != m.sysmon1+m.sec4688 {
					t.Errorf("%s: %d live process-start rows, manifest %d+%d", rel, live, m.sysmon1, m.sec4688)
				}
			}
		}
		if n != len(man) {
			t.Errorf("%d manifest files in ingest_files, manifest has %d", n, len(man))
		}
	})

	t.Run("summary", func(t *testing.T) {
		rows := count(t, db, "SELECT count(*) FROM xdr_data")
		if sum.ProcessRows != rows {
			t.Errorf("ProcessRows %d, table has %d rows", sum.ProcessRows, rows)
		}
		if sum.ProcessRecords != sum.ProcessRows+sum.Duplicates+sum.OutOfRange+sum.MapErrors {
			t.Errorf("summary does not add up: %+v", sum)
		}
		if got := count(t, db, "SELECT sum(process_records) FROM ingest_files WHERE run_id = ?", sum.RunID); got != sum.ProcessRecords {
			t.Errorf("ingest_files process_records %d, summary %d", got, sum.ProcessRecords)
		}
		var status string
		var ended sql.NullInt64
		if err := db.QueryRow("SELECT status, ended FROM ingest_runs WHERE run_id = ?", sum.RunID).Scan(&status, &ended); err != nil {
			t.Fatal(err)
		}
		if status != "done" || !ended.Valid {
			t.Errorf("ingest_runs: status %q ended %v", status, ended)
		}
	})

	t.Run("second run adds nothing", func(t *testing.T) {
		before := count(t, db, "SELECT count(*) FROM xdr_data")
		srcBefore := count(t, db, "SELECT sum(json_array_length(x_sources)) FROM xdr_data")
		again, err := st.Ingest(ctx, []string{dir}, normalize.IngestOptions{Version: "test", SkipAncestry: true})
		if err != nil {
			t.Fatal(err)
		}
		if after := count(t, db, "SELECT count(*) FROM xdr_data"); after != before {
			t.Errorf("rows %d -> %d", before, after)
		}
		if s := count(t, db, "SELECT sum(json_array_length(x_sources)) FROM xdr_data"); s != srcBefore {
			t.Errorf("x_sources entries %d -> %d", srcBefore, s)
		}
		if again.ProcessRows != 0 || again.Duplicates != sum.ProcessRecords || again.ProcessRecords != sum.ProcessRecords {
			t.Errorf("second run: %+v", again)
		}
		ingested := count(t, db, "SELECT count(*) FROM ingest_files WHERE run_id = ? AND status IN ('ok', 'partial')", sum.RunID)
		if int64(again.FilesDuplicate) != ingested {
			t.Errorf("second run: %d duplicate files, first run ingested %d", again.FilesDuplicate, ingested)
		}
		if n := count(t, db, "SELECT count(*) FROM ingest_files WHERE run_id = ? AND status = 'duplicate'", again.RunID); n != ingested {
			t.Errorf("ingest_files: %d duplicate rows in run 2, want %d", n, ingested)
		}
	})
}

// copyFile copies src to dst (in a temporary directory).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// zipFile writes a zip archive at dst holding src as member.
func zipFile(t *testing.T, src, dst, member string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create(member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestIngestIdenticalCopies stores a record found in three byte-identical
// copies (two files and a zip member) once, with every copy in x_sources,
// and reports the later copies as duplicates.
func TestIngestIdenticalCopies(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(corpusDir(t), "JayanthK007+atomic-evtx", "ttp_evtx", "T1021.002-1", "T1021.002-1_Microsoft-Windows-Sysmon_Operational.evtx")
	tmp := t.TempDir()
	a := filepath.Join(tmp, "a", "Sysmon.evtx")
	b := filepath.Join(tmp, "b", "Sysmon.evtx")
	copyFile(t, src, a)
	copyFile(t, src, b)
	z := filepath.Join(tmp, "c", "collection.zip")
	zipFile(t, src, z, "C/Windows/System32/winevt/Logs/Sysmon.evtx")

	single := openTemp(t, "single.db")
	one, err := single.Ingest(ctx, []string{a}, normalize.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if one.ProcessRows == 0 {
		t.Fatal("the sample file gave no rows")
	}

	for _, tc := range []struct {
		name   string
		inputs [][]string // one Ingest call per element
	}{
		{"one run", [][]string{{tmp}}},
		{"three runs", [][]string{{a}, {b}, {z}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openTemp(t, "copies.db")
			var total normalize.IngestSummary
			for _, in := range tc.inputs {
				s, err := st.Ingest(ctx, in, normalize.IngestOptions{})
				if err != nil {
					t.Fatal(err)
				}
				total.ProcessRows += s.ProcessRows
				total.FilesDuplicate += s.FilesDuplicate
			}
			if total.ProcessRows != one.ProcessRows {
				t.Errorf("%d rows from two copies, %d from one", total.ProcessRows, one.ProcessRows)
			}
			if total.FilesDuplicate != 2 {
				t.Errorf("%d duplicate files, want 2", total.FilesDuplicate)
			}
			db := st.DB()
			for _, p := range []string{a, b} {
				n := count(t, db, `SELECT count(*) FROM xdr_data WHERE EXISTS (SELECT 1 FROM json_each(x_sources) j
					WHERE json_extract(j.value, '$.path') = ?)`, p)
				if n != one.ProcessRows {
					t.Errorf("%s is a source of %d rows, want %d", p, n, one.ProcessRows)
				}
			}
			n := count(t, db, `SELECT count(*) FROM xdr_data WHERE EXISTS (SELECT 1 FROM json_each(x_sources) j
				WHERE json_extract(j.value, '$.path') = ? AND json_extract(j.value, '$.member') = ?)`, z, "C/Windows/System32/winevt/Logs/Sysmon.evtx")
			if n != one.ProcessRows {
				t.Errorf("the zip member is a source of %d rows, want %d", n, one.ProcessRows)
			}
			if n := count(t, db, "SELECT count(*) FROM ingest_files WHERE status = 'duplicate' AND path IN (?, ?)", b, z); n != 2 {
				t.Errorf("%d duplicate ingest_files rows for the second copy and the zip, want 2", n)
			}
		})
	}
}

// TestIngestTimeWindow counts records outside --from/--to without storing
// them, and a later run without a window completes the file.
func TestIngestTimeWindow(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(corpusDir(t), "sbousseaden+EVTX-ATTACK-SAMPLES", "AutomatedTestingTools", "PanacheSysmon_vs_AtomicRedTeam01.evtx")
	full := openTemp(t, "full.db")
	all, err := full.Ingest(ctx, []string{src}, normalize.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi int64
	if err := full.DB().QueryRow("SELECT min(_time), max(_time) FROM xdr_data").Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	if lo == hi {
		t.Fatal("the sample spans no time")
	}
	mid := lo + (hi-lo)/2
	wantIn := count(t, full.DB(), "SELECT count(*) FROM xdr_data WHERE _time BETWEEN ? AND ?", lo, mid)

	st := openTemp(t, "window.db")
	part, err := st.Ingest(ctx, []string{src}, normalize.IngestOptions{From: time.UnixMilli(lo), To: time.UnixMilli(mid)})
	if err != nil {
		t.Fatal(err)
	}
	if part.ProcessRows != wantIn {
		t.Errorf("window stored %d rows, want %d", part.ProcessRows, wantIn)
	}
	if part.OutOfRange == 0 || part.ProcessRows+part.OutOfRange+part.Duplicates != part.ProcessRecords {
		t.Errorf("window summary: %+v", part)
	}
	if n := count(t, st.DB(), "SELECT count(*) FROM xdr_data WHERE _time < ? OR _time > ?", lo, mid); n != 0 {
		t.Errorf("%d rows outside the window", n)
	}
	rest, err := st.Ingest(ctx, []string{src}, normalize.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rest.FilesDuplicate != 0 || part.ProcessRows+rest.ProcessRows != all.ProcessRows {
		t.Errorf("after a windowed run, a full run added %d rows (dup files %d); want %d in total",
			rest.ProcessRows, rest.FilesDuplicate, all.ProcessRows)
	}
}

// TestInsertAfterAncestryMerge re-inserts every record of a file whose
// Sysmon 1 and 4688 rows the ancestry pass merged: the records moved to
// xdr_data_merged count as duplicates and add no row.
func TestInsertAfterAncestryMerge(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(corpusDir(t), "sbousseaden+EVTX-ATTACK-SAMPLES", "Credential Access", "tutto_malseclogon.evtx")
	st := openTemp(t, "merged.db")
	if _, err := st.Ingest(ctx, []string{src}, normalize.IngestOptions{SkipAncestry: true}); err != nil {
		t.Fatal(err)
	}
	stats, err := st.RebuildAncestry(ctx, normalize.AncestryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Merged == 0 {
		t.Fatal("the sample has no Sysmon/4688 pair to merge; the test proves nothing")
	}
	before := count(t, st.DB(), "SELECT count(*) FROM xdr_data")
	var evs []normalize.Event
	err = evtx.Scan(ctx, []string{src}, evtx.Options{Want: normalize.Wanted}, evtx.Handler{
		Record: func(r *evtx.Record) error {
			ev, err := normalize.FromRecord(r, normalize.MapOptions{})
			if err != nil {
				return err
			}
			evs = append(evs, ev)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Insert(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Duplicates != int64(len(evs)) || res.NewSources != 0 {
		t.Errorf("re-insert after merge: %+v, want %d duplicates and nothing new", res, len(evs))
	}
	if after := count(t, st.DB(), "SELECT count(*) FROM xdr_data"); after != before {
		t.Errorf("rows %d -> %d", before, after)
	}
}

// xmlEvent is the part of an evtxexport -f xml event the stop-row check reads.
type xmlEvent struct {
	Provider struct {
		Name string `xml:"Name,attr"`
	} `xml:"System>Provider"`
	EventID  int    `xml:"System>EventID"`
	RecordID uint64 `xml:"System>EventRecordID"`
	Time     struct {
		SystemTime string `xml:"SystemTime,attr"`
	} `xml:"System>TimeCreated"`
	Channel  string `xml:"System>Channel"`
	Computer string `xml:"System>Computer"`
	Data     []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"EventData>Data"`
}

// checkStopRows decodes every corpus file libevtx can read with evtxexport
// and checks each live Sysmon 5 / Security 4689 record's PROCESS_STOP row
// against values derived by hand from the XML.
func checkStopRows(t *testing.T, db *sql.DB, dir string, man map[string]manifestRow) {
	t.Helper()
	if _, err := exec.LookPath("evtxexport"); err != nil {
		t.Fatalf("evtxexport (libevtx-utils) is required: %v", err)
	}
	q := `SELECT _time, event_sub_type, action_process_image_path, action_process_image_name, action_process_os_pid,
		action_process_username, action_process_user_sid, action_process_termination_code, action_process_termination_date,
		x_process_guid FROM xdr_data WHERE x_computer = ? AND x_channel = ? AND x_record_id = ? AND x_time_100ns = ? AND x_event_id = ?`
	total := 0
	for rel, m := range man {
		if m.sysmon1 < 0 {
			continue // libevtx cannot export this file
		}
		out, err := exec.Command("evtxexport", "-f", "xml", filepath.Join(dir, filepath.FromSlash(rel))).Output()
		if err != nil {
			t.Fatalf("evtxexport %s: %v", rel, err)
		}
		// Decode event by event: other events may hold characters XML forbids.
		for _, block := range bytes.Split(out, []byte("<Event xmlns=")) {
			if !bytes.Contains(block, []byte("<EventID>5</EventID>")) && !bytes.Contains(block, []byte("<EventID>4689</EventID>")) {
				continue
			}
			var ev xmlEvent
			if err := xml.Unmarshal(append([]byte("<Event xmlns="), block...), &ev); err != nil {
				t.Fatalf("%s: evtxexport XML: %v", rel, err)
			}
			sysmon := ev.Provider.Name == "Microsoft-Windows-Sysmon" && ev.EventID == 5
			if !sysmon && !(ev.Provider.Name == "Microsoft-Windows-Security-Auditing" && ev.EventID == 4689) {
				continue
			}
			total++
			d := map[string]string{}
			for _, x := range ev.Data {
				d[x.Name] = x.Value
			}
			tc, err := time.Parse(time.RFC3339Nano, ev.Time.SystemTime)
			if err != nil {
				t.Fatalf("%s: time %q", rel, ev.Time.SystemTime)
			}
			name := fmt.Sprintf("%s#%d", filepath.Base(rel), ev.RecordID)
			var timeMs, subType, pid int64
			var path, image, user, sid, guid sql.NullString
			var code, term sql.NullInt64
			err = db.QueryRow(q, ev.Computer, ev.Channel, ev.RecordID, tc.UnixNano()/100, ev.EventID).Scan(
				&timeMs, &subType, &path, &image, &pid, &user, &sid, &code, &term, &guid)
			if err != nil {
				t.Errorf("%s: stop row: %v", name, err)
				continue
			}
			wantMs, wantPath, wantUser, wantSID := tc.UnixMilli(), d["ProcessName"], "", ""
			var wantCode sql.NullInt64
			if sysmon {
				ut, err := time.Parse("2006-01-02 15:04:05.000", d["UtcTime"])
				if err != nil {
					t.Fatalf("%s: UtcTime %q", name, d["UtcTime"])
				}
				wantMs, wantPath, wantUser, wantSID = ut.UnixMilli(), d["Image"], d["User"], sidOf(d["User"])
				if guidValue(guid.String) != guidValue(d["ProcessGuid"]) {
					t.Errorf("%s: x_process_guid %q, record %q", name, guid.String, d["ProcessGuid"])
				}
			} else {
				wantUser, wantSID = acct(d["SubjectUserSid"], d["SubjectDomainName"], d["SubjectUserName"]), d["SubjectUserSid"]
				wantCode = sql.NullInt64{Int64: hexOrDec(t, d["Status"]), Valid: true}
				if strings.HasPrefix(wantPath, `\Device\Mup\`) {
					wantPath = `\\` + strings.TrimPrefix(wantPath, `\Device\Mup\`)
				}
			}
			got := []any{timeMs, subType, path.String, image.String, pid, user.String, sid.String, code, term.Int64}
			want := []any{wantMs, int64(2), wantPath, wantPath[strings.LastIndex(wantPath, `\`)+1:],
				hexOrDec(t, d["ProcessId"]), wantUser, wantSID, wantCode, wantMs}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: stop row %v, want %v", name, got, want)
			}
		}
	}
	live := count(t, db, `SELECT count(*) FROM xdr_data WHERE event_sub_type = 2 AND EXISTS (SELECT 1 FROM json_each(x_sources) j
		WHERE NOT coalesce(json_extract(j.value, '$.recovered'), 0))`)
	if total == 0 || live != int64(total) {
		t.Errorf("%d live PROCESS_STOP rows, evtxexport shows %d stop records", live, total)
	}
}
