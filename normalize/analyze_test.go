package normalize_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"evtxhunt/normalize"
)

// TestIngestAnalyzes checks that an ingest leaves planner statistics for
// the xdr_data indices (sqlite_stat1), whose first figure is the row count.
func TestIngestAnalyzes(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(corpusDir(t), "JayanthK007+atomic-evtx", "ttp_evtx", "T1021.002-1", "T1021.002-1_Microsoft-Windows-Sysmon_Operational.evtx")
	for _, skip := range []bool{false, true} {
		t.Run(map[bool]string{false: "with ancestry", true: "without ancestry"}[skip], func(t *testing.T) {
			st := openTemp(t, "analyze.db")
			sum, err := st.Ingest(ctx, []string{src}, normalize.IngestOptions{SkipAncestry: skip})
			if err != nil {
				t.Fatal(err)
			}
			var rows int64
			if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM xdr_data").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows == 0 || sum.ProcessRows == 0 {
				t.Fatal("the sample file gave no rows")
			}
			var stat string
			err = st.DB().QueryRowContext(ctx, "SELECT stat FROM sqlite_stat1 WHERE tbl = 'xdr_data' AND idx = 'xdr_data_image_name'").Scan(&stat)
			if err != nil {
				t.Fatalf("no statistics of xdr_data_image_name after the ingest: %v", err)
			}
			var n int64
			if _, err := fmt.Sscan(stat, &n); err != nil || n != rows {
				t.Errorf("sqlite_stat1 says %q, want %d rows first", stat, rows)
			}
		})
	}
}
