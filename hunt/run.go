package hunt

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// RunOptions control Run.
type RunOptions struct {
	// Now anchors relative time frames and current_time(); zero means
	// max(_time) in the database, never the wall clock.
	Now time.Time
	// From and To are the --from/--to window (zero: unset).
	From, To time.Time
	// PathSepInsensitive: see CompileOptions.
	PathSepInsensitive bool
}

// Result is the outcome of Run.
type Result struct {
	// Columns are the result column names.
	Columns []string
	// Rows hold one value per column: nil, int64, float64, string, bool
	// (boolean fields), time.Time (timestamps, UTC), json.RawMessage (arrays
	// and JSON), or the ENUM name (string) of ENUM fields.
	Rows [][]any
	// RowIDs are the xdr_data rowids of the rows when row identity survives
	// the stages (no comp, join or union); else nil.
	RowIDs []int64
	// PathSepOnly flags, per row, rows that matched only because of
	// PathSepInsensitive; nil when that option is off.
	PathSepOnly []bool
	// Window is the resolved time window.
	Window Window
	// Notes are the compiler's informational diagnostics.
	Notes []Diagnostic
	// SQL is the statement that was run.
	SQL string
}

// Run compiles q and runs it on db (opened with OpenDB).
func Run(ctx context.Context, db *sql.DB, q *Query, opt RunOptions) (*Result, error) {
	now := opt.Now
	if now.IsZero() {
		t, ok, err := LatestTime(ctx, db)
		if err != nil {
			return nil, err
		}
		if ok {
			now = t
		} else {
			now = time.UnixMilli(0).UTC()
		}
	}
	c, err := Compile(q, CompileOptions{Now: now, From: opt.From, To: opt.To, PathSepInsensitive: opt.PathSepInsensitive})
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: c.Columns, Window: c.Window, Notes: c.Notes, SQL: c.SQL}
	rows, err := db.QueryContext(ctx, c.SQL, c.Args...)
	if err != nil {
		return nil, fmt.Errorf("hunt: run: %w", err)
	}
	defer rows.Close()
	extra := 0
	if c.rowID {
		extra++
		res.RowIDs = []int64{}
	}
	if c.pathFlag {
		extra++
		res.PathSepOnly = []bool{}
	}
	raw := make([]any, extra+len(c.cols))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("hunt: run: scan: %w", err)
		}
		j := 0
		if c.rowID {
			id, _ := raw[0].(int64)
			res.RowIDs = append(res.RowIDs, id)
			j++
		}
		if c.pathFlag {
			faithful, _ := raw[j].(int64)
			res.PathSepOnly = append(res.PathSepOnly, faithful == 0)
			j++
		}
		row := make([]any, len(c.cols))
		for i, col := range c.cols {
			row[i] = render(col, raw[j+i])
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hunt: run: %w", err)
	}
	return res, nil
}

// render converts a stored value to its display form for a column.
func render(col column, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch x := v.(type) {
	case int64:
		switch {
		case col.enum != nil && col.kind != kArray:
			if n := col.enum.NameOf(x); n != "" {
				return n
			}
		case col.kind == kTime:
			return time.UnixMilli(x).UTC()
		case col.kind == kBool:
			return x != 0
		}
	case float64:
		if col.kind == kTime {
			return time.UnixMilli(int64(x)).UTC()
		}
	case string:
		if col.kind == kArray && col.enum != nil {
			if elems, ok := jsonArray(x); ok {
				for i, e := range elems {
					if n, ok := e.(json.Number); ok {
						if iv, err := n.Int64(); err == nil && col.enum.NameOf(iv) != "" {
							elems[i] = col.enum.NameOf(iv)
						}
					}
				}
				return json.RawMessage(jsonText(elems))
			}
		}
		if col.kind == kArray || col.kind == kJSON {
			if json.Valid([]byte(x)) {
				return json.RawMessage(x)
			}
		}
	}
	return v
}

// FormatValue renders a Result value as text: "" for NULL, timestamps as
// ISO 8601 UTC with milliseconds, arrays and JSON as their JSON text.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case json.RawMessage:
		return string(x)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
