package evtxtest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
)

// scanFile reads path with our reader (package evtx) and returns its
// records in delivery order and the file's accounting.
func scanFile(t *testing.T, path string) ([]*evtx.Record, evtx.FileStats) {
	t.Helper()
	var recs []*evtx.Record
	var stats []evtx.FileStats
	err := evtx.Scan(context.Background(), []string{path}, evtx.Options{}, evtx.Handler{
		Record:   func(r *evtx.Record) error { recs = append(recs, r); return nil },
		FileDone: func(st evtx.FileStats) error { stats = append(stats, st); return nil },
	})
	if err != nil {
		t.Fatalf("evtx.Scan %s: %v", path, err)
	}
	if len(stats) != 1 {
		t.Fatalf("evtx.Scan %s: FileDone called %d times, want once", path, len(stats))
	}
	return recs, stats[0]
}

// diffRecord compares one record of our reader with the input, field by
// field, on the fields evtx.Record carries.
func diffRecord(w want, r *evtx.Record, recovered bool) []string {
	var d []string
	cmp := func(field string, got, want any) {
		if got != want {
			d = append(d, fmt.Sprintf("%s = %q, want %q", field, fmt.Sprint(got), fmt.Sprint(want)))
		}
	}
	cmp("RecordID", r.RecordID, w.id)
	cmp("Time", r.Time.Format(time.RFC3339Nano), w.Time.UTC().Truncate(100*time.Nanosecond).Format(time.RFC3339Nano))
	cmp("Time.Location", r.Time.Location(), time.UTC)
	cmp("Channel", r.Channel, w.Channel)
	cmp("Provider", r.Provider, w.Provider)
	cmp("Computer", r.Computer, w.Computer)
	cmp("EventID", r.EventID, w.EventID)
	cmp("Version", r.Version, w.Version)
	cmp("Recovered", r.Recovered, recovered)
	if len(r.Data) != len(w.Data) {
		d = append(d, fmt.Sprintf("%d Data fields, want %d", len(r.Data), len(w.Data)))
	}
	for _, f := range w.Data {
		v, ok := r.Data[f.Name]
		if !ok {
			d = append(d, fmt.Sprintf("Data %s missing", f.Name))
			continue
		}
		cmp("Data "+f.Name, v, f.Value)
	}
	return d
}

// checkRecords asserts that the reader delivered exactly the wanted live
// records followed by the wanted recovered ones.
func checkRecords(t *testing.T, recs []*evtx.Record, live, recovered []want) {
	t.Helper()
	var gotLive, gotRec []*evtx.Record
	for _, r := range recs {
		if r.Recovered {
			gotRec = append(gotRec, r)
		} else {
			gotLive = append(gotLive, r)
		}
	}
	for _, part := range []struct {
		kind string
		got  []*evtx.Record
		want []want
	}{{"live", gotLive, live}, {"recovered", gotRec, recovered}} {
		if len(part.got) != len(part.want) {
			t.Errorf("reader delivered %d %s records, want %d", len(part.got), part.kind, len(part.want))
		}
		for i := 0; i < len(part.got) && i < len(part.want); i++ {
			for _, d := range diffRecord(part.want[i], part.got[i], part.kind == "recovered") {
				t.Errorf("reader %s record %d: %s", part.kind, part.want[i].id, short(d))
			}
		}
	}
}

// TestWriteReaderRoundTrip reads every clean round-trip case with our
// reader; together with TestWriteEvtxexportRoundTrip this shows that both
// readers agree with the input, and so with each other.
func TestWriteReaderRoundTrip(t *testing.T) {
	cases := roundTripCases()
	// Values evtxexport 20181227 mishandles (see propString and
	// TestWriteAstralPlane) are checked with our reader only.
	quirky := fxSysmon1(0, "WS01", "emoji 😀 and 𝄞")
	quirky.Data = append(quirky.Data,
		evtxtest.Field{Name: "Lt", Value: "<"},
		evtxtest.Field{Name: "Gt", Value: ">"},
		evtxtest.Field{Name: "Amp", Value: "&"},
		evtxtest.Field{Name: "Newline", Value: "\n"},
	)
	cases = append(cases, roundTripCase{name: "evtxexport-quirks", events: []evtxtest.Event{quirky}, chunks: 1})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".evtx")
			if err := evtxtest.WriteFile(path, tc.events, tc.opt); err != nil {
				t.Fatal(err)
			}
			recs, st := scanFile(t, path)
			checkRecords(t, recs, withIDs(tc.events, 1), nil)
			chunks := len(parseFile(t, path).chunks)
			if st.Chunks != chunks || st.HeaderChunks != chunks || st.ChunksBad != 0 {
				t.Errorf("FileStats chunks=%d header=%d bad=%d, want %d, %d, 0", st.Chunks, st.HeaderChunks, st.ChunksBad, chunks, chunks)
			}
			if st.Records != len(tc.events) || st.RecordsFailed != 0 || st.RecordsRecovered != 0 {
				t.Errorf("FileStats records=%d failed=%d recovered=%d, want %d, 0, 0", st.Records, st.RecordsFailed, st.RecordsRecovered, len(tc.events))
			}
			if st.Status != evtx.StatusOK {
				t.Errorf("FileStats status %q (%s), want %q", st.Status, st.Reason, evtx.StatusOK)
			}
		})
	}
}

