package hunt

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"evtxhunt/normalize"
)

// beTestRow is one hand-made xdr_data row: column name → value.
type beTestRow map[string]any

// beNewTestDB creates an evtxhunt database with normalize's schema, inserts
// rows (rowid i+1 for rows[i]) with bound parameters, and opens it with
// OpenDB.
func beNewTestDB(t testing.TB, rows []beTestRow) (*sql.DB, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hunt.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		t.Fatalf("normalize.Open: %v", err)
	}
	for i, r := range rows {
		names := make([]string, 0, len(r))
		for n := range r {
			names = append(names, n)
		}
		sort.Strings(names)
		quoted := make([]string, len(names))
		marks := make([]string, len(names))
		args := []any{int64(i + 1)}
		for j, n := range names {
			quoted[j] = quoteIdent(n)
			marks[j] = "?"
			args = append(args, r[n])
		}
		q := "INSERT INTO xdr_data (rowid"
		if len(names) > 0 {
			q += ", " + strings.Join(quoted, ", ")
		}
		q += ") VALUES (?"
		if len(names) > 0 {
			q += ", " + strings.Join(marks, ", ")
		}
		q += ")"
		if _, err := st.DB().ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("insert row %d: %v", i, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDB(path)
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpenDBMissingFile(t *testing.T) {
	if _, err := OpenDB(filepath.Join(t.TempDir(), "absent.db")); err == nil {
		t.Fatal("OpenDB of a missing file succeeded")
	}
}

func TestOpenDBIsQueryOnly(t *testing.T) {
	db, _ := beNewTestDB(t, []beTestRow{{"agent_hostname": "h"}})
	if _, err := db.Exec(`DELETE FROM xdr_data`); err == nil {
		t.Fatal("DELETE through OpenDB succeeded; the connection should be query-only")
	}
}

func TestLatestTime(t *testing.T) {
	db, _ := beNewTestDB(t, nil)
	if _, ok, err := LatestTime(context.Background(), db); err != nil || ok {
		t.Fatalf("empty table: ok=%v err=%v, want ok=false", ok, err)
	}
	db, _ = beNewTestDB(t, []beTestRow{{"_time": int64(1000)}, {"_time": int64(5000)}, {"_time": nil}})
	got, ok, err := LatestTime(context.Background(), db)
	if err != nil || !ok || got.UnixMilli() != 5000 {
		t.Fatalf("LatestTime = %v %v %v, want 5000 ms", got, ok, err)
	}
}
