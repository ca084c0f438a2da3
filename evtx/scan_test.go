package evtx_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx"
)

// Corpus files used to build unit-test inputs (counts from manifest.tsv / libevtx).
const (
	smallSysmon = "JayanthK007+atomic-evtx/ttp_evtx/T1021.002-1/T1021.002-1_Microsoft-Windows-Sysmon_Operational.evtx" // 1 chunk, 47 records, 24 EID 1
	dirtySysmon = "omerbenamram+evtx/samples/sysmon.evtx"                                                              // header says 1 chunk, holds 9; 358 records
)

func corpusBytes(t *testing.T, rel string) []byte {
	t.Helper()
	root, _ := readManifest(t)
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collect runs Scan and returns the FileStats by path (path:member for zips)
// and the delivered records.
func collect(t *testing.T, inputs []string, opt evtx.Options) (map[string]evtx.FileStats, []*evtx.Record) {
	t.Helper()
	stats := map[string]evtx.FileStats{}
	var recs []*evtx.Record
	err := evtx.Scan(context.Background(), inputs, opt, evtx.Handler{
		Record: func(r *evtx.Record) error { recs = append(recs, r); return nil },
		FileDone: func(st evtx.FileStats) error {
			key := st.Path
			if st.Member != "" {
				key += ":" + st.Member
			}
			if _, dup := stats[key]; dup {
				t.Errorf("%s: FileDone twice", key)
			}
			stats[key] = st
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return stats, recs
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScanOddFiles covers damaged and foreign inputs built from corpus bytes.
func TestScanOddFiles(t *testing.T) {
	small := corpusBytes(t, smallSysmon)
	dirty := corpusBytes(t, dirtySysmon)
	zeroed := append([]byte(nil), dirty...)
	clear(zeroed[4096+65536 : 4096+2*65536]) // chunk 1 zero-filled

	tests := []struct {
		name    string
		data    []byte
		status  string
		err     error
		chunks  int
		records func(int) bool
		failure string
	}{
		{name: "intact.evtx", data: small, status: evtx.StatusOK, chunks: 1, records: func(n int) bool { return n == 47 }},
		{name: "renamed.evtx_data", data: small, status: evtx.StatusOK, chunks: 1, records: func(n int) bool { return n == 47 }},
		{name: "dirty-header.evtx", data: dirty, status: evtx.StatusOK, chunks: 9, records: func(n int) bool { return n == 358 }},
		{name: "truncated.evtx", data: dirty[:4096+2*65536+30000], status: evtx.StatusPartial, chunks: 3,
			records: func(n int) bool { return n > 0 && n < 358 }, failure: "truncated chunk"},
		{name: "zero-chunk.evtx", data: zeroed, status: evtx.StatusOK, chunks: 8, records: func(n int) bool { return n > 0 && n < 358 }},
		{name: "header-only.evtx", data: small[:4096], status: evtx.StatusOK, chunks: 0, records: func(n int) bool { return n == 0 }},
		{name: "short-header.evtx", data: small[:100], status: evtx.StatusFailed, err: evtx.ErrTruncated, records: func(n int) bool { return n == 0 }},
		{name: "notes.txt", data: []byte("not an event log\n"), status: evtx.StatusSkipped, err: evtx.ErrNotEVTX, records: func(n int) bool { return n == 0 }},
		{name: "empty.evtx", data: nil, status: evtx.StatusSkipped, err: evtx.ErrNotEVTX, records: func(n int) bool { return n == 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, t.TempDir(), tc.name, tc.data)
			stats, recs := collect(t, []string{p}, evtx.Options{})
			st, ok := stats[p]
			if !ok || len(stats) != 1 {
				t.Fatalf("FileDone: %v", stats)
			}
			if st.Status != tc.status {
				t.Errorf("status %q (%s), want %q", st.Status, st.Reason, tc.status)
			}
			if tc.err != nil && !errors.Is(st.Err, tc.err) {
				t.Errorf("err %v, want %v", st.Err, tc.err)
			}
			if tc.err == nil && st.Err != nil {
				t.Errorf("unexpected err %v", st.Err)
			}
			if st.Chunks != tc.chunks {
				t.Errorf("chunks %d, want %d", st.Chunks, tc.chunks)
			}
			if !tc.records(st.Records) || len(recs) != st.Wanted+st.WantedRecovered {
				t.Errorf("records %d (delivered %d, wanted %d+%d)", st.Records, len(recs), st.Wanted, st.WantedRecovered)
			}
			if tc.failure != "" && st.Failures[tc.failure] == 0 {
				t.Errorf("failures %v lack %q", st.Failures, tc.failure)
			}
			if st.Bytes != int64(len(tc.data)) {
				t.Errorf("bytes %d, want %d", st.Bytes, len(tc.data))
			}
		})
	}
}

// TestZeroChunkLosesOnlyThatChunk checks that zeroing one chunk removes
// exactly the records that chunk held.
func TestZeroChunkLosesOnlyThatChunk(t *testing.T) {
	dirty := corpusBytes(t, dirtySysmon)
	_, st := evtx.DecodeChunk(dirty[4096+65536:4096+2*65536], evtx.Options{})
	zeroed := append([]byte(nil), dirty...)
	clear(zeroed[4096+65536 : 4096+2*65536])
	p := write(t, t.TempDir(), "z.evtx", zeroed)
	stats, _ := collect(t, []string{p}, evtx.Options{})
	if got, want := stats[p].Records, 358-st.Records; got != want || st.Records == 0 {
		t.Errorf("records %d, want 358-%d", got, st.Records)
	}
}

type member struct {
	name   string
	data   []byte
	method uint16
}

func writeZip(t *testing.T, path string, ms []member) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Dir(path), filepath.Base(path), buf.Bytes())
}

// TestZipMembers reads members in place and refuses traversal paths and bombs.
func TestZipMembers(t *testing.T) {
	small := corpusBytes(t, smallSysmon)
	dir := t.TempDir()
	zp := filepath.Join(dir, "collection.zip")
	writeZip(t, zp, []member{
		{"C/Windows/System32/winevt/Logs/Sysmon.evtx_data", small, zip.Deflate},
		{"stored/Sysmon.evtx", small, zip.Store},
		{"../escape.evtx", small, zip.Deflate},
		{"/abs.evtx", small, zip.Deflate},
		{`a\..\..\win.evtx`, small, zip.Deflate},
		{"readme.txt", []byte("KAPE collection"), zip.Deflate},
		{"bomb.evtx", make([]byte, 20<<20), zip.Deflate},
	})
	stats, recs := collect(t, []string{dir}, evtx.Options{})
	want := map[string]struct {
		status string
		err    error
	}{
		"C/Windows/System32/winevt/Logs/Sysmon.evtx_data": {evtx.StatusOK, nil},
		"stored/Sysmon.evtx":                              {evtx.StatusOK, nil},
		"../escape.evtx":                                  {evtx.StatusFailed, evtx.ErrZipMember},
		"/abs.evtx":                                       {evtx.StatusFailed, evtx.ErrZipMember},
		`a\..\..\win.evtx`:                                {evtx.StatusFailed, evtx.ErrZipMember},
		"readme.txt":                                      {evtx.StatusSkipped, evtx.ErrNotEVTX},
		"bomb.evtx":                                       {evtx.StatusFailed, evtx.ErrZipBomb},
	}
	if len(stats) != len(want) {
		t.Errorf("%d FileDone calls, want %d: %v", len(stats), len(want), stats)
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			st, ok := stats[zp+":"+name]
			if !ok {
				t.Fatal("no FileDone")
			}
			if st.Status != w.status || (w.err != nil && !errors.Is(st.Err, w.err)) {
				t.Errorf("status %q err %v, want %q %v", st.Status, st.Err, w.status, w.err)
			}
			if w.status == evtx.StatusOK && (st.Records != 47 || st.SHA256 != sha(small)) {
				t.Errorf("records %d sha %s", st.Records, st.SHA256)
			}
		})
	}
	if len(recs) != 2*47+2*stats[zp+":stored/Sysmon.evtx"].WantedRecovered {
		t.Errorf("%d records delivered", len(recs))
	}
	for _, r := range recs {
		if r.Source.Path != zp || r.Source.Member == "" || r.Source.SHA256 != sha(small) {
			t.Fatalf("record source %+v", *r.Source)
		}
	}
}

// TestZipMemberCap applies a small MaxZipMember.
func TestZipMemberCap(t *testing.T) {
	small := corpusBytes(t, smallSysmon)
	zp := filepath.Join(t.TempDir(), "c.zip")
	writeZip(t, zp, []member{{"Sysmon.evtx", small, zip.Deflate}})
	stats, recs := collect(t, []string{zp}, evtx.Options{MaxZipMember: 4096})
	st := stats[zp+":Sysmon.evtx"]
	if st.Status != evtx.StatusFailed || !errors.Is(st.Err, evtx.ErrZipBomb) || len(recs) != 0 {
		t.Errorf("status %q err %v records %d", st.Status, st.Err, len(recs))
	}
	if !strings.Contains(st.Reason, "4096") {
		t.Errorf("reason %q does not give the cap", st.Reason)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
