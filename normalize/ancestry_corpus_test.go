package normalize_test

import (
	"context"
	"path/filepath"
	"testing"

	"evtxhunt/evtx/evtxtest"
	"evtxhunt/normalize"
)

// TestCorpusAncestry ingests the shared corpus, rebuilds the ancestry and
// checks it against SQL over the stored records: every Sysmon EID 1 whose
// parent's own EID 1 record is in the database (same host, ProcessGuid =
// ParentProcessGuid) is linked to that record, and every PROCESS row has a
// non-empty x_ancestry.
func TestCorpusAncestry(t *testing.T) {
	shared := evtxtest.SharedDir(t)
	if testing.Short() {
		t.Skip("ingests the whole corpus")
	}
	ctx := context.Background()
	st, err := normalize.Open(ctx, filepath.Join(t.TempDir(), "corpus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Ingest(ctx, []string{filepath.Join(shared, "corpus", "evtx")}, normalize.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	stats, err := st.RebuildAncestry(ctx, normalize.AncestryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ancestry: %+v", stats)
	db := st.DB()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	const withParentRecord = `FROM xdr_data AS c WHERE c.event_sub_type = 1 AND c.x_event_id = 1 AND c.x_parent_process_guid IS NOT NULL
	AND EXISTS (SELECT 1 FROM xdr_data AS p WHERE p.agent_id = c.agent_id AND p.event_sub_type = 1 AND p.x_event_id = 1
		AND p.x_process_guid = c.x_parent_process_guid AND p.rowid <> c.rowid)`
	present := count("SELECT count(*) " + withParentRecord)
	linked := count("SELECT count(*) " + withParentRecord + `
	AND EXISTS (SELECT 1 FROM process_nodes AS n JOIN process_nodes AS pn ON pn.node_id = n.parent_node_id
		WHERE n.xdr_rowid = c.rowid AND pn.synthetic = 0 AND pn.guid = c.x_parent_process_guid)`)
	sysmon := count("SELECT count(*) FROM xdr_data WHERE event_sub_type = 1 AND x_event_id = 1")
	t.Logf("Sysmon EID 1 rows: %d; with the parent's record stored: %d; linked to it: %d", sysmon, present, linked)
	if present == 0 || linked != present {
		t.Errorf("linked %d of %d Sysmon EID 1 rows whose parent record exists", linked, present)
	}
	if stats.SysmonParentLinked != linked || stats.SysmonParentPresent != present {
		t.Errorf("stats say %d of %d, SQL says %d of %d", stats.SysmonParentLinked, stats.SysmonParentPresent, linked, present)
	}
	process := count("SELECT count(*) FROM xdr_data WHERE event_type = 1")
	empty := count("SELECT count(*) FROM xdr_data WHERE event_type = 1 AND (x_ancestry IS NULL OR x_ancestry = '')")
	t.Logf("PROCESS rows: %d; without x_ancestry: %d", process, empty)
	if process == 0 || empty != 0 {
		t.Errorf("%d of %d PROCESS rows have no x_ancestry", empty, process)
	}
	if n := count("SELECT count(*) FROM xdr_data WHERE event_sub_type = 1 AND (x_cgo_rule IS NULL OR causality_actor_process_instance_id IS NULL AND action_process_os_pid IS NOT NULL)"); n != 0 {
		t.Errorf("%d start rows without x_cgo_rule or causality actor id", n)
	}
	// A second rebuild changes nothing.
	before := count("SELECT total(length(x_ancestry)) + count(causality_actor_process_instance_id) FROM xdr_data")
	again, err := st.RebuildAncestry(ctx, normalize.AncestryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Updated != 0 {
		t.Errorf("second rebuild rewrote %d rows", again.Updated)
	}
	if after := count("SELECT total(length(x_ancestry)) + count(causality_actor_process_instance_id) FROM xdr_data"); after != before {
		t.Errorf("second rebuild changed the ancestry: %d -> %d", before, after)
	}
}
