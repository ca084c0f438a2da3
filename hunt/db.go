package hunt

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// DriverName is the database/sql driver name under which OpenDB's SQLite
// driver, with the XQL functions registered on every connection, is known.
const DriverName = "evtxhunt_xql"

var registerOnce sync.Once

// registerDriver registers DriverName once per process.
func registerDriver() {
	registerOnce.Do(func() {
		sql.Register(DriverName, &sqlite3.SQLiteDriver{ConnectHook: registerFuncs})
	})
}

// registerFuncs installs the XQL SQLite functions on a new connection.
func registerFuncs(c *sqlite3.SQLiteConn) error {
	for _, f := range sqlFuncs {
		if err := c.RegisterFunc(f.name, f.impl, f.pure); err != nil {
			return fmt.Errorf("hunt: register %s: %w", f.name, err)
		}
	}
	return nil
}

// OpenDB opens an evtxhunt database for querying, with the XQL functions
// registered (driver DriverName). The file must already exist; the
// connection is query-only.
func OpenDB(path string) (*sql.DB, error) {
	registerDriver()
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("hunt: open %s: %w", path, err)
	}
	// A URI filename with %, ? and # escaped; query_only keeps a query from
	// ever writing to the evidence database.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open(DriverName, "file:"+esc+"?mode=rw&_busy_timeout=5000&_query_only=true")
	if err != nil {
		return nil, fmt.Errorf("hunt: open %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("hunt: open %s: %w", path, err)
	}
	return db, nil
}

// LatestTime returns max(_time) of xdr_data, the default anchor for
// relative time frames; ok is false when the table is empty.
func LatestTime(ctx context.Context, db *sql.DB) (t time.Time, ok bool, err error) {
	var ms sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max("_time") FROM xdr_data`).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("hunt: latest _time: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64).UTC(), true, nil
}
