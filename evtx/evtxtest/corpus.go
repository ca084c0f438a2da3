package evtxtest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ManifestRow is one line of ../shared/corpus/manifest.tsv: libevtx's counts
// for one corpus file.
type ManifestRow struct {
	// Path is relative to the corpus's evtx directory, with slashes.
	Path, SHA256 string
	// Bytes and Records (live records per evtxinfo).
	Bytes, Records int64
	// Sysmon1 and Sec4688 are the live Sysmon EID 1 and Security 4688 records
	// in evtxexport -f xml; -1 where libevtx aborts on the file ("NA").
	Sysmon1, Sec4688 int64
	// Notes is the free-text notes column.
	Notes string
}

// Manifest reads the corpus manifest and returns the corpus's evtx
// directory and its rows, in file order.
func Manifest(t testing.TB) (evtxDir string, rows []ManifestRow) {
	t.Helper()
	dir := filepath.Join(SharedDir(t), "corpus")
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	num := func(s string) int64 {
		if s == "NA" {
			return -1
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("manifest: number %q: %v", s, err)
		}
		return n
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 8 {
			t.Fatalf("manifest: short row %q", sc.Text())
		}
		rows = append(rows, ManifestRow{Path: c[0], SHA256: c[1], Bytes: num(c[2]), Records: num(c[3]),
			Sysmon1: num(c[4]), Sec4688: num(c[5]), Notes: c[7]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("manifest: no rows")
	}
	return filepath.Join(dir, "evtx"), rows
}

// OracleRecord is one line of ../shared/corpus/oracle.jsonl: a Sysmon EID 1
// or Security 4688 record as libevtx's evtxexport -f xml decoded it (XML
// entities decoded).
type OracleRecord struct {
	Path     string            `json:"path"`
	RecordID uint64            `json:"record_id"`
	Time     string            `json:"time"`
	Computer string            `json:"computer"`
	Provider string            `json:"provider"`
	EID      int               `json:"eid"`
	Version  int               `json:"version"`
	Data     map[string]string `json:"data"`
}

// Oracle reads every record of the corpus oracle.
func Oracle(t testing.TB) []OracleRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(SharedDir(t), "corpus", "oracle.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []OracleRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r OracleRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("oracle: %v", err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("oracle: no records")
	}
	return out
}
