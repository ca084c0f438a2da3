package hunt_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx/evtxtest"
	"evtxhunt/hunt"
	"evtxhunt/normalize"
)

// procKey names a logged process of a scenario.
type procKey struct{ scenario, id string }

// scenarioDB ingests testdata/scenarios (ingest rebuilds ancestry) and
// returns the query handle, the scenarios and a map from every
// PROCESS_START rowid to its scenario process.
func scenarioDB(t *testing.T) (*sql.DB, []*evtxtest.Scenario, map[int64]procKey) {
	t.Helper()
	ctx := context.Background()
	dir := evtxtest.ScenariosDir(t)
	scs, err := evtxtest.LoadScenarios(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scenarios.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Ingest(ctx, []string{dir}, normalize.IngestOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := hunt.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows, err := db.Query(`SELECT rowid, agent_hostname, action_process_os_pid, action_process_image_path, _time
		FROM xdr_data WHERE event_type = 1 AND event_sub_type = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byRow := map[int64]procKey{}
	for rows.Next() {
		var id, pid, ms int64
		var host, image string
		if err := rows.Scan(&id, &host, &pid, &image, &ms); err != nil {
			t.Fatal(err)
		}
		sc, p, ok := evtxtest.FindIn(scs, host, pid, image, time.UnixMilli(ms).UTC())
		if !ok {
			t.Errorf("row %d (%s pid %d %s) maps to no scenario process", id, host, pid, image)
			continue
		}
		byRow[id] = procKey{sc.Name, p.ID}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return db, scs, byRow
}

// matchedProcesses runs a hunt and returns the scenario processes of its rows.
func matchedProcesses(t *testing.T, db *sql.DB, h *hunt.Hunt, byRow map[int64]procKey, opt hunt.RunOptions) (map[procKey]bool, *hunt.Result) {
	t.Helper()
	qs := h.XQLQueries()
	if len(qs) != 1 {
		t.Fatalf("%s: %d XQL queries", h.ID, len(qs))
	}
	q, err := hunt.Parse(qs[0].Text)
	if err != nil {
		t.Fatalf("%s: parse: %v", h.ID, err)
	}
	res, err := hunt.Run(context.Background(), db, q, opt)
	if err != nil {
		t.Fatalf("%s: run: %v", h.ID, err)
	}
	got := map[procKey]bool{}
	for i, row := range res.Rows {
		var rowid int64
		if res.RowIDs != nil {
			rowid = res.RowIDs[i]
		} else {
			rowid = rowByInstance(t, db, res.Columns, row)
		}
		k, ok := byRow[rowid]
		if !ok {
			t.Errorf("%s: row %d of the result is no scenario process start", h.ID, rowid)
			continue
		}
		got[k] = true
	}
	return got, res
}

// rowByInstance finds the xdr_data row of a result row that lost its row
// identity (join) through action_process_instance_id and agent_id.
func rowByInstance(t *testing.T, db *sql.DB, cols []string, row []any) int64 {
	t.Helper()
	var iid, agent any
	for i, c := range cols {
		switch c {
		case "action_process_instance_id":
			iid = row[i]
		case "agent_id":
			agent = row[i]
		}
	}
	var id int64
	err := db.QueryRow(`SELECT rowid FROM xdr_data WHERE action_process_instance_id = ? AND agent_id = ? AND event_sub_type = 1`, iid, agent).Scan(&id)
	if err != nil {
		t.Fatalf("row for instance %v on agent %v: %v", iid, agent, err)
	}
	return id
}

// TestBuiltinPackOnScenarios is the end-to-end check of the hunt pack:
// ingest -> ancestry -> every built-in hunt -> each scenario's expect file,
// whose expectations were written by hand from the scenario document.
func TestBuiltinPackOnScenarios(t *testing.T) {
	db, scs, byRow := scenarioDB(t)
	hunts, err := hunt.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	matched := map[string]map[procKey]bool{}
	for _, h := range hunts {
		got, _ := matchedProcesses(t, db, h, byRow, hunt.RunOptions{})
		matched[h.ID] = got
	}
	caught := map[string][]string{} // scenario -> hunts that matched one of its processes
	for id, got := range matched {
		for k := range got {
			caught[k.scenario] = append(caught[k.scenario], id)
		}
	}
	for _, sc := range scs {
		exp, err := evtxtest.LoadExpect(filepath.Join(evtxtest.ScenariosDir(t), sc.Name))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(sc.Name, func(t *testing.T) {
			for huntID, he := range exp.Hunts {
				got, ok := matched[huntID]
				if !ok {
					t.Errorf("expect names hunt %s, which the pack does not have", huntID)
					continue
				}
				for _, p := range he.Match {
					if !got[procKey{sc.Name, p}] {
						t.Errorf("%s does not match %s", huntID, p)
					}
				}
				for _, p := range he.NotMatch {
					if got[procKey{sc.Name, p}] {
						t.Errorf("%s matches %s, which it must not", huntID, p)
					}
				}
			}
			if exp.Positive {
				n := 0
				for _, id := range caught[sc.Name] {
					if id != "HuntQuery-Windows-BatchFromArchive-WebDAV" {
						n++
					}
				}
				if n == 0 {
					t.Errorf("positive scenario caught by no built-in hunt")
				}
			}
		})
	}
	// The corrected seed catches every variant of chain B and no look-alike.
	fixed := matched["EVTXHUNT-BatchFromArchive-WebDAV-Fixed"]
	for _, sc := range scs {
		hit := false
		for k := range fixed {
			hit = hit || k.scenario == sc.Name
		}
		switch {
		case strings.HasPrefix(sc.Name, "B-") && !hit:
			t.Errorf("corrected seed hunt misses chain %s", sc.Name)
		case strings.HasPrefix(sc.Name, "N") && hit:
			t.Errorf("corrected seed hunt matches look-alike %s", sc.Name)
		}
	}
	var summary []string
	for id, got := range matched {
		summary = append(summary, id+": "+strconv.Itoa(len(got)))
	}
	sort.Strings(summary)
	t.Logf("processes matched per hunt:\n%s", strings.Join(summary, "\n"))
}

// TestSeedVerbatimOnScenarios: the published seed matches nothing on the
// fixtures, faithfully or with --path-sep-insensitive (cmd.exe's own image
// is never under Temp or Downloads), and lint says why.
func TestSeedVerbatimOnScenarios(t *testing.T) {
	db, _, byRow := scenarioDB(t)
	hunts, err := hunt.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var seed *hunt.Hunt
	for _, h := range hunts {
		if h.ID == "HuntQuery-Windows-BatchFromArchive-WebDAV" {
			seed = h
		}
	}
	if seed == nil {
		t.Fatal("no seed hunt in the pack")
	}
	for _, insensitive := range []bool{false, true} {
		got, res := matchedProcesses(t, db, seed, byRow, hunt.RunOptions{PathSepInsensitive: insensitive})
		if len(got) != 0 || len(res.Rows) != 0 {
			t.Errorf("seed (path-sep-insensitive %v) matched %d rows, want 0", insensitive, len(res.Rows))
		}
	}
	q, err := hunt.Parse(seed.XQLQueries()[0].Text)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for _, d := range hunt.Lint(q, hunt.LintOptions{}) {
		codes[d.Code]++
	}
	if codes["forward-slash-path"] != 3 {
		t.Errorf("lint forward-slash-path findings = %d, want 3 (codes %v)", codes["forward-slash-path"], codes)
	}
	found := false
	for c := range codes {
		found = found || strings.Contains(c, "cmd")
	}
	if !found {
		t.Errorf("lint does not say that cmd.exe's image is never under Temp or Downloads (codes %v)", codes)
	}
}

// TestAncestryOnScenarios checks every ancestry fact of the expect files
// against the rebuilt actor and causality columns.
func TestAncestryOnScenarios(t *testing.T) {
	db, scs, byRow := scenarioDB(t)
	rowOf := map[procKey]int64{}
	for id, k := range byRow {
		rowOf[k] = id
	}
	for _, sc := range scs {
		exp, err := evtxtest.LoadExpect(filepath.Join(evtxtest.ScenariosDir(t), sc.Name))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range exp.Ancestry {
			id, ok := rowOf[procKey{sc.Name, f.Process}]
			if !ok {
				t.Errorf("%s/%s: no process row", sc.Name, f.Process)
				continue
			}
			var actor, cgo sql.NullString
			var root sql.NullInt64
			err := db.QueryRow(`SELECT actor_process_image_name, causality_actor_process_image_name, action_process_is_causality_root
				FROM xdr_data WHERE rowid = ?`, id).Scan(&actor, &cgo, &root)
			if err != nil {
				t.Fatal(err)
			}
			if f.Actor != "" && !strings.EqualFold(actor.String, f.Actor) {
				t.Errorf("%s/%s: actor %q, want %q", sc.Name, f.Process, actor.String, f.Actor)
			}
			if f.CausalityActor != "" && !strings.EqualFold(cgo.String, f.CausalityActor) {
				t.Errorf("%s/%s: causality actor %q, want %q", sc.Name, f.Process, cgo.String, f.CausalityActor)
			}
			if f.IsCausalityRoot != nil && (root.Int64 == 1) != *f.IsCausalityRoot {
				t.Errorf("%s/%s: is_causality_root %v, want %v", sc.Name, f.Process, root.Int64 == 1, *f.IsCausalityRoot)
			}
		}
	}
}
