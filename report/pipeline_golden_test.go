package report

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"evtxhunt/hunt"
	"evtxhunt/normalize"
)

// TestScenarioGolden renders the real pipeline's output on scenario B-7zip
// (ingest -> ancestry -> built-in pack) and compares it with goldens that
// were reviewed by hand: the corrected seed hunt matches the batch run from
// 7-Zip's temporary folder with causality actor 7zFM.exe and its tree
// explorer -> 7zFM -> cmd -> net/wscript/python; the verbatim seed matches
// nothing and carries its lint findings.
func TestScenarioGolden(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "b7zip.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A relative path keeps the provenance in the goldens the same on every machine.
	if _, err := st.Ingest(ctx, []string{"../testdata/scenarios/B-7zip"}, normalize.IngestOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	// _insert_time is the ingest clock (the fields stage always keeps it): pin it.
	if _, err := st.DB().ExecContext(ctx, `UPDATE xdr_data SET _insert_time = 1767322800000, insert_timestamp = 1767322800000`); err != nil {
		t.Fatal(err)
	}
	db, err := hunt.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hunts, err := hunt.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, db, hunts, BuildOptions{
		Title: "scenario B-7zip", Version: "test", Tree: StoreTrees(st),
		Generated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	var term, html bytes.Buffer
	if err := Terminal(&term, r, TerminalOptions{Width: 160}); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, r); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "scenario-b7zip-160.golden.txt", term.Bytes())
	checkGolden(t, "scenario-b7zip.golden.html", html.Bytes())
}
