package evtx_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
)

// FuzzDecodeChunk feeds raw chunk bytes to the chunk decoder, with and
// without a filter: it must never panic, hang or lose count of what it returns.
// Seeds are chunks of the shared corpus (the first and last chunk of each file).
func FuzzDecodeChunk(f *testing.F) {
	root := filepath.Join(evtxtest.SharedDir(f), "corpus", "evtx")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var chunks [][]byte
		for off := 4096; off+65536 <= len(b); off += 65536 {
			if bytes.HasPrefix(b[off:], []byte("ElfChnk\x00")) {
				chunks = append(chunks, b[off:off+65536])
			}
		}
		if len(chunks) > 0 {
			f.Add(chunks[0])
			if len(chunks) > 1 {
				f.Add(chunks[len(chunks)-1])
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range []evtx.Options{{}, {Want: huntWants}} {
			recs, st := evtx.DecodeChunk(data, opt)
			if len(recs) != st.Wanted+st.WantedRecovered {
				t.Fatalf("%d records returned, stats say %d live + %d recovered wanted", len(recs), st.Wanted, st.WantedRecovered)
			}
			if st.Records < 0 || st.RecordsFailed < 0 || st.RecordsRecovered < 0 || st.Wanted > st.Records {
				t.Fatalf("inconsistent stats %+v", st)
			}
			for _, r := range recs {
				if r.Offset < 512 || r.Offset >= 65536 || r.Data == nil {
					t.Fatalf("bad record %+v", r)
				}
			}
		}
	})
}
