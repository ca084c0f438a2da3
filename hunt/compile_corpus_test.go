package hunt

import (
	"context"
	"path/filepath"
	"testing"

	"evtxhunt/evtx/evtxtest"
	"evtxhunt/normalize"
)

// TestPublicQueriesOnCorpusDB ingests the shared EVTX corpus with
// normalize.Ingest and runs the seed query (faithful and path-sep modes)
// and every eligible public query on it. None may fail; the counts are
// logged.
func TestPublicQueriesOnCorpusDB(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the shared corpus")
	}
	corpus := filepath.Join(evtxtest.SharedDir(t), "corpus", "evtx")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "corpus.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := st.Ingest(ctx, []string{corpus}, normalize.IngestOptions{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM xdr_data`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus DB: %d files, %d process rows in xdr_data", sum.Files, rows)

	seed, err := Parse(seedXQL(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range []bool{false, true} {
		res, err := Run(ctx, db, seed, RunOptions{PathSepInsensitive: ps})
		if err != nil {
			t.Fatalf("seed (path-sep %v): %v", ps, err)
		}
		n := 0
		for _, f := range res.PathSepOnly {
			if f {
				n++
			}
		}
		t.Logf("seed on the corpus, path-sep-insensitive=%v: %d rows (%d path-sep only), window %s", ps, len(res.Rows), n, res.Window)
	}

	sources, queries := backendPublicQueries(t)
	var eligible, ran, withRows int
	for i, src := range queries {
		q, err := Parse(src)
		if err != nil {
			continue
		}
		if ok, _ := backendEligible(q); !ok {
			continue
		}
		eligible++
		res, err := Run(ctx, db, q, RunOptions{})
		if err != nil {
			t.Errorf("%s: %v\n%s", sources[i], err, src)
			continue
		}
		ran++
		if len(res.Rows) > 0 {
			withRows++
		}
	}
	t.Logf("public queries on the corpus DB: %d eligible, %d ran, %d returned rows", eligible, ran, withRows)
}
