package hunt

// This file is the AST contract between the XQL front end (lexer, parser,
// printer, lint) and the back end (compiler to SQLite). Fields may be added;
// existing ones keep their meaning.

// Pos is a position in the query text: 1-based line and column (in bytes),
// and the 0-based byte offset.
type Pos struct {
	Offset, Line, Col int
}

// IsValid reports whether the position is set.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Node is any AST node.
type Node interface {
	Pos() Pos
}

// Query is a parsed XQL query: stages separated by "|".
type Query struct {
	Stages []Stage
}

// Stage is one pipeline stage.
type Stage interface {
	Node
	stageNode()
}

// Expr is an expression.
type Expr interface {
	Node
	exprNode()
}

// ---- stages ----

// ConfigStage is `config case_sensitive = false timeframe = 7d` or
// `config timeframe between "a" and "b"`.
type ConfigStage struct {
	At            Pos
	CaseSensitive *bool      // nil when not set
	Timeframe     *Timeframe // nil when not set
}

// Timeframe is a relative duration (`= 7d`) or a `between A and B` window.
type Timeframe struct {
	At       Pos
	Relative string // e.g. "7d", "30m", "24h"; empty for between
	From, To string // between "…" and "…" (raw literal text)
}

// DatasetStage is `dataset = name`, `preset = name` (Preset true) or
// `cold_dataset = name`.
type DatasetStage struct {
	At     Pos
	Kind   string // "dataset", "preset", "cold_dataset", "datamodel"
	Name   string
	Preset bool
}

// FilterStage is `filter expr`.
type FilterStage struct {
	At   Pos
	Cond Expr
}

// FieldItem is one item of a fields stage: a name (possibly with * wildcards)
// and an optional alias.
type FieldItem struct {
	At    Pos
	Name  string
	Alias string
}

// FieldsStage is `fields [-] a [as b], c*`.
type FieldsStage struct {
	At      Pos
	Exclude bool
	Items   []FieldItem
}

// Assignment is `name = expr` in alter.
type Assignment struct {
	At    Pos
	Name  string
	Value Expr
}

// AlterStage is `alter a = expr, b = expr`.
type AlterStage struct {
	At          Pos
	Assignments []Assignment
}

// SortKey is one key of a sort stage.
type SortKey struct {
	At    Pos
	Desc  bool
	Field string
}

// SortStage is `sort desc a, asc b`.
type SortStage struct {
	At   Pos
	Keys []SortKey
}

// LimitStage is `limit N`.
type LimitStage struct {
	At    Pos
	Count int64
}

// DedupStage is `dedup a, b [by asc|desc f]`.
type DedupStage struct {
	At     Pos
	Fields []string
	By     string // empty when absent
	ByDesc bool
}

// Aggregate is one `fn(args) [as alias]` of a comp stage.
type Aggregate struct {
	At    Pos
	Func  string // lower-case: count, count_distinct, min, max, sum, avg, values, ...
	Args  []Expr
	Alias string
}

// CompStage is `comp agg [as a], … [by g1, g2] [addrawdata = true as x]`.
type CompStage struct {
	At         Pos
	Aggregates []Aggregate
	By         []string
	RawDataAs  string // addrawdata = true as NAME; empty when absent
	// AddRawData is set by `addrawdata = true`, which public queries also
	// write without "as NAME". Added by the front end.
	AddRawData bool
}

// JoinStage is `join [type = inner|left|right] [conflict_strategy = …] (subquery) as alias cond`.
type JoinStage struct {
	At               Pos
	Type             string // "inner" (default), "left", "right"
	ConflictStrategy string // "right" (default), "left", "both"
	Sub              *Query
	Alias            string
	Cond             Expr
}

// UnionStage is `union dataset` or `union (subquery)`.
type UnionStage struct {
	At      Pos
	Dataset string // set for `union name`
	Sub     *Query // set for `union (subquery)`
}

// UnsupportedStage records a stage the engine cannot run (view, bin, …);
// Name is the stage keyword and Text the raw source of the stage.
type UnsupportedStage struct {
	At   Pos
	Name string
	Text string
}

// ---- expressions ----

// Ident is a field name (or a bare ENUM name the compiler resolves).
type Ident struct {
	At   Pos
	Name string
}

// StringLit is a string literal. Value is the text between the quotes, raw
// for "…" (no escape processing, * is a wildcard) and unescaped for """…""".
type StringLit struct {
	At     Pos
	Value  string
	Triple bool
}

// NumberLit is an integer or decimal literal; Text is the source spelling.
type NumberLit struct {
	At      Pos
	Text    string
	IsFloat bool
	Int     int64
	Float   float64
}

