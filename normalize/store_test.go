package normalize_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"evtxhunt/normalize"
)

// TestOpenMigrates opens a database made by an older schema (fewer columns)
// and one made by a newer evtxhunt.
func TestOpenMigrates(t *testing.T) {
	ctx := context.Background()
	t.Run("older schema gains columns and keeps rows", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE xdr_data (_time INTEGER, agent_hostname TEXT, x_sources TEXT);
			INSERT INTO xdr_data VALUES (1, 'WS01', '[]')`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		st, err := normalize.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		have := map[string]bool{}
		rows, err := st.DB().Query("SELECT name FROM pragma_table_info('xdr_data')")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			have[n] = true
		}
		rows.Close()
		for _, c := range normalize.Columns() {
			if !have[c.Name] {
				t.Errorf("column %s was not added", c.Name)
			}
		}
		var host string
		var v int
		if err := st.DB().QueryRow("SELECT agent_hostname FROM xdr_data_readable").Scan(&host); err != nil || host != "WS01" {
			t.Errorf("old row through the view: %q %v", host, err)
		}
		if err := st.DB().QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != normalize.SchemaVersion {
			t.Errorf("user_version = %d %v, want %d", v, err, normalize.SchemaVersion)
		}
	})
	t.Run("newer schema is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "new.db")
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if st, err := normalize.Open(ctx, path); !errors.Is(err, normalize.ErrSchemaTooNew) {
			if st != nil {
				st.Close()
			}
			t.Errorf("err = %v, want ErrSchemaTooNew", err)
		}
	})
}

// TestInsertRejectsUnknownColumn refuses an Event with a name that is not a column.
func TestInsertRejectsUnknownColumn(t *testing.T) {
	st := openTemp(t, "unknown.db")
	ev := normalize.NewEvent()
	ev.Set("action_process_command_line", "x") // not an xdr_data field (§1.2)
	if _, err := st.Insert(context.Background(), []normalize.Event{ev}); err == nil {
		t.Error("Insert accepted an unknown column")
	}
}
