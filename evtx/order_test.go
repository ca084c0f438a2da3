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
	one := trace(t, []string{root}, evtx.Options{Workers: 1, Want: huntWants})
	four := trace(t, []string{root}, evtx.Options{Workers: 4, Want: huntWants})
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
	want := map[string][]string{}
	n := 0
	for path, fr := range scanAll(t, root) {
		for _, r := range fr.records {
			if wanted(r) {
				want[path] = append(want[path], key(r))
				n++
			}
		}
	}
	got := map[string][]string{}
	for path, fr := range scanCorpus(t, root, evtx.Options{Want: huntWants}, true) {
		for _, r := range fr.records {
			got[path] = append(got[path], key(r))
		}
	}
	for path := range want {
		if !reflect.DeepEqual(got[path], want[path]) {
			t.Errorf("%s: filtered scan delivered %d records, full decode + filter %d", path, len(got[path]), len(want[path]))
		}
	}
	for path := range got {
		if len(want[path]) == 0 {
			t.Errorf("%s: filtered scan delivered %d records, full decode + filter none", path, len(got[path]))
		}
	}
	if n < 2000 {
		t.Errorf("only %d wanted records in the corpus", n)
	}
	stats, _ := collect(t, []string{root}, evtx.Options{Want: huntWants})
	skipped := 0
	for _, st := range stats {
		if errors.Is(st.Err, evtx.ErrChannelNotWanted) {
			skipped++
		}
	}
	t.Logf("%d wanted records; %d files skipped by channel", n, skipped)
}

// TestChannelSkip checks that a file of an unwanted channel is skipped after
// its first chunk and reported with the channel it holds, and that its
// remaining chunks are still counted (record headers only), so its accounting
// equals libevtx's.
func TestChannelSkip(t *testing.T) {
	root, rows := readManifest(t)
	p := filepath.Join(root, filepath.FromSlash(dirtySysmon))
	stats, recs := collect(t, []string{p}, evtx.Options{Want: []evtx.Want{{Channel: "security", EventID: 4688}}})
	st := stats[p]
	if st.Status != evtx.StatusSkipped || !errors.Is(st.Err, evtx.ErrChannelNotWanted) || len(recs) != 0 {
		t.Fatalf("status %q err %v records %d", st.Status, st.Err, len(recs))
	}
	if !strings.Contains(st.Reason, "Microsoft-Windows-Sysmon/Operational") {
		t.Errorf("reason %q", st.Reason)
	}
	for _, m := range rows {
		if m.path == dirtySysmon && (st.Records != m.records || st.Chunks != 9) {
			t.Errorf("skipped file counts %d live records in %d chunks; libevtx %d records, 9 chunks", st.Records, st.Chunks, m.records)
		}
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

// TestProgressSumsToBytes checks that Progress reports every byte of evidence once.
func TestProgressSumsToBytes(t *testing.T) {
	root, rows := readManifest(t)
	var want, got int64
	for _, r := range rows {
		want += r.bytes
	}
	err := evtx.Scan(context.Background(), []string{root}, evtx.Options{Want: huntWants}, evtx.Handler{
		Progress: func(n int64) { got += n },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("progress %d bytes, corpus %d", got, want)
	}
}

// TestNoSlack checks that Options.NoSlack turns slack recovery off and leaves
// the live records alone (libevtx: 565 live, 31 slack records, 27 of them EID 1).
func TestNoSlack(t *testing.T) {
	root, _ := readManifest(t)
	p := filepath.Join(root, "sbousseaden+EVTX-ATTACK-SAMPLES", "AutomatedTestingTools", "PanacheSysmon_vs_AtomicRedTeam01.evtx")
	for _, tc := range []struct {
		name      string
		noSlack   bool
		recovered int
	}{{"slack", false, 27}, {"no slack", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			want := []evtx.Want{{Channel: sysmonChannel, EventID: 1}}
			stats, recs := collect(t, []string{p}, evtx.Options{Want: want, NoSlack: tc.noSlack})
			live, rec := 0, 0
			for _, r := range recs {
				if r.Recovered {
					rec++
				} else {
					live++
				}
			}
			if st := stats[p]; st.Records != 565 || live != 511 || rec != tc.recovered || st.WantedRecovered != rec {
				t.Errorf("records %d, live EID 1 %d, recovered EID 1 %d (stats %d)", st.Records, live, rec, st.WantedRecovered)
			}
		})
	}
}
