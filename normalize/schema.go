package normalize

import (
	"fmt"
	"sort"
	"strings"
)

// SchemaVersion is the PRAGMA user_version of a database with the current schema.
const SchemaVersion = 1

// DedupKey lists the xdr_data columns that identify one event record across
// copies of the same log: a record found again (another path, a VSS copy, a
// zip member, or the slack of another file) is stored once.
var DedupKey = []string{"x_computer", "x_channel", "x_record_id", "x_time_100ns", "x_event_id"}

// indexes are the xdr_data indices the hunts and the ancestry pass need.
var indexes = []struct{ name, cols string }{
	{"xdr_data_host_time", "agent_hostname, _time"},
	{"xdr_data_time", "_time"},
	{"xdr_data_image_name", "action_process_image_name COLLATE NOCASE"},
	{"xdr_data_type", "event_type, event_sub_type"},
	{"xdr_data_process_guid", "x_process_guid"},
	{"xdr_data_parent_guid", "x_parent_process_guid"},
	{"xdr_data_host_pid", "agent_hostname, action_process_os_pid"},
	{"xdr_data_pid", "action_process_os_pid"},
	{"xdr_data_source_sha256", "x_source_sha256"},
}

// auxTables are the accounting tables, created after xdr_data.
const auxTables = `
CREATE TABLE IF NOT EXISTS ingest_runs (
	run_id      INTEGER PRIMARY KEY,
	started     INTEGER NOT NULL,  -- epoch ms
	ended       INTEGER,           -- epoch ms; NULL while running or after a crash
	version     TEXT NOT NULL,
	arguments   TEXT NOT NULL,     -- JSON array of the command-line arguments
	status      TEXT NOT NULL DEFAULT 'running', -- running, done, failed, cancelled
	summary     TEXT               -- JSON of the IngestSummary
);
CREATE TABLE IF NOT EXISTS ingest_files (
	file_id           INTEGER PRIMARY KEY,
	run_id            INTEGER NOT NULL,
	path              TEXT NOT NULL,
	member            TEXT NOT NULL DEFAULT '',
	sha256            TEXT NOT NULL,
	bytes             INTEGER NOT NULL,
	header_chunks     INTEGER NOT NULL DEFAULT 0,
	chunks            INTEGER NOT NULL DEFAULT 0,
	chunks_bad        INTEGER NOT NULL DEFAULT 0,
	records           INTEGER NOT NULL DEFAULT 0,
	records_failed    INTEGER NOT NULL DEFAULT 0,
	records_recovered INTEGER NOT NULL DEFAULT 0,
	wanted            INTEGER NOT NULL DEFAULT 0,
	wanted_recovered  INTEGER NOT NULL DEFAULT 0,
	process_records   INTEGER NOT NULL DEFAULT 0,
	rows_inserted     INTEGER NOT NULL DEFAULT 0,
	rows_duplicate    INTEGER NOT NULL DEFAULT 0,
	out_of_range      INTEGER NOT NULL DEFAULT 0,
	map_errors        INTEGER NOT NULL DEFAULT 0,
	status            TEXT NOT NULL,  -- ok, partial, skipped, failed, duplicate
	reason            TEXT NOT NULL DEFAULT '',
	failures          TEXT NOT NULL DEFAULT '{}', -- JSON object: reason -> count
	ingested          INTEGER NOT NULL -- epoch ms
);
CREATE INDEX IF NOT EXISTS ingest_files_sha256 ON ingest_files (sha256);
CREATE INDEX IF NOT EXISTS ingest_files_run ON ingest_files (run_id);
`

// createTableSQL returns the CREATE TABLE statement of xdr_data.
func createTableSQL() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS xdr_data (\n")
	for i, c := range Columns() {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "\t%s %s", quoteIdent(c.Name), c.SQLType)
	}
	b.WriteString("\n)")
	return b.String()
}

// indexSQL returns the CREATE INDEX statements of xdr_data, the unique
// dedup index first.
func indexSQL() []string {
	stmts := []string{fmt.Sprintf("CREATE UNIQUE INDEX IF NOT EXISTS xdr_data_dedup ON xdr_data (%s)", strings.Join(DedupKey, ", "))}
	for _, ix := range indexes {
		stmts = append(stmts, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON xdr_data (%s)", ix.name, ix.cols))
	}
	return stmts
}

// ReadableView is the name of the view that shows xdr_data with ENUM names
// and ISO-8601 times.
const ReadableView = "xdr_data_readable"

// readableViewSQL returns the statement that creates xdr_data_readable: every
// column of xdr_data under its own name, ENUM columns rendered as names
// (unknown values as their number) and _time/insert/execution times as
// ISO-8601 UTC text.
func readableViewSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE VIEW %s AS SELECT\n", ReadableView)
	for i, c := range Columns() {
		if i > 0 {
			b.WriteString(",\n")
		}
		q := quoteIdent(c.Name)
		switch {
		case IsEnumColumn(c.Name):
			m := enumColumn(c.Name)
			vs := make([]int64, 0, len(m))
			for v := range m {
				vs = append(vs, v)
			}
			sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
			fmt.Fprintf(&b, "\tCASE %s", q)
			for _, v := range vs {
				fmt.Fprintf(&b, " WHEN %d THEN '%s'", v, m[v])
			}
			fmt.Fprintf(&b, " ELSE %s END AS %s", q, q)
		case isEpochMsColumn(c.Name):
			fmt.Fprintf(&b, "\tstrftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', %s / 1000.0, 'unixepoch') AS %s", q, q)
		default:
			fmt.Fprintf(&b, "\t%s", q)
		}
	}
	b.WriteString("\nFROM xdr_data")
	return b.String()
}

// isEpochMsColumn reports whether a column holds epoch milliseconds that the
// readable view renders as ISO-8601.
func isEpochMsColumn(name string) bool {
	switch name {
	case "_time", "_insert_time", "insert_timestamp", "event_timestamp":
		return true
	}
	return strings.HasSuffix(name, "_execution_time") || name == "action_process_termination_date"
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
