package normalize

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	// The project's SQLite driver (cgo, the real SQLite library).
	_ "github.com/mattn/go-sqlite3"
)

// Store is an evtxhunt SQLite database: the xdr_data table, its readable
// view and the ingest accounting tables. It is safe for concurrent use by
// multiple goroutines as *sql.DB is; writes are serialised by SQLite.
type Store struct {
	db       *sql.DB
	path     string
	cols     []Column
	colIndex map[string]int
}

// ErrSchemaTooNew is returned by Open for a database written by a newer evtxhunt.
var ErrSchemaTooNew = errors.New("normalize: database schema is newer than this evtxhunt")

// Open opens (creating if needed) the database at path, in WAL mode with
// foreign keys off, and creates or migrates the schema: missing xdr_data
// columns are added, indices and the xdr_data_readable view are (re)created.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + escapeDSNPath(path) + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=30000&_foreign_keys=off&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("normalize: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, cols: Columns(), colIndex: map[string]int{}}
	for i, c := range s.cols {
		s.colIndex[c.Name] = i
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("normalize: open %s: %w", path, err)
	}
	return s, nil
}

// escapeDSNPath escapes the characters that would end or change the path
// part of an SQLite file: URI.
func escapeDSNPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// DB returns the underlying database handle.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the database file path given to Open.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("normalize: close %s: %w", s.path, err)
	}
	return nil
}

// migrate creates the schema or brings an older one up to date.
func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > SchemaVersion {
		return fmt.Errorf("%w (user_version %d > %d)", ErrSchemaTooNew, version, SchemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, createTableSQL()); err != nil {
		return fmt.Errorf("create xdr_data: %w", err)
	}
	have := map[string]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info('xdr_data')")
	if err != nil {
		return fmt.Errorf("list xdr_data columns: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("list xdr_data columns: %w", err)
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list xdr_data columns: %w", err)
	}
	for _, c := range s.cols {
		if !have[c.Name] {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE xdr_data ADD COLUMN %s %s", quoteIdent(c.Name), c.SQLType)); err != nil {
				return fmt.Errorf("add column %s: %w", c.Name, err)
			}
		}
	}
	stmts := append(indexSQL(), auxTables, "DROP VIEW IF EXISTS "+ReadableView, readableViewSQL(),
		fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("schema: %w (in %.60q)", err, q)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// insertSQL returns the INSERT statement for cols; a row whose dedup key is
// already stored is not inserted (RowsAffected 0).
func insertSQL(cols []Column) string {
	if len(cols) == 0 {
		return "INSERT INTO xdr_data DEFAULT VALUES"
	}
	var names, marks strings.Builder
	for i, c := range cols {
		if i > 0 {
			names.WriteString(", ")
			marks.WriteString(", ")
		}
		names.WriteString(quoteIdent(c.Name))
		marks.WriteString("?")
	}
	return "INSERT INTO xdr_data (" + names.String() + ") VALUES (" + marks.String() + ") ON CONFLICT DO NOTHING"
}

// InsertResult counts what Insert did with its events.
type InsertResult struct {
	// Inserted is the number of new rows.
	Inserted int64
	// InsertedRecovered is the number of new rows read from chunk slack.
	InsertedRecovered int64
	// Duplicates is the number of events whose record was already stored
	// (same DedupKey); no row was added for them.
	Duplicates int64
	// NewSources is the number of those duplicates that came from a source
	// (path, zip member, sha256, offset) not yet listed in the row's x_sources.
	NewSources int64
}

// Add accumulates o into r.
func (r *InsertResult) Add(o InsertResult) {
	r.Inserted += o.Inserted
	r.InsertedRecovered += o.InsertedRecovered
	r.Duplicates += o.Duplicates
	r.NewSources += o.NewSources
}

// Insert stores events in one transaction. An event whose DedupKey matches a
// stored row adds no row: its sources are merged into the row's x_sources
// and x_recovered becomes 0 if any copy was live. Unknown column names are
// an error.
func (s *Store) Insert(ctx context.Context, evs []Event) (InsertResult, error) {
	var res InsertResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.insertTx(ctx, tx, evs)
		return err
	})
	return res, err
}

// inTx runs fn in a write transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("normalize: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("normalize: commit: %w", err)
	}
	return nil
}

