package evtxtest_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"

	"evtxhunt/evtx/evtxtest"
)

// This file holds a small EVTX structure checker written from the libyal
// "Windows XML Event Log (EVTX) format" description, independently of the
// writer's code. It is validated on real Windows files from the shared
// corpus (TestLayoutCheckerOnCorpus) before it is trusted on the writer's
// output.

// pFile is what the checker found in a file.
type pFile struct {
	size        int
	headerOK    bool // ElfFile magic and header CRC32
	chunkCount  int  // claimed by the header
	lastChunk   uint64
	nextID      uint64
	flags       uint32
	chunks      []pChunk
	headerBytes []byte
}

// pChunk is one chunk slot.
type pChunk struct {
	index       int
	truncated   bool // the file ends inside the chunk
	magicOK     bool
	headerCRCOK bool
	dataCRCOK   bool
	firstID     uint64
	lastID      uint64
	lastOff     uint32
	freeOff     uint32
	records     []pRecord // walked from 0x200 through lastOff
	slack       []pRecord // record headers found after freeOff
	names       []pName   // from the 64 string-table chains
	templates   []uint32  // from the 32 template-table chains
	problems    []string
}

// pRecord is one event record header.
type pRecord struct {
	off  uint32
	size uint32
	id   uint64
}

// pName is one string-table entry.
type pName struct {
	off    uint32
	bucket int
	hash   uint16
	text   string
}

func parseFile(t *testing.T, path string) *pFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseBytes(b)
}

func parseBytes(b []byte) *pFile {
	le := binary.LittleEndian
	f := &pFile{size: len(b)}
	if len(b) < 0x1000 {
		return f
	}
	h := b[:0x1000]
	f.headerBytes = h
	f.headerOK = string(h[:8]) == "ElfFile\x00" && le.Uint32(h[0x7c:]) == crc32.ChecksumIEEE(h[:0x78])
	f.lastChunk = le.Uint64(h[0x10:])
	f.nextID = le.Uint64(h[0x18:])
	f.chunkCount = int(le.Uint16(h[0x2a:]))
	f.flags = le.Uint32(h[0x78:])
	for i := 0; 0x1000+i*0x10000 < len(b); i++ {
		start := 0x1000 + i*0x10000
		end := min(start+0x10000, len(b))
		f.chunks = append(f.chunks, parseChunk(i, b[start:end]))
	}
	return f
}

func parseChunk(i int, c []byte) pChunk {
	le := binary.LittleEndian
	pc := pChunk{index: i, truncated: len(c) < 0x10000}
	if len(c) < 0x200 {
		return pc
	}
	pc.magicOK = string(c[:8]) == "ElfChnk\x00"
	pc.firstID = le.Uint64(c[0x18:])
	pc.lastID = le.Uint64(c[0x20:])
	pc.lastOff = le.Uint32(c[0x2c:])
	pc.freeOff = le.Uint32(c[0x30:])
	hc := crc32.NewIEEE()
	hc.Write(c[:0x78])
	hc.Write(c[0x80:0x200])
	pc.headerCRCOK = le.Uint32(c[0x7c:]) == hc.Sum32()
	if int(pc.freeOff) <= len(c) && pc.freeOff >= 0x200 {
		pc.dataCRCOK = le.Uint32(c[0x34:]) == crc32.ChecksumIEEE(c[0x200:pc.freeOff])
	}
	bad := func(format string, args ...any) { pc.problems = append(pc.problems, fmt.Sprintf(format, args...)) }

	// Records from the first one through the last one the header names.
	off := uint32(0x200)
	for pc.lastOff >= 0x200 && off <= pc.lastOff {
		r, ok := recordAt(c, off)
		if !ok {
			bad("no valid record at 0x%x", off)
			break
		}
		pc.records = append(pc.records, r)
		off += r.size
	}
	if len(pc.records) > 0 && off != pc.freeOff {
		bad("records end at 0x%x, free space offset is 0x%x", off, pc.freeOff)
	}
	// Slack: record headers after the free space offset.
	for off := pc.freeOff; int(off)+28 <= len(c) && off >= 0x200; {
		r, ok := recordAt(c, off)
		if !ok {
			break
		}
		pc.slack = append(pc.slack, r)
		off += r.size
	}

	// String table: 64 bucket heads, each a chain through the names'
	// "next" fields.
	for bkt := range 64 {
		seen := 0
		for o := le.Uint32(c[0x80+4*bkt:]); o != 0; o = le.Uint32(c[o:]) {
			if int(o)+8 > len(c) || seen > 1000 {
				bad("string bucket %d: bad offset 0x%x", bkt, o)
				break
			}
			seen++
			n := int(le.Uint16(c[o+6:]))
			if int(o)+8+2*n+2 > len(c) {
				bad("string at 0x%x runs past the chunk", o)
				break
			}
			u := make([]uint16, n)
			for k := range u {
				u[k] = le.Uint16(c[int(o)+8+2*k:])
			}
			pc.names = append(pc.names, pName{off: o, bucket: bkt, hash: le.Uint16(c[o+4:]), text: string(utf16.Decode(u))})
		}
	}
	// Template table: 32 bucket heads chained through each definition's
	// first four bytes.
	for bkt := range 32 {
		seen := 0
		for o := le.Uint32(c[0x180+4*bkt:]); o != 0; o = le.Uint32(c[o:]) {
			if int(o)+24 > len(c) || seen > 1000 {
				bad("template bucket %d: bad offset 0x%x", bkt, o)
				break
			}
			seen++
			pc.templates = append(pc.templates, o)
		}
	}
	return pc
}

