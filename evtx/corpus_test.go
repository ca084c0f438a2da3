package evtx_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
)

// manifestRow is one line of corpus/manifest.tsv (libevtx's counts).
type manifestRow struct {
	path                    string
	sha256                  string
	bytes                   int64
	records                 int
	sysmon1, sec4688        int // -1: NA
	notes                   string
	slackEID1, slackSec4688 int // -1: not given
}

// readManifest reads the shared manifest (evtxtest.Manifest) and the slack
// process-record counts its notes give.
func readManifest(t *testing.T) (string, []manifestRow) {
	t.Helper()
	root, shared := evtxtest.Manifest(t)
	rows := make([]manifestRow, 0, len(shared))
	for _, m := range shared {
		r := manifestRow{path: m.Path, sha256: m.SHA256, bytes: m.Bytes, records: int(m.Records),
			sysmon1: int(m.Sysmon1), sec4688: int(m.Sec4688), notes: m.Notes, slackEID1: -1, slackSec4688: -1}
		if i := strings.Index(r.notes, "slack_process_records(EID1="); i >= 0 {
			var a, b int
			if _, err := fmt.Sscanf(r.notes[i:], "slack_process_records(EID1=%d,4688=%d)", &a, &b); err == nil {
				r.slackEID1, r.slackSec4688 = a, b
			}
		}
		rows = append(rows, r)
	}
	return root, rows
}

const (
	sysmonChannel   = "Microsoft-Windows-Sysmon/Operational"
	securityChannel = "Security"
)

// huntWants is the set evtxhunt asks for.
var huntWants = []evtx.Want{
	{Channel: sysmonChannel, EventID: 1}, {Channel: sysmonChannel, EventID: 5},
	{Channel: securityChannel, EventID: 4688}, {Channel: securityChannel, EventID: 4689},
}

type fileResult struct {
	stats                   evtx.FileStats
	eid1, sec4688           int
	slackEID1, slackSec4688 int
	records                 []*evtx.Record
}

func isProc(r *evtx.Record) (eid1, sec4688 bool) {
	return strings.EqualFold(r.Channel, sysmonChannel) && r.EventID == 1,
		strings.EqualFold(r.Channel, securityChannel) && r.EventID == 4688
}

// scanCorpus scans the corpus directory once and groups results by relative path.
func scanCorpus(t *testing.T, root string, opt evtx.Options, keep bool) map[string]*fileResult {
	t.Helper()
	out := map[string]*fileResult{}
	get := func(path string) *fileResult {
		rel, err := filepath.Rel(root, path)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if out[rel] == nil {
			out[rel] = &fileResult{}
		}
		return out[rel]
	}
	h := evtx.Handler{
		Record: func(r *evtx.Record) error {
			fr := get(r.Source.Path)
			e1, s4 := isProc(r)
			switch {
			case e1 && r.Recovered:
				fr.slackEID1++
			case s4 && r.Recovered:
				fr.slackSec4688++
			case e1:
				fr.eid1++
			case s4:
				fr.sec4688++
			}
			if keep {
				fr.records = append(fr.records, r)
			}
			return nil
		},
		FileDone: func(st evtx.FileStats) error {
			fr := get(st.Path)
			if fr.stats.Status != "" {
				t.Errorf("%s: FileDone called twice", st.Path)
			}
			fr.stats = st
			return nil
		},
	}
	if err := evtx.Scan(context.Background(), []string{root}, opt, h); err != nil {
		t.Fatal(err)
	}
	return out
}

var fullScan struct {
	once sync.Once
	res  map[string]*fileResult
}

// scanAll decodes every record of the corpus once for all tests that need it.
func scanAll(t *testing.T, root string) map[string]*fileResult {
	t.Helper()
	fullScan.once.Do(func() { fullScan.res = scanCorpus(t, root, evtx.Options{}, true) })
	if fullScan.res == nil {
		t.Fatal("full corpus scan failed")
	}
	return fullScan.res
}

