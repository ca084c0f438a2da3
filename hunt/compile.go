package hunt

import (
	"fmt"
	"strings"
	"time"

	"evtxhunt/normalize"
)

// CompileOptions control how a query is compiled.
type CompileOptions struct {
	// Now anchors relative time frames and current_time().
	Now time.Time
	// From and To are the --from/--to window (zero: unset). A config
	// timeframe in the query overrides them.
	From, To time.Time
	// PathSepInsensitive makes '\' and '/' compare as equal on *_path,
	// *_command_line and *_cwd fields in filter conditions (non-XDR
	// behaviour; rows found only that way are flagged).
	PathSepInsensitive bool
}

// Compiled is a query compiled to one SQLite statement (a chain of CTEs).
type Compiled struct {
	// SQL is the statement; every literal is a bound parameter ?N.
	SQL string
	// Args are the parameter values, ?1 first.
	Args []any
	// Columns are the visible result columns, in order.
	Columns []string
	// Window is the resolved time window.
	Window Window
	// Notes are informational diagnostics (stages ignored, fields evtxhunt
	// never fills, ENUM names without a known number).
	Notes []Diagnostic

	cols     []column // metadata of Columns
	rowID    bool     // the statement's first column is the xdr_data rowid
	pathFlag bool     // the statement has a faithful-match flag column
}

// CompileError is a query the back end cannot compile, at a position.
type CompileError struct {
	Pos Pos
	Msg string
}

// Error returns "hunt: msg at line:col".
func (e *CompileError) Error() string {
	if !e.Pos.IsValid() {
		return "hunt: " + e.Msg
	}
	return fmt.Sprintf("hunt: %s at %d:%d", e.Msg, e.Pos.Line, e.Pos.Col)
}

