package evtx_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"evtxhunt/evtx"
)

// event is one Handler call, recorded to check ordering.
type event struct {
	kind, path string
	chunk      int
	offset     int64
	id         uint64
	recovered  bool
}

func trace(t *testing.T, inputs []string, opt evtx.Options) []event {
	t.Helper()
	var evs []event
	err := evtx.Scan(context.Background(), inputs, opt, evtx.Handler{
		FileStart: func(src evtx.Source, size int64) error {
			evs = append(evs, event{kind: "start", path: src.Path})
			return nil
		},
		Record: func(r *evtx.Record) error {
			evs = append(evs, event{kind: "record", path: r.Source.Path, chunk: r.Chunk, offset: r.Offset, id: r.RecordID, recovered: r.Recovered})
			return nil
		},
		FileDone: func(st evtx.FileStats) error {
			evs = append(evs, event{kind: "done", path: st.Path})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestOrderIndependentOfWorkers checks that callbacks come in file, chunk and
// record order, each file's records between its FileStart and FileDone, and
// that the sequence does not depend on the number of workers.
func TestOrderIndependentOfWorkers(t *testing.T) {
	root, rows := readManifest(t)
	one := trace(t, []string{root}, evtx.Options{Workers: 1})
	four := trace(t, []string{root}, evtx.Options{Workers: 4})
	if !reflect.DeepEqual(one, four) {
		t.Fatalf("1 worker and 4 workers deliver different sequences (%d vs %d events)", len(one), len(four))
	}
	done := map[string]bool{}
	var open string
	var last event
	for _, e := range one {
		switch e.kind {
		case "start":
			if open != "" {
				t.Fatalf("%s started inside %s", e.path, open)
			}
			open = e.path
			last = event{}
		case "record":
			if e.path != open {
				t.Fatalf("record of %s outside its file (open %q)", e.path, open)
			}
			if e.chunk < last.chunk || (e.chunk == last.chunk && e.offset <= last.offset) {
				t.Fatalf("%s: record at chunk %d offset %d after chunk %d offset %d", e.path, e.chunk, e.offset, last.chunk, last.offset)
			}
			last = e
		case "done":
			if done[e.path] {
				t.Fatalf("%s: FileDone twice", e.path)
			}
			done[e.path] = true
			open = ""
		}
	}
	if len(done) != len(rows) {
		t.Errorf("FileDone for %d files, manifest has %d", len(done), len(rows))
	}
}

// TestFilterAgreesWithFullDecode checks the event-id peek: asking for the
// hunt's (channel, event id) pairs must deliver exactly the records that a
// full decode of every record followed by the same filter keeps.
func TestFilterAgreesWithFullDecode(t *testing.T) {
	root, _ := readManifest(t)
	key := func(r *evtx.Record) string {
		return fmt.Sprintf("%s|%d|%d|%v|%s|%d", r.Source.Path, r.Offset, r.RecordID, r.Recovered, r.Channel, r.EventID)
	}
	wanted := func(r *evtx.Record) bool {
		for _, w := range huntWants {
			if strings.EqualFold(w.Channel, r.Channel) && w.EventID == r.EventID {
				return true
			}
		}
		return false
	}
	_, all := collect(t, []string{root}, evtx.Options{})
	var want []string
	for _, r := range all {
		if wanted(r) {
			want = append(want, key(r))
		}
	}
	stats, got := collect(t, []string{root}, evtx.Options{Want: huntWants})
	var keys []string
	for _, r := range got {
		keys = append(keys, key(r))
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("filtered scan delivered %d records, full decode + filter %d", len(keys), len(want))
	}
	if len(want) < 2000 {
		t.Errorf("only %d wanted records in the corpus", len(want))
	}
	skipped := 0
	for _, st := range stats {
		if errors.Is(st.Err, evtx.ErrChannelNotWanted) {
			skipped++
		}
	}
	t.Logf("%d wanted records; %d files skipped by channel", len(keys), skipped)
}

// TestChannelSkip checks that a file of an unwanted channel is skipped after
// its first chunk and reported with the channel it holds.
func TestChannelSkip(t *testing.T) {
	root, _ := readManifest(t)
	p := filepath.Join(root, filepath.FromSlash(dirtySysmon))
	stats, recs := collect(t, []string{p}, evtx.Options{Want: []evtx.Want{{Channel: "security", EventID: 4688}}})
	st := stats[p]
	if st.Status != evtx.StatusSkipped || !errors.Is(st.Err, evtx.ErrChannelNotWanted) || len(recs) != 0 {
		t.Fatalf("status %q err %v records %d", st.Status, st.Err, len(recs))
	}
	if st.Chunks != 1 || !strings.Contains(st.Reason, "Microsoft-Windows-Sysmon/Operational") {
		t.Errorf("chunks %d reason %q", st.Chunks, st.Reason)
	}
	// Channel names are matched case-insensitively.
	_, recs = collect(t, []string{p}, evtx.Options{Want: []evtx.Want{{Channel: "microsoft-windows-sysmon/operational", EventID: 1}}})
	if len(recs) != 227 {
		t.Errorf("%d EID 1 records, libevtx 227", len(recs))
	}
}

// TestScanErrors checks what Scan itself returns.
func TestScanErrors(t *testing.T) {
	root, _ := readManifest(t)
	stop := errors.New("stop here")
	tests := []struct {
		name   string
		ctx    func() context.Context
		inputs []string
		h      evtx.Handler
		want   error
	}{
		{name: "missing input", ctx: context.Background, inputs: []string{filepath.Join(t.TempDir(), "nope")}, want: nil},
		{name: "record callback error", ctx: context.Background, inputs: []string{root},
			h: evtx.Handler{Record: func(*evtx.Record) error { return stop }}, want: stop},
		{name: "file done error", ctx: context.Background, inputs: []string{root},
			h: evtx.Handler{FileDone: func(evtx.FileStats) error { return stop }}, want: stop},
		{name: "cancelled", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, inputs: []string{root}, want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := evtx.Scan(tc.ctx(), tc.inputs, evtx.Options{}, tc.h)
			if tc.want == nil {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}