// insertTx is Insert inside a caller's transaction.
func (s *Store) insertTx(ctx context.Context, tx *sql.Tx, evs []Event) (InsertResult, error) {
	var res InsertResult
	if len(evs) == 0 {
		return res, nil
	}
	// One prepared INSERT per set of non-NULL columns: binding only the
	// columns a row has is several times cheaper than binding all of them.
	inserts := map[string]*sql.Stmt{}
	defer func() {
		for _, st := range inserts {
			st.Close()
		}
	}()
	where := make([]string, len(DedupKey))
	for i, k := range DedupKey {
		where[i] = k + " = ?"
	}
	look, err := tx.PrepareContext(ctx, "SELECT rowid, x_sources, x_recovered FROM xdr_data WHERE "+strings.Join(where, " AND "))
	if err != nil {
		return res, fmt.Errorf("normalize: prepare lookup: %w", err)
	}
	defer look.Close()
	upd, err := tx.PrepareContext(ctx, "UPDATE xdr_data SET x_sources = ?, x_recovered = ? WHERE rowid = ?")
	if err != nil {
		return res, fmt.Errorf("normalize: prepare update: %w", err)
	}
	defer upd.Close()
	// The ancestry pass moves a record it merged into another row (Sysmon 1
	// and 4688 of one process) to xdr_data_merged; such a record is stored too.
	var lookMerged *sql.Stmt
	var hasMerged int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'xdr_data_merged'").Scan(&hasMerged); err != nil {
		return res, fmt.Errorf("normalize: look for xdr_data_merged: %w", err)
	}
	if hasMerged > 0 {
		lookMerged, err = tx.PrepareContext(ctx, "SELECT merged_into FROM xdr_data_merged WHERE "+strings.Join(where, " AND ")+" LIMIT 1")
		if err != nil {
			return res, fmt.Errorf("normalize: prepare merged lookup: %w", err)
		}
		defer lookMerged.Close()
	}

	args := make([]any, 0, len(s.cols))
	idx := make([]int, 0, len(s.cols))
	sig := make([]byte, 0, 2*len(s.cols))
	keyArgs := make([]any, len(DedupKey))
	for i := range evs {
		ev := &evs[i]
		idx = idx[:0]
		for name, v := range ev.Cols {
			j, ok := s.colIndex[name]
			if !ok {
				return res, fmt.Errorf("normalize: insert: %q is not an xdr_data column", name)
			}
			if v != nil {
				idx = append(idx, j)
			}
		}
		sort.Ints(idx)
		args, sig = args[:0], sig[:0]
		for _, j := range idx {
			args = append(args, ev.Cols[s.cols[j].Name])
			sig = binary.AppendUvarint(sig, uint64(j))
		}
		haveKey := true
		for k, name := range DedupKey {
			keyArgs[k] = ev.Cols[name]
			if keyArgs[k] == nil {
				haveKey = false
			}
		}
		if haveKey && lookMerged != nil {
			var into int64
			err := lookMerged.QueryRowContext(ctx, keyArgs...).Scan(&into)
			switch {
			case err == nil:
				res.Duplicates++
				added, err := s.addSourcesTo(ctx, tx, into, ev.Str("x_sources"))
				if err != nil {
					return res, err
				}
				if added {
					res.NewSources++
				}
				continue
			case errors.Is(err, sql.ErrNoRows):
			default:
				return res, fmt.Errorf("normalize: merged dedup lookup: %w", err)
			}
		}
		ins := inserts[string(sig)]
		if ins == nil {
			cols := make([]Column, len(idx))
			for k, j := range idx {
				cols[k] = s.cols[j]
			}
			var err error
			if ins, err = tx.PrepareContext(ctx, insertSQL(cols)); err != nil {
				return res, fmt.Errorf("normalize: prepare insert: %w", err)
			}
			inserts[string(sig)] = ins
		}
		r, err := ins.ExecContext(ctx, args...)
		if err != nil {
			return res, fmt.Errorf("normalize: insert record %v of %s: %w", ev.Get("x_record_id"), ev.Str("x_source_path"), err)
		}
		if n, err := r.RowsAffected(); err != nil || n == 1 || !haveKey {
			res.Inserted++
			if rec, _ := ev.Int("x_recovered"); rec != 0 {
				res.InsertedRecovered++
			}
			continue
		}
		// The dedup index refused the row: merge this copy into the stored one.
		var rowid int64
		var srcJSON sql.NullString
		var recovered sql.NullInt64
		if err := look.QueryRowContext(ctx, keyArgs...).Scan(&rowid, &srcJSON, &recovered); err != nil {
			return res, fmt.Errorf("normalize: dedup lookup: %w", err)
		}
		res.Duplicates++
		merged, added := mergeSources(srcJSON.String, ev.Str("x_sources"))
		rec := recovered.Int64
		if r, ok := ev.Int("x_recovered"); ok && r == 0 {
			rec = 0
		}
		if added || (recovered.Valid && rec != recovered.Int64) {
			if added {
				res.NewSources++
			}
			if _, err := upd.ExecContext(ctx, merged, rec, rowid); err != nil {
				return res, fmt.Errorf("normalize: merge sources of row %d: %w", rowid, err)
			}
		}
	}
	return res, nil
}

// addSourcesTo merges an x_sources array into the row rowid, if it still
// exists, and reports whether a source was added.
func (s *Store) addSourcesTo(ctx context.Context, tx *sql.Tx, rowid int64, sources string) (bool, error) {
	var have sql.NullString
	err := tx.QueryRowContext(ctx, "SELECT x_sources FROM xdr_data WHERE rowid = ?", rowid).Scan(&have)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("normalize: read sources of row %d: %w", rowid, err)
	}
	merged, added := mergeSources(have.String, sources)
	if !added {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE xdr_data SET x_sources = ? WHERE rowid = ?", merged, rowid); err != nil {
		return false, fmt.Errorf("normalize: merge sources of row %d: %w", rowid, err)
	}
	return true, nil
}

// sameSource reports whether two source references name the same place.
func sameSource(a, b SourceRef) bool {
	return a.Path == b.Path && a.Member == b.Member && a.SHA256 == b.SHA256 && a.Offset == b.Offset
}

// mergeSources adds the references of add (an x_sources JSON array) that are
// not yet in have, and reports whether anything was added.
func mergeSources(have, add string) (string, bool) {
	h, err := ParseSources(have)
	if err != nil {
		h = nil
	}
	a, err := ParseSources(add)
	if err != nil {
		return have, false
	}
	added := false
	for _, r := range a {
		found := false
		for _, x := range h {
			if sameSource(x, r) {
				found = true
				break
			}
		}
		if !found {
			h = append(h, r)
			added = true
		}
	}
	if !added {
		return have, false
	}
	return sourcesJSON(h), true
}