func errAt(p Pos, format string, args ...any) error {
	return &CompileError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// Names of the hidden bookkeeping columns carried between CTEs.
const (
	hidRowID = "__xql_rowid" // xdr_data rowid while row identity survives
	hidOrd   = "__xql_ord"   // row order established by sort
	hidPF    = "__xql_pf"    // 1 when the row also matches faithfully (path-sep mode)
	hidDedup = "__xql_dn"
	hidMatch = "__xql_m" // 1 on the inner side of a join when a row matched
	hidPre   = "__xql_"
)

// kind is the value type of a column or expression as far as the compiler
// knows it.
type kind uint8

const (
	kAny   kind = iota
	kText       // string
	kInt        // integer
	kFloat      // decimal
	kBool       // 0/1
	kTime       // epoch milliseconds
	kArray      // JSON array text
	kJSON       // JSON object or value text
)

// column is one visible column of a relation.
type column struct {
	name string
	kind kind
	enum *EnumTable // for kArray: the ENUM of the elements
	path bool       // a *_path / *_command_line / *_cwd field (path-sep mode)
	text bool       // a stored TEXT column: its values are TEXT or NULL
}

// relation is one CTE: its name, visible columns and hidden columns.
type relation struct {
	name           string
	cols           []column
	rowid, ord, pf bool
}

// find returns the index of a visible column, matched case-insensitively.
func (r *relation) find(name string) int {
	for i, c := range r.cols {
		if strings.EqualFold(c.name, name) {
			return i
		}
	}
	return -1
}

// hidden lists the hidden columns present, optionally leaving some out.
func (r *relation) hidden(except ...string) []string {
	var out []string
	add := func(ok bool, n string) {
		if !ok {
			return
		}
		for _, e := range except {
			if e == n {
				return
			}
		}
		out = append(out, quoteIdent(n))
	}
	add(r.rowid, hidRowID)
	add(r.ord, hidOrd)
	add(r.pf, hidPF)
	return out
}

// orderBy is the SQL ordering that reproduces the relation's row order.
func (r *relation) orderBy() string {
	switch {
	case r.ord:
		return quoteIdent(hidOrd)
	case r.rowid:
		return quoteIdent(hidRowID)
	}
	return ""
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// builder accumulates CTEs, parameters and notes.
type builder struct {
	opt   CompileOptions
	args  []any
	ctes  []string
	notes []Diagnostic
	noted map[string]bool
	// window0 is the top-level window, inherited by sub-queries.
	window0 Window
	// keys collects the folded join keys of the join condition being
	// compiled (nil outside join conditions).
	keys *joinKeys
}

// param binds a value and returns its placeholder.
func (b *builder) param(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("?%d", len(b.args))
}

// cte adds a CTE and returns its relation name.
func (b *builder) cte(body string) string {
	name := fmt.Sprintf("s%d", len(b.ctes)+1)
	b.ctes = append(b.ctes, quoteIdent(name)+" AS ("+body+")")
	return name
}

// cteMaterialized adds a CTE that SQLite computes once (not flattened into
// its user) and returns its relation name.
func (b *builder) cteMaterialized(body string) string {
	name := fmt.Sprintf("s%d", len(b.ctes)+1)
	b.ctes = append(b.ctes, quoteIdent(name)+" AS MATERIALIZED ("+body+")")
	return name
}

// note records an informational diagnostic once per code and message.
func (b *builder) note(p Pos, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if b.noted[code+"\x00"+msg] {
		return
	}
	b.noted[code+"\x00"+msg] = true
	b.notes = append(b.notes, Diagnostic{Pos: p, Severity: "note", Code: code, Msg: msg})
}

// noteWarn records a warning diagnostic once per code and message.
func (b *builder) noteWarn(p Pos, code, format string, args ...any) {
	b.note(p, code, format, args...)
	b.notes[len(b.notes)-1].Severity = "warning"
}

// Compile compiles a parsed query to SQLite. Stages the engine cannot run
// fail with "unsupported stage X at line:col"; `view` is ignored with a note.
//
// The statement is a chain of CTEs, one per stage (one per assignment of
// alter), each selecting from the previous one:
//
//	WITH "s1" AS (SELECT rowid AS "__xql_rowid", <xdr_data columns> FROM xdr_data
//	              WHERE "_time" >= ?1 AND "_time" <= ?2 [AND "event_type" = ?3]),
//	     "s2" AS (SELECT * FROM "s1" WHERE <filter>),
//	     "s3" AS (SELECT …, row_number() OVER (ORDER BY …) AS "__xql_ord" FROM "s2"),  -- sort
//	     "s4" AS (SELECT <fields> FROM "s3"),
//	     …
//	SELECT ["__xql_rowid",] ["__xql_pf",] <columns> FROM "sN" ORDER BY "__xql_ord"|"__xql_rowid"
//
// Hidden "__xql_" columns carry the xdr_data rowid (until comp, join or
// union), the sort order and, in path-sep mode, whether the row also
// matches faithfully. Every literal is a numbered parameter. Tests of a
// stored TEXT column against a plain literal compile to SQLite's own
// operators where these give xql_match's exact answer (COLLATE NOCASE, IN,
// LIKE, instr; see compile_native.go); other string tests (non-ASCII
// literals, '*' wildcards, arrays, path-separator mode, computed values)
// call xql_match, regexes xql_regex behind a literal prefilter, CIDRs
// xql_incidr (see sqlFuncs). The terms of and/or run cheap-first.
func Compile(q *Query, opt CompileOptions) (*Compiled, error) {
	if q == nil {
		return nil, errAt(Pos{}, "empty query")
	}
	b := &builder{opt: opt, noted: map[string]bool{}}
	var win Window
	rel, err := b.pipeline(q, true, nil, &win)
	if err != nil {
		return nil, err
	}
	var sel []string
	c := &Compiled{Window: win}
	if rel.rowid {
		sel = append(sel, quoteIdent(hidRowID))
		c.rowID = true
	}
	if opt.PathSepInsensitive {
		if rel.pf {
			sel = append(sel, quoteIdent(hidPF))
		} else {
			sel = append(sel, "1")
		}
		c.pathFlag = true
	}
	for _, col := range rel.cols {
		sel = append(sel, quoteIdent(col.name))
		c.Columns = append(c.Columns, col.name)
	}
	c.cols = rel.cols
	var s strings.Builder
	s.WriteString("WITH ")
	s.WriteString(strings.Join(b.ctes, ",\n"))
	s.WriteString("\nSELECT ")
	s.WriteString(strings.Join(sel, ", "))
	s.WriteString(" FROM " + quoteIdent(rel.name))
	if o := rel.orderBy(); o != "" {
		s.WriteString(" ORDER BY " + o)
	}
	c.SQL = s.String()
	c.Args = b.args
	c.Notes = b.notes
	return c, nil
}

// pipeline compiles the stages of a query or sub-query. ci is the
// case-insensitivity in force at the start (true: the XQL default
// case_sensitive = false; a sub-query inherits its parent's). parent is the
// window a sub-query inherits (nil at top level); the resolved window of a
// top-level query is stored in *win.
func (b *builder) pipeline(q *Query, ci bool, parent *Window, win *Window) (*relation, error) {
	ciOn := ci
	var (
		rel *relation
		tf  *Timeframe
	)
	open := func(ds *DatasetStage, at Pos) error {
		w, err := b.window(tf, parent)
		if err != nil {
			return err
		}
		if parent == nil {
			*win = w
			b.window0 = w
		}
		rel, err = b.base(ds, at, w)
		return err
	}
	for _, st := range q.Stages {
		switch s := st.(type) {
		case *ConfigStage:
			if s.CaseSensitive != nil {
				ciOn = !*s.CaseSensitive
			}
			if s.Timeframe != nil {
				if rel != nil {
					return nil, errAt(s.At, "config timeframe must come before the data stage")
				}
				tf = s.Timeframe
			}
			continue
		case *DatasetStage:
			if rel != nil {
				return nil, errAt(s.At, "a second data source (%s = %s) in one pipeline", s.Kind, s.Name)
			}
			if err := open(s, s.At); err != nil {
				return nil, err
			}
			continue
		case *UnsupportedStage:
			if strings.EqualFold(s.Name, "view") {
				b.note(s.At, "view-ignored", "view stage ignored (visualisation only)")
				continue
			}
			return nil, errAt(s.At, "unsupported stage %s", s.Name)
		}
		if rel == nil {
			if err := open(nil, st.Pos()); err != nil {
				return nil, err
			}
		}
		var err error
		rel, err = b.stage(st, rel, ciOn, parent, win)
		if err != nil {
			return nil, err
		}
	}
	if rel == nil {
		if err := open(nil, Pos{}); err != nil {
			return nil, err
		}
	}
	return rel, nil
}

// window resolves the time window of a pipeline: its own config timeframe,
// else the parent's window, else the command-line window.
func (b *builder) window(tf *Timeframe, parent *Window) (Window, error) {
	if tf == nil && parent != nil {
		return *parent, nil
	}
	return resolveWindow(tf, b.opt)
}

// baseColumns are the xdr_data columns with their compiler metadata.
var baseColumns = func() []column {
	var out []column
	for _, c := range normalize.Columns() {
		col := column{name: c.Name, kind: kAny}
		f, isXDR := normalize.LookupXDRField(c.Name)
		switch {
		case isXDR && f.Mode == "REPEATED":
			col.kind = kArray
		case c.Name == "_time" || c.Name == "_insert_time" || c.XDRType == "TIMESTAMP":
			col.kind = kTime
		case c.XDRType == "BOOLEAN":
			col.kind = kBool
		case c.XDRType == "RECORD" || c.XDRType == "MAP":
			col.kind = kJSON
		case c.SQLType == "INTEGER":
			col.kind = kInt
		case c.SQLType == "TEXT":
			col.kind = kText
			col.text = true
		}
		if isXDR {
			col.enum = EnumFor(c.Name)
			col.path = strings.HasSuffix(c.Name, "_path") || strings.HasSuffix(c.Name, "_command_line") ||
				strings.HasSuffix(c.Name, "_cwd")
		}
		out = append(out, col)
	}
	return out
}()

// base opens xdr_data (or a preset over it) within the window.
func (b *builder) base(ds *DatasetStage, at Pos, w Window) (*relation, error) {
	var cond []string
	if ds != nil {
		name := strings.ToLower(ds.Name)
		switch {
		case ds.Kind == "dataset" && name == "xdr_data":
		case (ds.Preset || ds.Kind == "preset") && name == "xdr_process":
			cond = append(cond, quoteIdent("event_type")+" = "+b.param(eventTypeEnum.Values["PROCESS"]))
		default:
			return nil, errAt(ds.At, "unsupported data source %s = %s (evtxhunt holds only xdr_data and preset xdr_process)", ds.Kind, ds.Name)
		}
	}
	if !w.From.IsZero() {
		cond = append([]string{quoteIdent("_time") + " >= " + b.param(w.From.UnixMilli())}, cond...)
	}
	if !w.To.IsZero() {
		cond = append([]string{quoteIdent("_time") + " <= " + b.param(w.To.UnixMilli())}, cond...)
	}
	sel := []string{"rowid AS " + quoteIdent(hidRowID)}
	for _, c := range baseColumns {
		sel = append(sel, quoteIdent(c.name))
	}
	body := "SELECT " + strings.Join(sel, ", ") + " FROM xdr_data"
	if len(cond) > 0 {
		body += " WHERE " + strings.Join(cond, " AND ")
	}
	cols := append([]column(nil), baseColumns...)
	return &relation{name: b.cte(body), cols: cols, rowid: true}, nil
}

// stage compiles one row-producing stage on top of rel.
func (b *builder) stage(st Stage, rel *relation, ci bool, parent *Window, win *Window) (*relation, error) {
	switch s := st.(type) {
	case *FilterStage:
		return b.filter(s, rel, ci)
	case *FieldsStage:
		return b.fields(s, rel)
	case *AlterStage:
		for _, a := range s.Assignments {
			var err error
			if rel, err = b.alter(a, rel, ci); err != nil {
				return nil, err
			}
		}
		return rel, nil
	case *SortStage:
		return b.sort(s, rel)
	case *LimitStage:
		if s.Count < 0 {
			return nil, errAt(s.At, "negative limit")
		}
		body := "SELECT * FROM " + quoteIdent(rel.name)
		if o := rel.orderBy(); o != "" {
			body += " ORDER BY " + o
		}
		body += " LIMIT " + b.param(s.Count)
		out := *rel
		out.name = b.cte(body)
		return &out, nil
	case *DedupStage:
		return b.dedup(s, rel)
	case *CompStage:
		return b.comp(s, rel)
	case *JoinStage:
		w := *win
		if parent != nil {
			w = *parent
		}
		return b.join(s, rel, ci, &w)
	case *UnionStage:
		w := *win
		if parent != nil {
			w = *parent
		}
		return b.union(s, rel, ci, &w)
	}
	return nil, errAt(st.Pos(), "unsupported stage %T", st)
}

// selectCols renders the visible columns of rel as a select list.
func selectCols(rel *relation) []string {
	out := make([]string, 0, len(rel.cols))
	for _, c := range rel.cols {
		out = append(out, quoteIdent(c.name))
	}
	return out
}

// filter compiles `filter cond`. In path-sep mode a condition that touches
// a path field keeps rows that match either faithfully or with separators
// normalised, and records the faithful result in the hidden flag column.
func (b *builder) filter(s *FilterStage, rel *relation, ci bool) (*relation, error) {
	faithful, err := b.cond(s.Cond, relScope{rel}, ci, false)
	if err != nil {
		return nil, err
	}
	out := *rel
	if b.opt.PathSepInsensitive {
		var used bool
		norm, err := b.condPS(s.Cond, relScope{rel}, ci, &used)
		if err != nil {
			return nil, err
		}
		if used {
			prev := "1"
			if rel.pf {
				prev = quoteIdent(hidPF)
			}
			sel := append(rel.hidden(hidPF), selectCols(rel)...)
			sel = append(sel, "("+prev+" AND coalesce("+faithful+", 0)) AS "+quoteIdent(hidPF))
			out.name = b.cte("SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(rel.name) +
				" WHERE " + norm + " OR " + faithful)
			out.pf = true
			return &out, nil
		}
	}
	out.name = b.cte("SELECT * FROM " + quoteIdent(rel.name) + " WHERE " + faithful)
	return &out, nil
}

// fieldsAlwaysKept are the fields a fields stage never drops [DOC …/fields].
var fieldsAlwaysKept = []string{"_time", "_product", "_vendor", "_insert_time"}

// fields compiles `fields [-] a [as b], pat*`.
func (b *builder) fields(s *FieldsStage, rel *relation) (*relation, error) {
	type pick struct {
		expr string
		col  column
	}
	var picks []pick
	taken := map[string]bool{}
	add := func(expr string, col column) {
		k := strings.ToLower(col.name)
		if taken[k] {
			return
		}
		taken[k] = true
		picks = append(picks, pick{expr, col})
	}
	matched := map[int]bool{}
	for _, it := range s.Items {
		if strings.HasPrefix(strings.ToLower(it.Name), hidPre) || strings.HasPrefix(strings.ToLower(it.Alias), hidPre) {
			return nil, errAt(it.At, "field names starting with %s are reserved", hidPre)
		}
		if strings.Contains(it.Name, "*") {
			n := 0
			for i, c := range rel.cols {
				if matchOne(c.name, it.Name, matchFold|matchWildcard) {
					matched[i] = true
					if !s.Exclude {
						add(quoteIdent(c.name), c)
					}
					n++
				}
			}
			if n == 0 {
				b.note(it.At, "fields-no-match", "fields pattern %s matches no field", it.Name)
			}
			continue
		}
		i := rel.find(it.Name)
		if i < 0 {
			ok, err := b.absentField(it.Name, it.At)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errAt(it.At, "unknown field %s", it.Name)
			}
			if !s.Exclude {
				name := strings.ToLower(it.Name)
				if it.Alias != "" {
					name = it.Alias
				}
				add("NULL", column{name: name})
			}
			continue
		}
		matched[i] = true
		if s.Exclude {
			continue
		}
		col := rel.cols[i]
		if it.Alias != "" {
			col.name = it.Alias
		}
		add(quoteIdent(rel.cols[i].name), col)
	}
	if s.Exclude {
		for i, c := range rel.cols {
			if !matched[i] || isAlwaysKept(c.name) {
				add(quoteIdent(c.name), c)
			}
		}
	} else {
		for _, k := range fieldsAlwaysKept {
			if i := rel.find(k); i >= 0 {
				add(quoteIdent(rel.cols[i].name), rel.cols[i])
			}
		}
	}
	out := *rel
	out.cols = nil
	sel := rel.hidden()
	for _, p := range picks {
		sel = append(sel, p.expr+" AS "+quoteIdent(p.col.name))
		out.cols = append(out.cols, p.col)
	}
	if len(sel) == 0 {
		sel = append(sel, "NULL AS "+quoteIdent(hidPre+"empty"))
	}
	out.name = b.cte("SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(rel.name))
	return &out, nil
}

func isAlwaysKept(name string) bool {
	for _, k := range fieldsAlwaysKept {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// alter compiles one `name = expr` assignment: it replaces the column in
// place or appends it.
func (b *builder) alter(a Assignment, rel *relation, ci bool) (*relation, error) {
	if strings.HasPrefix(strings.ToLower(a.Name), hidPre) {
		return nil, errAt(a.At, "field names starting with %s are reserved", hidPre)
	}
	v, err := b.value(a.Value, relScope{rel}, ci)
	if err != nil {
		return nil, err
	}
	col := column{name: a.Name, kind: v.kind, enum: v.enum, path: v.path}
	out := *rel
	out.cols = append([]column(nil), rel.cols...)
	sel := rel.hidden()
	i := rel.find(a.Name)
	if i >= 0 {
		col.name = rel.cols[i].name
		out.cols[i] = col
	} else {
		out.cols = append(out.cols, col)
	}
	for j, c := range out.cols {
		if j == i || (i < 0 && j == len(out.cols)-1) {
			sel = append(sel, v.sql+" AS "+quoteIdent(c.name))
			continue
		}
		sel = append(sel, quoteIdent(c.name))
	}
	out.name = b.cte("SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(rel.name))
	return &out, nil
}

// sort compiles `sort desc a, asc b` into a row number kept in a hidden
// column, so later stages and the final SELECT keep the order.
func (b *builder) sort(s *SortStage, rel *relation) (*relation, error) {
	var keys []string
	for _, k := range s.Keys {
		i := rel.find(k.Field)
		if i < 0 {
			if ok, err := b.absentField(k.Field, k.At); err != nil || ok {
				if err != nil {
					return nil, err
				}
				continue // sorting on a constant NULL
			}
			return nil, errAt(k.At, "unknown field %s in sort", k.Field)
		}
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		keys = append(keys, quoteIdent(rel.cols[i].name)+dir)
	}
	if o := rel.orderBy(); o != "" {
		keys = append(keys, o)
	}
	if len(keys) == 0 {
		return rel, nil // only constant keys: the order is unchanged
	}
	sel := append(rel.hidden(hidOrd), selectCols(rel)...)
	sel = append(sel, "row_number() OVER (ORDER BY "+strings.Join(keys, ", ")+") AS "+quoteIdent(hidOrd))
	out := *rel
	out.ord = true
	out.name = b.cte("SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(rel.name))
	return &out, nil
}

// dedup compiles `dedup a, b [by asc|desc f]`: the first row per key in the
// by-order (else in the current order). Keys compare exactly.
func (b *builder) dedup(s *DedupStage, rel *relation) (*relation, error) {
	var part []string
	for _, f := range s.Fields {
		i := rel.find(f)
		if i < 0 {
			if ok, err := b.absentField(f, s.At); err != nil || ok {
				if err != nil {
					return nil, err
				}
				continue // a constant NULL key
			}
			return nil, errAt(s.At, "unknown field %s in dedup", f)
		}
		part = append(part, quoteIdent(rel.cols[i].name))
	}
	var order []string
	if s.By != "" {
		i := rel.find(s.By)
		if i < 0 {
			return nil, errAt(s.At, "unknown field %s in dedup by", s.By)
		}
		dir := " ASC"
		if s.ByDesc {
			dir = " DESC"
		}
		order = append(order, quoteIdent(rel.cols[i].name)+dir)
	}
	if o := rel.orderBy(); o != "" {
		order = append(order, o)
	}
	win := "row_number() OVER ("
	if len(part) > 0 {
		win += "PARTITION BY " + strings.Join(part, ", ")
	}
	if len(order) > 0 {
		win += " ORDER BY " + strings.Join(order, ", ")
	}
	win += ") AS " + quoteIdent(hidDedup)
	sel := append(rel.hidden(), selectCols(rel)...)
	out := *rel
	out.name = b.cte("SELECT " + strings.Join(sel, ", ") + " FROM (SELECT *, " + win + " FROM " +
		quoteIdent(rel.name) + ") WHERE " + quoteIdent(hidDedup) + " = 1")
	return &out, nil
}

// comp compiles `comp agg(x) [as a], … [by g, …]`. Grouping is exact (not
// affected by case_sensitive); row identity and order are lost. In path-sep
// mode a group is flagged when any of its rows is.
func (b *builder) comp(s *CompStage, rel *relation) (*relation, error) {
	if s.RawDataAs != "" || s.AddRawData {
		return nil, errAt(s.At, "comp addrawdata is not supported")
	}
	out := &relation{}
	var sel, group []string
	taken := map[string]bool{}
	for _, g := range s.By {
		i := rel.find(g)
		if i < 0 {
			ok, err := b.absentField(g, s.At)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errAt(s.At, "unknown field %s in comp by", g)
			}
			name := strings.ToLower(g)
			if !taken[name] {
				taken[name] = true
				sel = append(sel, "NULL AS "+quoteIdent(name))
				out.cols = append(out.cols, column{name: name})
			}
			continue
		}
		c := rel.cols[i]
		if taken[strings.ToLower(c.name)] {
			continue
		}
		taken[strings.ToLower(c.name)] = true
		group = append(group, quoteIdent(c.name))
		sel = append(sel, quoteIdent(c.name))
		out.cols = append(out.cols, c)
	}
	for _, a := range s.Aggregates {
		expr, col, err := b.aggregate(a, rel)
		if err != nil {
			return nil, err
		}
		base := col.name
		for n := 2; taken[strings.ToLower(col.name)]; n++ {
			col.name = fmt.Sprintf("%s_%d", base, n)
		}
		taken[strings.ToLower(col.name)] = true
		sel = append(sel, expr+" AS "+quoteIdent(col.name))
		out.cols = append(out.cols, col)
	}
	if rel.pf {
		sel = append(sel, "min("+quoteIdent(hidPF)+") AS "+quoteIdent(hidPF))
		out.pf = true
	}
	if len(out.cols) == 0 {
		return nil, errAt(s.At, "comp without aggregates or by fields")
	}
	body := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(rel.name)
	if len(group) > 0 {
		body += " GROUP BY " + strings.Join(group, ", ")
	}
	out.name = b.cte(body)
	return out, nil
}

// aggregate compiles one aggregate of comp.
func (b *builder) aggregate(a Aggregate, rel *relation) (string, column, error) {
	fn := strings.ToLower(a.Func)
	var args []val
	for _, e := range a.Args {
		v, err := b.value(e, relScope{rel}, false)
		if err != nil {
			return "", column{}, err
		}
		args = append(args, v)
	}
	name := a.Alias
	if name == "" {
		name = fn
		if len(a.Args) == 1 {
			if id, ok := unparen(a.Args[0]).(*Ident); ok {
				name = fn + "_" + id.Name
			}
		}
	}
	one := func() error {
		if len(args) != 1 {
			return errAt(a.At, "%s takes one argument", fn)
		}
		return nil
	}
	col := column{name: name}
	switch fn {
	case "count":
		col.kind = kInt
		switch len(args) {
		case 0:
			return "count(*)", col, nil
		case 1:
			return "count(" + args[0].sql + ")", col, nil
		}
		return "", col, errAt(a.At, "count takes at most one argument")
	case "count_distinct":
		col.kind = kInt
		if err := one(); err != nil {
			return "", col, err
		}
		return "count(DISTINCT " + args[0].sql + ")", col, nil
	case "min", "max":
		if err := one(); err != nil {
			return "", col, err
		}
		col.kind, col.enum, col.path = args[0].kind, args[0].enum, args[0].path
		return fn + "(" + args[0].sql + ")", col, nil
	case "sum":
		if err := one(); err != nil {
			return "", col, err
		}
		col.kind = args[0].kind
		if col.kind != kInt && col.kind != kFloat {
			col.kind = kAny
		}
		return "sum(" + args[0].sql + ")", col, nil
	case "avg":
		if err := one(); err != nil {
			return "", col, err
		}
		col.kind = kFloat
		return "avg(" + args[0].sql + ")", col, nil
	case "values":
		if err := one(); err != nil {
			return "", col, err
		}
		col.kind = kArray
		col.enum = args[0].enum
		x := args[0].sql
		return "xql_sorted_array(json_group_array(DISTINCT " + x + ") FILTER (WHERE " + x + " IS NOT NULL))", col, nil
	}
	return "", col, errAt(a.At, "unsupported aggregate %s", fn)
}

// join compiles `join [type = …] [conflict_strategy = …] (sub) as alias cond`.
func (b *builder) join(s *JoinStage, rel *relation, ci bool, w *Window) (*relation, error) {
	if s.Sub == nil {
		return nil, errAt(s.At, "join without a sub-query")
	}
	var dummy Window
	right, err := b.pipeline(s.Sub, ci, w, &dummy)
	if err != nil {
		return nil, err
	}
	const la, ra = "__xql_l", "__xql_r"
	sc := joinScope{left: rel, right: right, alias: s.Alias, la: la, ra: ra}
	var cond string
	keys := &joinKeys{alias: ra}
	if s.Cond != nil {
		saved := b.keys
		b.keys = keys
		cond, err = b.cond(s.Cond, sc, ci, false)
		b.keys = saved
		if err != nil {
			return nil, err
		}
	} else {
		cond = "1"
	}
	typ := strings.ToLower(s.Type)
	kw := map[string]string{"": "JOIN", "inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN"}[typ]
	if kw == "" {
		return nil, errAt(s.At, "unsupported join type %s", s.Type)
	}
	strategy := strings.ToLower(s.ConflictStrategy)
	if strategy != "" && strategy != "right" && strategy != "left" && strategy != "both" {
		return nil, errAt(s.At, "unsupported conflict_strategy %s", s.ConflictStrategy)
	}
	out := &relation{}
	exprs := []string{}
	for _, c := range rel.cols {
		out.cols = append(out.cols, c)
		exprs = append(exprs, la+"."+quoteIdent(c.name))
	}
	for _, c := range right.cols {
		i := -1
		for j, oc := range out.cols {
			if strings.EqualFold(oc.name, c.name) {
				i = j
				break
			}
		}
		switch {
		case i < 0:
			out.cols = append(out.cols, c)
			exprs = append(exprs, ra+"."+quoteIdent(c.name))
		case strategy == "left":
		case strategy == "both":
			rc := c
			rc.name = c.name + "_joined_10"
			out.cols = append(out.cols, rc)
			exprs = append(exprs, ra+"."+quoteIdent(c.name))
		default: // right: the inner (sub-query) column wins
			c.name = out.cols[i].name
			c.text = c.text && out.cols[i].text // a left join mixes both sides
			out.cols[i] = c
			inner := ra + "." + quoteIdent(right.cols[indexFold(right.cols, c.name)].name)
			if kw == "LEFT JOIN" {
				// An outer row without a match keeps its own value [INF].
				inner = "(CASE WHEN " + ra + "." + quoteIdent(hidMatch) + " IS NULL THEN " + exprs[i] + " ELSE " + inner + " END)"
			}
			exprs[i] = inner
		}
	}
	var sel []string
	for i, c := range out.cols {
		sel = append(sel, exprs[i]+" AS "+quoteIdent(c.name))
	}
	if rel.pf || right.pf {
		sel = append(sel, "("+pfOf(la, rel)+" AND "+pfOf(ra, right)+") AS "+quoteIdent(hidPF))
		out.pf = true
	}
	rightSQL := "(SELECT 1 AS " + quoteIdent(hidMatch) + ", * FROM " + quoteIdent(right.name) + ")"
	if len(keys.cols) > 0 {
		rightSQL = quoteIdent(b.cteMaterialized("SELECT 1 AS " + quoteIdent(hidMatch) + ", *, " +
			strings.Join(keys.cols, ", ") + " FROM " + quoteIdent(right.name)))
	}
	out.name = b.cte("SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(rel.name) + " AS " + la +
		" " + kw + " " + rightSQL + " AS " + ra + " ON " + cond)
	return out, nil
}

func indexFold(cols []column, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c.name, name) {
			return i
		}
	}
	return -1
}

// pfOf is the faithful flag of one side of a join or union (1 when the
// side has no flag or is missing).
func pfOf(alias string, r *relation) string {
	if !r.pf {
		return "1"
	}
	return "coalesce(" + alias + "." + quoteIdent(hidPF) + ", 1)"
}

// union compiles `union dataset` / `union (sub)`: all rows of both sides,
// columns of either (missing ones NULL).
func (b *builder) union(s *UnionStage, rel *relation, ci bool, w *Window) (*relation, error) {
	var (
		right *relation
		err   error
	)
	switch {
	case s.Sub != nil:
		var dummy Window
		right, err = b.pipeline(s.Sub, ci, w, &dummy)
	case s.Dataset != "":
		right, err = b.base(&DatasetStage{At: s.At, Kind: "dataset", Name: s.Dataset}, s.At, *w)
	default:
		err = errAt(s.At, "union without a data source")
	}
	if err != nil {
		return nil, err
	}
	out := &relation{cols: append([]column(nil), rel.cols...)}
	for _, c := range right.cols {
		if i := indexFold(out.cols, c.name); i >= 0 {
			out.cols[i].text = out.cols[i].text && c.text // both sides' values
		} else {
			out.cols = append(out.cols, c)
		}
	}
	side := func(r *relation) string {
		var sel []string
		for _, c := range out.cols {
			if i := indexFold(r.cols, c.name); i >= 0 {
				sel = append(sel, quoteIdent(r.cols[i].name)+" AS "+quoteIdent(c.name))
			} else {
				sel = append(sel, "NULL AS "+quoteIdent(c.name))
			}
		}
		if rel.pf || right.pf {
			sel = append(sel, pfOf(quoteIdent(r.name), r)+" AS "+quoteIdent(hidPF))
		}
		return "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(r.name)
	}
	out.pf = rel.pf || right.pf
	out.name = b.cte(side(rel) + " UNION ALL " + side(right))
	return out, nil
}