// recordAt reads the record header at off and checks its trailing size copy.
func recordAt(c []byte, off uint32) (pRecord, bool) {
	le := binary.LittleEndian
	if int(off)+28 > len(c) || !bytes.Equal(c[off:off+4], []byte("**\x00\x00")) {
		return pRecord{}, false
	}
	size := le.Uint32(c[off+4:])
	if size < 28 || int(off)+int(size) > len(c) || le.Uint32(c[off+size-4:]) != size {
		return pRecord{}, false
	}
	return pRecord{off: off, size: size, id: le.Uint64(c[off+8:])}, true
}

// nameHashSpec is the string-table hash from the libyal description.
func nameHashSpec(s string) uint16 {
	var h uint32
	for _, c := range utf16.Encode([]rune(s)) {
		h = h*65599 + uint32(c)
	}
	return uint16(h)
}

// checkNames reports string-table entries whose hash or bucket is wrong.
func checkNames(t *testing.T, pc pChunk) {
	t.Helper()
	for _, n := range pc.names {
		if n.hash != nameHashSpec(n.text) {
			t.Errorf("chunk %d: name %q at 0x%x has hash 0x%04x, want 0x%04x", pc.index, n.text, n.off, n.hash, nameHashSpec(n.text))
		}
		if int(n.hash)%64 != n.bucket {
			t.Errorf("chunk %d: name %q is in bucket %d, hash says %d", pc.index, n.text, n.bucket, n.hash%64)
		}
	}
}

// TestLayoutCheckerOnCorpus validates the checker on files Windows wrote:
// every CRC must verify and the record walk must find as many records as
// evtxexport does.
func TestLayoutCheckerOnCorpus(t *testing.T) {
	dir := filepath.Join(evtxtest.SharedDir(t), "corpus", "evtx")
	files := []string{
		"JayanthK007+atomic-evtx/ttp_evtx/T1059.003-1/T1059.003-1_Microsoft-Windows-Sysmon_Operational.evtx",
		"JayanthK007+atomic-evtx/ttp_evtx/T1021.002-1/T1021.002-1_Security.evtx",
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			path := filepath.Join(dir, name)
			f := parseFile(t, path)
			if !f.headerOK {
				t.Error("file header magic or CRC32 does not verify")
			}
			records := 0
			for _, pc := range f.chunks {
				if !pc.magicOK {
					continue // unused chunk slot
				}
				if !pc.headerCRCOK || !pc.dataCRCOK {
					t.Errorf("chunk %d: header CRC ok=%v, records CRC ok=%v", pc.index, pc.headerCRCOK, pc.dataCRCOK)
				}
				for _, p := range pc.problems {
					t.Errorf("chunk %d: %s", pc.index, p)
				}
				if len(pc.names) == 0 || len(pc.templates) == 0 {
					t.Errorf("chunk %d: %d names, %d templates in the tables", pc.index, len(pc.names), len(pc.templates))
				}
				checkNames(t, pc)
				records += len(pc.records)
			}
			if n := len(evtxexport(t, path, "items")); records != n {
				t.Errorf("checker walked %d records, evtxexport read %d", records, n)
			}
		})
	}
}

