package evtx_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
)

// benchDir is the folder the benchmarks read: $EVTX_BENCH_DIR, or the shared corpus.
func benchDir(b *testing.B) (string, int64) {
	dir := os.Getenv("EVTX_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(evtxtest.SharedDir(b), "corpus", "evtx")
	}
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return dir, total
}

// BenchmarkScan times Scan over the benchmark folder:
//
//	wanted: Options.Want = the hunt's (channel, event id) pairs, so records
//	        are filtered by the event-id peek before they are built;
//	all:    every record fully built, the same filter applied in the handler
//	        (what the reader would cost without the peek and channel skip).
//
// evtx/bench/bench-reader.sh runs "wanted" against evtxexport.
func BenchmarkScan(b *testing.B) {
	dir, total := benchDir(b)
	keep := func(r *evtx.Record) bool {
		for _, w := range huntWants {
			if strings.EqualFold(w.Channel, r.Channel) && w.EventID == r.EventID {
				return true
			}
		}
		return false
	}
	for _, bc := range []struct {
		name string
		opt  evtx.Options
	}{
		{"wanted", evtx.Options{Want: huntWants}},
		{"all", evtx.Options{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				n := 0
				err := evtx.Scan(context.Background(), []string{dir}, bc.opt, evtx.Handler{
					Record: func(r *evtx.Record) error {
						if keep(r) {
							n++
						}
						return nil
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(n), "records")
			}
		})
	}
}