// BoolLit is true/false.
type BoolLit struct {
	At    Pos
	Value bool
}

// NullLit is null/NULL.
type NullLit struct {
	At Pos
}

// EnumLit is ENUM.NAME.
type EnumLit struct {
	At   Pos
	Name string
}

// DurationLit is a time literal such as 7d, 30m, 24h (inside config).
type DurationLit struct {
	At   Pos
	Text string
}

// Unary is `not X` (Op "not") or `-X` (Op "-").
type Unary struct {
	At Pos
	Op string
	X  Expr
}

// Binary is `X op Y` with Op one of: and, or, =, !=, <, <=, >, >=, contains,
// not contains, ~=, !~=, incidr, not incidr, incidr6, not incidr6, +, -, *, /.
type Binary struct {
	At Pos
	Op string
	X  Expr
	Y  Expr
}

// InExpr is `X in (a, b)` or `X not in (a, b)`.
type InExpr struct {
	At   Pos
	X    Expr
	Not  bool
	List []Expr
	// Sub is set (and List empty) for `X in (dataset = d | … | fields f)`,
	// whose values come from a sub-query. Added by the front end.
	Sub *Query
}

// Call is a function call `name(args)`; Name is lower-cased.
type Call struct {
	At   Pos
	Name string
	Args []Expr
}

// JSONPath is `X -> a.b[0]` (json_extract_scalar) or `X -> a{}` (Array true:
// json_extract). Path is the JSONPath in "$.a.b[0]" form.
type JSONPath struct {
	At    Pos
	X     Expr
	Path  string
	Array bool
	// ExtractArray is set for `X -> a[]`: the value as an array
	// (json_extract_array). Added by the front end.
	ExtractArray bool
}

// Paren is a parenthesised expression, kept so the printer can round-trip.
type Paren struct {
	At Pos
	X  Expr
}

func (s *ConfigStage) Pos() Pos      { return s.At }
func (s *DatasetStage) Pos() Pos     { return s.At }
func (s *FilterStage) Pos() Pos      { return s.At }
func (s *FieldsStage) Pos() Pos      { return s.At }
func (s *AlterStage) Pos() Pos       { return s.At }
func (s *SortStage) Pos() Pos        { return s.At }
func (s *LimitStage) Pos() Pos       { return s.At }
func (s *DedupStage) Pos() Pos       { return s.At }
func (s *CompStage) Pos() Pos        { return s.At }
func (s *JoinStage) Pos() Pos        { return s.At }
func (s *UnionStage) Pos() Pos       { return s.At }
func (s *UnsupportedStage) Pos() Pos { return s.At }

func (*ConfigStage) stageNode()      {}
func (*DatasetStage) stageNode()     {}
func (*FilterStage) stageNode()      {}
func (*FieldsStage) stageNode()      {}
func (*AlterStage) stageNode()       {}
func (*SortStage) stageNode()        {}
func (*LimitStage) stageNode()       {}
func (*DedupStage) stageNode()       {}
func (*CompStage) stageNode()        {}
func (*JoinStage) stageNode()        {}
func (*UnionStage) stageNode()       {}
func (*UnsupportedStage) stageNode() {}

func (e *Ident) Pos() Pos       { return e.At }
func (e *StringLit) Pos() Pos   { return e.At }
func (e *NumberLit) Pos() Pos   { return e.At }
func (e *BoolLit) Pos() Pos     { return e.At }
func (e *NullLit) Pos() Pos     { return e.At }
func (e *EnumLit) Pos() Pos     { return e.At }
func (e *DurationLit) Pos() Pos { return e.At }
func (e *Unary) Pos() Pos       { return e.At }
func (e *Binary) Pos() Pos      { return e.At }
func (e *InExpr) Pos() Pos      { return e.At }
func (e *Call) Pos() Pos        { return e.At }
func (e *JSONPath) Pos() Pos    { return e.At }
func (e *Paren) Pos() Pos       { return e.At }

func (*Ident) exprNode()       {}
func (*StringLit) exprNode()   {}
func (*NumberLit) exprNode()   {}
func (*BoolLit) exprNode()     {}
func (*NullLit) exprNode()     {}
func (*EnumLit) exprNode()     {}
func (*DurationLit) exprNode() {}
func (*Unary) exprNode()       {}
func (*Binary) exprNode()      {}
func (*InExpr) exprNode()      {}
func (*Call) exprNode()        {}
func (*JSONPath) exprNode()    {}
func (*Paren) exprNode()       {}
