package evtx

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"evtxhunt/evtx/evtxtest"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"
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

// TestUTF16String checks utf16String against the standard library's
// decoder (what golang-evtx uses) on hand-picked and random inputs.
func TestUTF16String(t *testing.T) {
	ref := func(b []byte) string {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		return strings.TrimRight(string(utf16.Decode(u)), "\x00")
	}
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"ascii", []byte("a\x00b\x00")},
		{"trailing NULs", []byte("a\x00\x00\x00\x00\x00")},
		{"inner NUL", []byte("a\x00\x00\x00b\x00")},
		{"latin1", []byte{0xe9, 0x00, 'x', 0x00}},
		{"pair", []byte{0x3d, 0xd8, 0x00, 0xde}},
		{"lone high at end", []byte{'a', 0, 0x3d, 0xd8}},
		{"lone high then NUL", []byte{0x3d, 0xd8, 0, 0}},
		{"lone low", []byte{0x00, 0xde, 'a', 0}},
		{"high high low", []byte{0x3d, 0xd8, 0x3d, 0xd8, 0x00, 0xde}},
		{"odd length", []byte{'a', 0, 'b'}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.IntN(40))
		for j := range b {
			b[j] = []byte{0, 0xd8, 0xdc, 0xde, 'a', 0x80, 0xff}[rng.IntN(7)]
		}
		cases = append(cases, struct {
			name string
			b    []byte
		}{fmt.Sprintf("random %d", i), b})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, want := utf16String(c.b), ref(c.b); got != want {
				t.Errorf("utf16String(%x) = %q, want %q", c.b, got, want)
			}
		})
	}
}

// TestGUIDString checks guidString against golang-evtx's GUID value as
// render.go writes it, and against a GUID written by hand.
func TestGUIDString(t *testing.T) {
	b := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	if got, want := guidString(b), "{00112233-4455-6677-8899-AABBCCDDEEFF}"; got != want {
		t.Errorf("guidString = %q, want %q", got, want)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100; i++ {
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		var v gevtx.ValueGUID
		if err := v.Parse(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if got, want := guidString(b), render(&v); got != want {
			t.Errorf("guidString(%x) = %q, golang-evtx path %q", b, got, want)
		}
	}
}

// TestStringArray checks stringArray against golang-evtx's string table
// value as render.go writes it.
func TestStringArray(t *testing.T) {
	u := func(s string) []byte {
		var b []byte
		for _, r := range utf16.Encode([]rune(s)) {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, ""},
		{"two", u("ab\x00cd\x00"), "ab, cd"},
		{"empty strings skipped", u("\x00ab\x00\x00cd\x00\x00"), "ab, cd"},
		{"unterminated last", u("ab\x00cd"), "ab"},
		{"non-ASCII", u("é\x00\U0001F600\x00"), "é, \U0001F600"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := gevtx.ValueStringTable{Size: uint16(len(c.b))}
			if err := v.Parse(bytes.NewReader(c.b)); err != nil {
				t.Fatal(err)
			}
			lib := render(&v)
			if got := stringArray(c.b); got != c.want || got != lib {
				t.Errorf("stringArray = %q, want %q (golang-evtx path %q)", got, c.want, lib)
			}
		})
	}
}
