package evtx

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// decodeBoth decodes one chunk with the fast path on and off.
func decodeBoth(buf []byte, want []Want, base int64, index int) (fast, slow *chunkDecoder) {
	quietLibrary()
	fast = newChunkDecoder(buf, newFilter(want), false, base, index, nil)
	fast.decode()
	slow = newChunkDecoder(buf, newFilter(want), false, base, index, nil)
	slow.noFast = true
	slow.decode()
	return fast, slow
}

// diffRecords returns a description of the first difference, or "".
func diffRecords(fast, slow []Record) string {
	if len(fast) != len(slow) {
		return "record counts differ"
	}
	for i := range fast {
		if !reflect.DeepEqual(fast[i], slow[i]) {
			f, s := fast[i], slow[i]
			f.Data, s.Data = nil, nil
			if !reflect.DeepEqual(f, s) {
				return "header fields differ"
			}
			for k, v := range slow[i].Data {
				if fast[i].Data[k] != v {
					return "Data[" + k + "] = " + fast[i].Data[k] + ", library path " + v
				}
			}
			return "Data keys differ"
		}
	}
	return ""
}

// TestFastPathMatchesLibrary decodes every chunk of the shared corpus twice,
// with the fast path and with golang-evtx only, every record (no filter) and
// with the hunt's filter, and requires the same records and accounting.
func TestFastPathMatchesLibrary(t *testing.T) {
	root := filepath.Join(evtxtest.SharedDir(t), "corpus", "evtx")
	filters := []struct {
		name string
		want []Want
	}{
		{"all", nil},
		{"hunt", []Want{{Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1},
			{Channel: "Security", EventID: 4688}, {Channel: "Security", EventID: 4689}}},
	}
	for _, fc := range filters {
		t.Run(fc.name, func(t *testing.T) {
			var records, fallbacks, fallbacksBuilt, chunks int
			err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
				if err != nil || de.IsDir() {
					return err
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if !bytes.HasPrefix(data, fileMagic) {
					return nil
				}
				for i, off := 0, fileHeaderSize; off+chunkSize <= len(data); i, off = i+1, off+chunkSize {
					buf := data[off : off+chunkSize]
					if !bytes.Equal(buf[:8], chunkMagic) {
						continue
					}
					chunks++
					fast, slow := decodeBoth(buf, fc.want, int64(off), i)
					rel, _ := filepath.Rel(root, path)
					if d := diffRecords(fast.records, slow.records); d != "" {
						t.Errorf("%s chunk %d: %s", rel, i, d)
					}
					if !reflect.DeepEqual(fast.stats, slow.stats) {
						t.Errorf("%s chunk %d: stats %+v, library path %+v", rel, i, fast.stats, slow.stats)
					}
					records += len(fast.records)
					fallbacks += fast.fallbacks
					fallbacksBuilt += fast.fallbacksBuilt
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if records == 0 {
				t.Fatal("no records decoded")
			}
			t.Logf("%d chunks, %d records delivered; the fast path left %d records to golang-evtx, which built %d of them",
				chunks, records, fallbacks, fallbacksBuilt)
		})
	}
}