// TestCorpusCountsMatchLibevtx compares live record, Sysmon EID 1 and 4688
// counts and the file hash with libevtx's figures in the manifest, and
// checks that slack records never leak into the live counts.
func TestCorpusCountsMatchLibevtx(t *testing.T) {
	root, rows := readManifest(t)
	all := scanAll(t, root)
	if len(all) != len(rows) {
		t.Errorf("scanned %d files, manifest has %d", len(all), len(rows))
	}
	for _, row := range rows {
		t.Run(row.path, func(t *testing.T) {
			fr := all[row.path]
			if fr == nil {
				t.Fatal("file not reported")
			}
			st := fr.stats
			t.Logf("status=%s chunks=%d bad=%d hdr=%d records=%d failed=%d recovered=%d notchunk=%d failures=%v",
				st.Status, st.Chunks, st.ChunksBad, st.HeaderChunks, st.Records, st.RecordsFailed, st.RecordsRecovered, st.SlotsNotChunk, st.Failures)
			if st.SHA256 != row.sha256 {
				t.Errorf("sha256 %s, want %s", st.SHA256, row.sha256)
			}
			if st.Bytes != row.bytes {
				t.Errorf("bytes %d, want %d", st.Bytes, row.bytes)
			}
			if st.Records != row.records {
				t.Errorf("live records %d, libevtx %d", st.Records, row.records)
			}
			if row.sysmon1 >= 0 && fr.eid1 != row.sysmon1 {
				t.Errorf("live Sysmon EID 1: %d, libevtx %d", fr.eid1, row.sysmon1)
			}
			if row.sec4688 >= 0 && fr.sec4688 != row.sec4688 {
				t.Errorf("live 4688: %d, libevtx %d", fr.sec4688, row.sec4688)
			}
			if row.slackEID1 >= 0 && (fr.slackEID1 != row.slackEID1 || fr.slackSec4688 != row.slackSec4688) {
				t.Errorf("slack EID1/4688 = %d/%d, libevtx %d/%d", fr.slackEID1, fr.slackSec4688, row.slackEID1, row.slackSec4688)
			}
			// libevtx's "recovered=N(exportable M)": slack headers found and decodable.
			var rec, exp int
			if i := strings.Index(row.notes, "recovered="); i >= 0 {
				if _, err := fmt.Sscanf(row.notes[i:], "recovered=%d(exportable %d)", &rec, &exp); err != nil {
					t.Fatalf("notes %q: %v", row.notes, err)
				}
			}
			decoded := st.RecordsRecovered - st.RecoveredFailed
			switch {
			case st.SlotsNotChunk == 0 && st.RecordsRecovered != rec:
				t.Errorf("slack records %d, libevtx %d", st.RecordsRecovered, rec)
			case st.RecordsRecovered > rec:
				// libevtx also carves slots without the chunk magic; this reader does not.
				t.Errorf("slack records %d, more than libevtx's %d", st.RecordsRecovered, rec)
			case decoded < exp:
				t.Errorf("decoded slack records %d, libevtx exported %d", decoded, exp)
			}
			if st.Wanted != st.Records {
				t.Errorf("no filter: wanted %d != records %d", st.Wanted, st.Records)
			}
		})
	}
}

// sameValue compares a field by value: libevtx writes GUIDs with braces and
// 64-bit hex integers zero-padded, the reader may not (corpus/README.md).
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	guid := func(s string) string {
		return strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"))
	}
	if len(guid(a)) == 36 && guid(a) == guid(b) {
		return true
	}
	hex := func(s string) (uint64, bool) {
		if !strings.HasPrefix(s, "0x") {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:], 16, 64)
		return n, err == nil
	}
	x, ok1 := hex(a)
	y, ok2 := hex(b)
	return ok1 && ok2 && x == y
}

// TestOracleRecords checks every Sysmon EID 1 and 4688 record of the oracle:
// record id, computer, provider, event id, version, time to 100 ns and every
// Data field.
func TestOracleRecords(t *testing.T) {
	root, _ := readManifest(t)
	got := scanCorpus(t, root, evtx.Options{Want: huntWants}, true)
	byID := map[string]map[uint64]*evtx.Record{}
	for path, fr := range got {
		byID[path] = map[uint64]*evtx.Record{}
		for _, r := range fr.records {
			if !r.Recovered {
				byID[path][r.RecordID] = r
			}
		}
	}
	n := 0
	for _, want := range evtxtest.Oracle(t) {
		n++
		r := byID[want.Path][want.RecordID]
		if r == nil {
			t.Errorf("%s #%d: record not delivered", want.Path, want.RecordID)
			continue
		}
		wantTime, err := time.Parse(time.RFC3339Nano, want.Time)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Time.Equal(wantTime) || r.Time.Location() != time.UTC {
			t.Errorf("%s #%d: time %s, oracle %s", want.Path, want.RecordID, r.Time.Format(time.RFC3339Nano), want.Time)
		}
		if r.Computer != want.Computer || r.Provider != want.Provider || r.EventID != want.EID || r.Version != want.Version {
			t.Errorf("%s #%d: system %q %q %d v%d, oracle %q %q %d v%d", want.Path, want.RecordID,
				r.Computer, r.Provider, r.EventID, r.Version, want.Computer, want.Provider, want.EID, want.Version)
		}
		if len(r.Data) != len(want.Data) {
			t.Errorf("%s #%d: %d Data fields, oracle %d", want.Path, want.RecordID, len(r.Data), len(want.Data))
		}
		for k, v := range want.Data {
			if g, ok := r.Data[k]; !ok || !sameValue(g, v) {
				t.Errorf("%s #%d: Data[%s] = %q, oracle %q", want.Path, want.RecordID, k, g, v)
			}
		}
	}
	if n < 2000 {
		t.Errorf("oracle has only %d records", n)
	}
	t.Logf("%d oracle records compared", n)
}
