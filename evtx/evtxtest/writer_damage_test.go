package evtxtest_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// damageCase is a damaged file and what the oracles must see in it.
type damageCase struct {
	name   string
	events []evtxtest.Event
	opt    evtxtest.Options
	// live are the records a reader must still decode (evtxexport "items").
	live []want
	// recovered are the slack records (evtxexport "recovered").
	recovered []want
	// complete, when set, are the live records whose bytes are all in a
	// truncated file. evtxexport drops a truncated chunk whole (live); a
	// reader may also decode the complete records of that chunk, so it must
	// deliver a prefix of complete at least as long as live.
	complete []want
	// check inspects the structure with the spec checker.
	check func(t *testing.T, f *pFile)
}

// damageCases are shared by the evtxexport and reader damage tests.
func damageCases(t *testing.T) []damageCase {
	evs := fxMixed(400) // several chunks
	slack := []evtxtest.Event{fxSysmon1(900, "WS01", `cmd.exe /c del C:\evidence.txt`), fxSecurity4688(901, "WS01", "wevtutil cl Security")}
	few := fxMixed(6)
	// The clean layout tells which records truncating the last chunk drops.
	clean := parseWrite(t, evs, evtxtest.Options{})
	kept := 0
	for _, pc := range clean.chunks[:len(clean.chunks)-1] {
		kept += len(pc.records)
	}
	// Records of the last chunk that end in its first half.
	halfKept := 0
	for _, r := range clean.chunks[len(clean.chunks)-1].records {
		if r.off+r.size <= 0x8000 {
			halfKept++
		}
	}
	return []damageCase{
		{
			name: "stale-chunk-count", events: evs, opt: evtxtest.Options{StaleChunkCount: true},
			live: withIDs(evs, 1),
			check: func(t *testing.T, f *pFile) {
				if f.chunkCount != 1 || len(f.chunks) < 3 {
					t.Errorf("header claims %d chunks, file has %d; want a stale count of 1 with several chunks", f.chunkCount, len(f.chunks))
				}
				if f.flags&1 == 0 {
					t.Errorf("header flags 0x%x, want the dirty flag 0x1", f.flags)
				}
				if !f.headerOK {
					t.Error("stale header must still carry a valid CRC32")
				}
				if want := f.chunks[0].lastID + 1; f.nextID != want {
					t.Errorf("header next record id %d, want %d (the first chunk's)", f.nextID, want)
				}
				for _, pc := range f.chunks {
					if !pc.headerCRCOK || !pc.dataCRCOK {
						t.Errorf("chunk %d: checksums must stay valid", pc.index)
					}
				}
			},
		},
		{
			name: "bad-header-crc", events: evs, opt: evtxtest.Options{BadHeaderCRC: []int{1}},
			live: withIDs(evs, 1),
			check: func(t *testing.T, f *pFile) {
				for _, pc := range f.chunks {
					if pc.headerCRCOK == (pc.index == 1) || !pc.dataCRCOK {
						t.Errorf("chunk %d: header CRC ok=%v records CRC ok=%v; want only chunk 1's header CRC bad", pc.index, pc.headerCRCOK, pc.dataCRCOK)
					}
				}
			},
		},
		{
			name: "bad-data-crc", events: evs, opt: evtxtest.Options{BadDataCRC: []int{0, 2}},
			live: withIDs(evs, 1),
			check: func(t *testing.T, f *pFile) {
				for _, pc := range f.chunks {
					bad := pc.index == 0 || pc.index == 2
					if pc.dataCRCOK == bad || !pc.headerCRCOK {
						t.Errorf("chunk %d: header CRC ok=%v records CRC ok=%v; want only chunks 0 and 2's records CRC bad", pc.index, pc.headerCRCOK, pc.dataCRCOK)
					}
				}
			},
		},
		{
			// Cut the file 100 bytes into the last chunk's records: the last
			// chunk cannot be read, the others can.
			name: "truncated-last-chunk", events: evs, opt: evtxtest.Options{TruncateBytes: 0x10000 - 0x200 - 100},
			live: withIDs(evs, 1)[:kept], complete: withIDs(evs, 1)[:kept],
			check: func(t *testing.T, f *pFile) {
				last := f.chunks[len(f.chunks)-1]
				if !last.truncated || len(f.chunks) != f.chunkCount {
					t.Errorf("last chunk truncated=%v; %d chunk slots, header claims %d", last.truncated, len(f.chunks), f.chunkCount)
				}
				if want := 0x1000 + 0x10000*(len(f.chunks)-1) + 0x200 + 100; f.size != want {
					t.Errorf("file is %d bytes, want %d", f.size, want)
				}
			},
		},
		{
			// Cut the last chunk in half: its first records are complete.
			name: "truncated-mid-chunk", events: evs, opt: evtxtest.Options{TruncateBytes: 0x8000},
			live: withIDs(evs, 1)[:kept], complete: withIDs(evs, 1)[:kept+halfKept],
			check: func(t *testing.T, f *pFile) {
				last := f.chunks[len(f.chunks)-1]
				if !last.truncated || len(last.records) != halfKept || halfKept == 0 {
					t.Errorf("last chunk truncated=%v with %d complete records, want %d > 0", last.truncated, len(last.records), halfKept)
				}
			},
		},
		{
			name: "records-in-slack", events: few, opt: evtxtest.Options{SlackEvents: slack},
			live:      withIDs(few, 1),
			recovered: withIDs(slack, uint64(len(few)+1)),
			check: func(t *testing.T, f *pFile) {
				if len(f.chunks) != 1 {
					t.Fatalf("%d chunks, want 1", len(f.chunks))
				}
				pc := f.chunks[0]
				if len(pc.records) != len(few) || pc.lastID != uint64(len(few)) {
					t.Errorf("chunk header covers %d records up to id %d, want %d", len(pc.records), pc.lastID, len(few))
				}
				if len(pc.slack) != len(slack) {
					t.Errorf("found %d records after the free space offset, want %d", len(pc.slack), len(slack))
				}
				if !pc.headerCRCOK || !pc.dataCRCOK {
					t.Error("slack must not break the chunk checksums")
				}
				if f.nextID != uint64(len(few)+1) {
					t.Errorf("header next record id %d, want %d", f.nextID, len(few)+1)
				}
				checkNames(t, pc)
			},
		},
		{
			// Everything at once on a two-chunk file.
			name: "all-damage", events: fxMixed(40),
			opt:       evtxtest.Options{StaleChunkCount: true, BadHeaderCRC: []int{0}, BadDataCRC: []int{1}, SlackEvents: slack[:1], MaxRecordsPerChunk: 20},
			live:      withIDs(fxMixed(40), 1),
			recovered: withIDs(slack[:1], 41),
			check: func(t *testing.T, f *pFile) {
				if len(f.chunks) != 2 || f.chunkCount != 1 {
					t.Fatalf("%d chunks, header claims %d; want 2 and 1", len(f.chunks), f.chunkCount)
				}
				a, b := f.chunks[0], f.chunks[1]
				if a.headerCRCOK || !a.dataCRCOK || !b.headerCRCOK || b.dataCRCOK {
					t.Errorf("CRCs ok: chunk 0 header=%v records=%v, chunk 1 header=%v records=%v", a.headerCRCOK, a.dataCRCOK, b.headerCRCOK, b.dataCRCOK)
				}
				if len(a.slack) != 0 || len(b.slack) != 1 {
					t.Errorf("slack records: chunk 0 %d, chunk 1 %d; want 0 and 1", len(a.slack), len(b.slack))
				}
			},
		},
	}
}

// parseWrite writes events to memory and runs the spec checker on them.
func parseWrite(t *testing.T, events []evtxtest.Event, opt evtxtest.Options) *pFile {
	t.Helper()
	var buf bytes.Buffer
	if err := evtxtest.Write(&buf, events, opt); err != nil {
		t.Fatal(err)
	}
	return parseBytes(buf.Bytes())
}

// TestWriteDamagedEvtxexport checks each damaged file with the spec checker
// and with evtxexport: libevtx 20181227 does not verify checksums and reads
// chunks past a stale header count, so it must still export every live
// record; it drops a truncated chunk; it exports slack records only in
// "recovered" mode.
func TestWriteDamagedEvtxexport(t *testing.T) {
	for _, tc := range damageCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".evtx")
			if err := evtxtest.WriteFile(path, tc.events, tc.opt); err != nil {
				t.Fatal(err)
			}
			tc.check(t, parseFile(t, path))
			checkExport(t, evtxexport(t, path, "items"), tc.live)
			checkExport(t, evtxexport(t, path, "recovered"), tc.recovered)
		})
	}
}