// TestWriteLayout checks the writer's output structure against the spec:
// header fields and CRCs, chunk CRCs, record identifiers, the string and
// template tables.
func TestWriteLayout(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := evtxtest.Write(&buf, tc.events, tc.opt); err != nil {
				t.Fatal(err)
			}
			f := parseBytes(buf.Bytes())
			ws := withIDs(tc.events, 1)
			if !f.headerOK {
				t.Error("file header magic or CRC32 does not verify")
			}
			if f.size != 0x1000+0x10000*len(f.chunks) {
				t.Errorf("file is %d bytes for %d chunks", f.size, len(f.chunks))
			}
			if f.chunkCount != len(f.chunks) {
				t.Errorf("header claims %d chunks, file has %d", f.chunkCount, len(f.chunks))
			}
			if len(f.chunks) > 0 && f.lastChunk != uint64(len(f.chunks)-1) {
				t.Errorf("header last chunk number %d, want %d", f.lastChunk, len(f.chunks)-1)
			}
			wantNext := uint64(1)
			if len(ws) > 0 {
				wantNext = ws[len(ws)-1].id + 1
			}
			if f.nextID != wantNext {
				t.Errorf("header next record id %d, want %d", f.nextID, wantNext)
			}
			if f.flags != 0 {
				t.Errorf("header flags 0x%x, want 0 (clean)", f.flags)
			}
			k := 0
			for _, pc := range f.chunks {
				if !pc.magicOK || !pc.headerCRCOK || !pc.dataCRCOK {
					t.Errorf("chunk %d: magic ok=%v header CRC ok=%v records CRC ok=%v", pc.index, pc.magicOK, pc.headerCRCOK, pc.dataCRCOK)
				}
				for _, p := range pc.problems {
					t.Errorf("chunk %d: %s", pc.index, p)
				}
				if len(pc.slack) != 0 {
					t.Errorf("chunk %d: %d records in slack", pc.index, len(pc.slack))
				}
				checkNames(t, pc)
				if len(pc.records) == 0 {
					t.Errorf("chunk %d has no records", pc.index)
					continue
				}
				if pc.firstID != pc.records[0].id || pc.lastID != pc.records[len(pc.records)-1].id {
					t.Errorf("chunk %d: header ids %d..%d, records %d..%d", pc.index, pc.firstID, pc.lastID, pc.records[0].id, pc.records[len(pc.records)-1].id)
				}
				for _, r := range pc.records {
					if k < len(ws) && r.id != ws[k].id {
						t.Errorf("chunk %d record at 0x%x: id %d, want %d", pc.index, r.off, r.id, ws[k].id)
					}
					if r.size%8 != 0 {
						t.Errorf("record %d: size %d is not 8-byte aligned", r.id, r.size)
					}
					k++
				}
				if tc.opt.MaxRecordsPerChunk > 0 && len(pc.records) > tc.opt.MaxRecordsPerChunk {
					t.Errorf("chunk %d holds %d records, more than %d", pc.index, len(pc.records), tc.opt.MaxRecordsPerChunk)
				}
			}
			if k != len(ws) {
				t.Errorf("walked %d records, wrote %d", k, len(ws))
			}
		})
	}
}

// TestWriteTemplateReuse checks that the second record with the same
// templates references the first record's definitions instead of
// repeating them, and that the string table holds each name once.
func TestWriteTemplateReuse(t *testing.T) {
	var buf bytes.Buffer
	evs := []evtxtest.Event{fxSysmon1(0, "WS01", "a"), fxSysmon1(1, "WS01", "b"), fxSecurity4688(2, "WS01", "c")}
	if err := evtxtest.Write(&buf, evs, evtxtest.Options{}); err != nil {
		t.Fatal(err)
	}
	f := parseBytes(buf.Bytes())
	if len(f.chunks) != 1 || len(f.chunks[0].records) != 3 {
		t.Fatalf("want one chunk with 3 records, got %+v", f.chunks)
	}
	pc := f.chunks[0]
	c := buf.Bytes()[0x1000 : 0x1000+0x10000]
	le := binary.LittleEndian
	// Each record's BinXML starts with a fragment header (0f 01 01 00) and a
	// TemplateInstance (0c 01, template id, definition offset).
	type ti struct{ id, defOff, at uint32 }
	outer := make([]ti, 3)
	for i, r := range pc.records {
		x := c[r.off+24:]
		if !bytes.Equal(x[:6], []byte{0x0f, 0x01, 0x01, 0x00, 0x0c, 0x01}) {
			t.Fatalf("record %d does not start with a fragment header and a template instance: % x", r.id, x[:6])
		}
		outer[i] = ti{id: le.Uint32(x[6:]), defOff: le.Uint32(x[10:]), at: r.off + 24 + 14}
	}
	if outer[0].defOff != outer[0].at {
		t.Errorf("first record: definition at 0x%x, want inline at 0x%x", outer[0].defOff, outer[0].at)
	}
	for i := 1; i < 3; i++ {
		if outer[i].defOff != outer[0].defOff || outer[i].id != outer[0].id {
			t.Errorf("record %d: template %08x at 0x%x, want the first record's %08x at 0x%x",
				i+1, outer[i].id, outer[i].defOff, outer[0].id, outer[0].defOff)
		}
	}
	// Records 1 and 2 share both templates; record 3 has its own EventData
	// template. So the table holds 3 definitions, and record 2 is much
	// shorter than record 1.
	if len(pc.templates) != 3 {
		t.Errorf("template table holds %d definitions, want 3 (Event, Sysmon EventData, Security EventData)", len(pc.templates))
	}
	if pc.records[1].size*2 > pc.records[0].size {
		t.Errorf("record 2 is %d bytes, record 1 %d: templates were not reused", pc.records[1].size, pc.records[0].size)
	}
	seen := map[string]int{}
	for _, n := range pc.names {
		seen[n.text]++
	}
	for _, name := range []string{"Event", "System", "Provider", "Name", "EventData", "Data", "Computer", "Security"} {
		if seen[name] != 1 {
			t.Errorf("string table holds %q %d times, want once", name, seen[name])
		}
	}
	// Data Name values are literal text, not names; element and attribute
	// names are all there is.
	if seen["CommandLine"] != 0 {
		t.Error("string table holds the value text CommandLine")
	}
}