// TestWriteReaderProperties reads the random files of TestWriteProperties
// (same seeds) with our reader.
func TestWriteReaderProperties(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	if testing.Short() {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x5eed))
			evs := propEvents(r, 1+r.IntN(300))
			var opt evtxtest.Options
			if r.IntN(3) == 0 {
				opt.MaxRecordsPerChunk = 1 + r.IntN(40)
			}
			path := filepath.Join(t.TempDir(), "prop.evtx")
			if err := evtxtest.WriteFile(path, evs, opt); err != nil {
				t.Fatal(err)
			}
			recs, st := scanFile(t, path)
			checkRecords(t, recs, withIDs(evs, 1), nil)
			if st.Records != len(evs) || st.RecordsFailed != 0 || st.ChunksBad != 0 {
				t.Errorf("FileStats records=%d failed=%d bad chunks=%d, want %d, 0, 0", st.Records, st.RecordsFailed, st.ChunksBad, len(evs))
			}
		})
	}
}

// TestWriteDamagedReader reads each damaged file with our reader and checks
// its accounting: a stale header count still reads every chunk; a bad
// checksum is counted in ChunksBad while the records are still decoded; a
// truncated chunk makes the file partial; slack records come back as
// Recovered.
func TestWriteDamagedReader(t *testing.T) {
	for _, tc := range damageCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".evtx")
			if err := evtxtest.WriteFile(path, tc.events, tc.opt); err != nil {
				t.Fatal(err)
			}
			f := parseFile(t, path)
			recs, st := scanFile(t, path)
			live := tc.live
			if tc.complete != nil {
				n := 0
				for _, r := range recs {
					if !r.Recovered {
						n++
					}
				}
				if n < len(tc.live) || n > len(tc.complete) {
					t.Errorf("reader delivered %d live records of a truncated file, want %d to %d", n, len(tc.live), len(tc.complete))
				}
				live = tc.complete[:min(n, len(tc.complete))]
			}
			checkRecords(t, recs, live, tc.recovered)
			if st.Records != len(live) || st.RecordsRecovered != len(tc.recovered) {
				t.Errorf("FileStats records=%d recovered=%d, want %d and %d", st.Records, st.RecordsRecovered, len(live), len(tc.recovered))
			}
			if st.HeaderChunks != f.chunkCount {
				t.Errorf("FileStats HeaderChunks=%d, the header claims %d", st.HeaderChunks, f.chunkCount)
			}
			bad := len(tc.opt.BadHeaderCRC)
			for _, i := range tc.opt.BadDataCRC {
				if !hasInt(tc.opt.BadHeaderCRC, i) {
					bad++
				}
			}
			switch {
			case tc.opt.TruncateBytes > 0:
				// The truncated chunk cannot be decoded: it is either bad or
				// failed, and the file is partial.
				if st.Status != evtx.StatusPartial {
					t.Errorf("FileStats status %q, want %q for a truncated file", st.Status, evtx.StatusPartial)
				}
				if st.Chunks < len(f.chunks)-1 {
					t.Errorf("FileStats Chunks=%d, want at least the %d complete chunks", st.Chunks, len(f.chunks)-1)
				}
			default:
				if st.Chunks != len(f.chunks) || st.ChunksBad != bad {
					t.Errorf("FileStats chunks=%d bad=%d, want %d and %d", st.Chunks, st.ChunksBad, len(f.chunks), bad)
				}
			}
		})
	}
}

func hasInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
