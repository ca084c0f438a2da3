package evtx

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// FuzzFastPath decodes mutated chunks with the fast path and with
// golang-evtx only. Neither may panic, the fast path's template parser may
// only stop with errUnsupported or errMalformed, and every record the fast
// path builds that golang-evtx builds too must be identical. Seeds are the
// first 12 KiB of the first chunk of each corpus file.
func FuzzFastPath(f *testing.F) {
	root := filepath.Join(evtxtest.SharedDir(f), "corpus", "evtx")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if len(b) >= fileHeaderSize+chunkSize && bytes.Equal(b[fileHeaderSize:fileHeaderSize+8], chunkMagic) {
			// The first 12 KiB: header, template table and the first
			// records (the rest is zero-padded), small enough for the engine.
			f.Add(b[fileHeaderSize : fileHeaderSize+12<<10])
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := make([]byte, chunkSize)
		copy(buf, data)
		copy(buf, chunkMagic)
		for _, off := range []int{chunkHeaderSize, int(buf[384]) | int(buf[385])<<8} {
			func() {
				defer func() {
					if p := recover(); p != nil && p != errUnsupported && p != errMalformed {
						t.Fatalf("parseTemplate(%d) panicked: %v", off, p)
					}
				}()
				parseTemplate(buf, off)
			}()
		}
		fast, slow := decodeBoth(buf, nil, 0, 0)
		byOff := map[int64]Record{}
		for _, r := range slow.records {
			byOff[r.Offset] = r
		}
		for _, r := range fast.records {
			s, ok := byOff[r.Offset]
			if !ok {
				continue
			}
			if d := diffRecords([]Record{r}, []Record{s}); d != "" {
				t.Fatalf("record at %d: %s", r.Offset, d)
			}
		}
	})
}
