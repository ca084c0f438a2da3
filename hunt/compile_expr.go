package hunt

import (
	"regexp"
	"strings"

	"evtxhunt/normalize"
)

// val is a compiled expression: SQL text plus what is known of its type.
type val struct {
	sql  string
	kind kind
	enum *EnumTable
	path bool
	null bool // the literal null
	text bool // a plain reference to a stored TEXT column (see column.text)
}

// scope resolves field names to SQL column references.
type scope interface {
	lookup(name string) (ref string, col column, ok bool)
}

// relScope resolves names against one relation.
type relScope struct{ r *relation }

func (s relScope) lookup(name string) (string, column, bool) {
	i := s.r.find(name)
	if i < 0 {
		return "", column{}, false
	}
	return quoteIdent(s.r.cols[i].name), s.r.cols[i], true
}

// joinScope resolves a join condition: alias.x is the sub-query's x, a bare
// x (or other.x) the outer pipeline's.
type joinScope struct {
	left, right *relation
	alias       string
	la, ra      string
}

func (s joinScope) lookup(name string) (string, column, bool) {
	if s.alias != "" && len(name) > len(s.alias)+1 && strings.EqualFold(name[:len(s.alias)+1], s.alias+".") {
		if i := s.right.find(name[len(s.alias)+1:]); i >= 0 {
			return s.ra + "." + quoteIdent(s.right.cols[i].name), s.right.cols[i], true
		}
		return "", column{}, false
	}
	bare := name
	if j := strings.LastIndexByte(name, '.'); j >= 0 {
		bare = name[j+1:]
	}
	if i := s.left.find(bare); i >= 0 {
		return s.la + "." + quoteIdent(s.left.cols[i].name), s.left.cols[i], true
	}
	if i := s.right.find(bare); i >= 0 {
		return s.ra + "." + quoteIdent(s.right.cols[i].name), s.right.cols[i], true
	}
	return "", column{}, false
}

// exprCtx compiles expressions in one scope.
type exprCtx struct {
	b       *builder
	sc      scope
	ci      bool  // case-insensitive value comparison
	pathSep bool  // path-sep-insensitive comparisons on path fields
	used    *bool // set when pathSep changed a comparison
}

// cond compiles a boolean condition.
func (b *builder) cond(e Expr, sc scope, ci, pathSep bool) (string, error) {
	var used bool
	c := &exprCtx{b: b, sc: sc, ci: ci, pathSep: pathSep, used: &used}
	return c.positive(e)
}

// positive compiles a condition in positive position (filter, join), with
// the index-friendly redundant tests of impliedIn.
func (c *exprCtx) positive(e Expr) (string, error) {
	v, err := c.expr(e)
	if err != nil {
		return "", err
	}
	sql := v.sql
	for _, in := range impliedIn(e) {
		used := *c.used
		extra, err := c.expr(in)
		*c.used = used
		if err != nil || strings.Contains(extra.sql, "xql_") {
			continue // not native: no use to an index
		}
		sql = "(" + sql + ") AND " + extra.sql
	}
	return "(" + sql + ")", nil
}

// condPS compiles a condition in path-sep mode and reports whether any
// comparison was affected.
func (b *builder) condPS(e Expr, sc scope, ci bool, used *bool) (string, error) {
	c := &exprCtx{b: b, sc: sc, ci: ci, pathSep: true, used: used}
	return c.positive(e)
}

// value compiles a value expression (alter, aggregate arguments).
func (b *builder) value(e Expr, sc scope, ci bool) (val, error) {
	var used bool
	c := &exprCtx{b: b, sc: sc, ci: ci, used: &used}
	return c.expr(e)
}

func unparen(e Expr) Expr {
	for {
		p, ok := e.(*Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}

func (c *exprCtx) expr(e Expr) (val, error) {
	switch x := e.(type) {
	case *Paren:
		v, err := c.expr(x.X)
		v.sql = "(" + v.sql + ")"
		return v, err
	case *Ident:
		return c.ident(x)
	case *StringLit:
		return val{sql: c.b.param(x.Value), kind: kText}, nil
	case *NumberLit:
		if x.IsFloat {
			return val{sql: c.b.param(x.Float), kind: kFloat}, nil
		}
		return val{sql: c.b.param(x.Int), kind: kInt}, nil
	case *BoolLit:
		return val{sql: c.b.param(sqlBool(x.Value)), kind: kBool}, nil
	case *NullLit:
		return val{sql: "NULL", null: true}, nil
	case *EnumLit:
		return c.enumValue(x.Name, x.At, nil, true)
	case *DurationLit:
		return val{}, errAt(x.At, "time literal %s outside config timeframe", x.Text)
	case *Unary:
		v, err := c.expr(x.X)
		if err != nil {
			return val{}, err
		}
		switch strings.ToLower(x.Op) {
		case "not":
			return val{sql: "(NOT " + v.sql + ")", kind: kBool}, nil
		case "-":
			return val{sql: "(-" + v.sql + ")", kind: v.kind}, nil
		}
		return val{}, errAt(x.At, "unsupported operator %s", x.Op)
	case *Binary:
		return c.binary(x)
	case *InExpr:
		return c.in(x)
	case *Call:
		return c.call(x)
	case *JSONPath:
		v, err := c.expr(x.X)
		if err != nil {
			return val{}, err
		}
		if x.Array || x.ExtractArray {
			k := kJSON
			if x.ExtractArray {
				k = kArray
			}
			return val{sql: "xql_json_extract(" + v.sql + ", " + c.b.param(x.Path) + ")", kind: k}, nil
		}
		return val{sql: "xql_json_extract_scalar(" + v.sql + ", " + c.b.param(x.Path) + ")", kind: kText}, nil
	}
	return val{}, errAt(e.Pos(), "unsupported expression %T", e)
}

// ident resolves a field name: a column in scope; an xdr_data field
// evtxhunt never fills (NULL, with a note); a bare ENUM name; else an error.
func (c *exprCtx) ident(x *Ident) (val, error) {
	if ref, col, ok := c.sc.lookup(x.Name); ok {
		return val{sql: ref, kind: col.kind, enum: col.enum, path: col.path, text: col.text && col.kind == kText}, nil
	}
	if ok, err := c.b.absentField(x.Name, x.At); err != nil || ok {
		return val{sql: "NULL"}, err
	}
	if _, _, ok := lookupEnumAnywhere(x.Name); ok {
		return c.enumValue(x.Name, x.At, nil, false)
	}
	return val{}, errAt(x.At, "unknown field %s", x.Name)
}

// enumName returns the name when e can only be an ENUM: ENUM.X, or a bare
// name that is not a field in scope nor an xdr_data field.
func (c *exprCtx) enumName(e Expr) (string, bool, bool) {
	switch x := unparen(e).(type) {
	case *EnumLit:
		return x.Name, true, true
	case *Ident:
		if _, _, ok := c.sc.lookup(x.Name); ok {
			return "", false, false
		}
		if _, ok := normalize.LookupXDRField(strings.ToLower(x.Name)); ok || xdrShaped(x.Name) {
			return "", false, false
		}
		return x.Name, false, true
	}
	return "", false, false
}

// enumValue binds the integer of an ENUM name, looked up first in the table
// of the field it is compared with (t). A name that no table knows, written
// ENUM.X or compared with an ENUM field, binds a text sentinel that equals
// no stored integer (with a note); any other bare unknown name is an
// unknown field.
func (c *exprCtx) enumValue(name string, at Pos, t *EnumTable, dotted bool) (val, error) {
	if t != nil {
		if v, ok := t.Lookup(name); ok {
			return val{sql: c.b.param(v), kind: kInt, enum: t}, nil
		}
	}
	if v, tt, ok := lookupEnumAnywhere(name); ok {
		return val{sql: c.b.param(v), kind: kInt, enum: tt}, nil
	}
	if !dotted && t == nil {
		return val{}, errAt(at, "unknown field %s (nor a known ENUM name)", name)
	}
	c.b.note(at, "enum-unknown", "ENUM.%s has no known number in evtxhunt; it equals no stored value", strings.ToUpper(name))
	return val{sql: c.b.param("ENUM." + strings.ToUpper(name)), kind: kText}, nil
}

// operand compiles the literal side of a comparison with field side f:
// ENUM names resolve against f's ENUM table.
func (c *exprCtx) operand(e Expr, f val) (val, error) {
	if name, dotted, ok := c.enumName(e); ok {
		return c.enumValue(name, e.Pos(), f.enum, dotted)
	}
	return c.expr(e)
}

// isLiteral reports whether e is a literal (or an ENUM name), i.e. belongs
// on the right of a comparison.
func (c *exprCtx) isLiteral(e Expr) bool {
	switch unparen(e).(type) {
	case *StringLit, *NumberLit, *BoolLit, *NullLit, *EnumLit:
		return true
	}
	_, _, ok := c.enumName(e)
	return ok
}

func boolVal(sql string) val { return val{sql: sql, kind: kBool} }

func (c *exprCtx) binary(x *Binary) (val, error) {
	op := strings.ToLower(strings.Join(strings.Fields(x.Op), " "))
	switch op {
	case "and", "or":
		return c.chain(op, x)
	case "=", "!=", "<>":
		v, err := c.equal(x.X, x.Y)
		if err != nil {
			return val{}, err
		}
		if op != "=" {
			v.sql = "(NOT " + v.sql + ")"
		}
		return v, nil
	case "<", "<=", ">", ">=":
		return c.order(op, x)
	case "contains", "not contains":
		v, err := c.contains(x.X, x.Y)
		if err != nil {
			return val{}, err
		}
		if op != "contains" {
			v.sql = "(NOT " + v.sql + ")"
		}
		return v, nil
	case "~=", "!~=":
		v, err := c.regex(x.X, x.Y)
		if err != nil {
			return val{}, err
		}
		if op != "~=" {
			v.sql = "(NOT " + v.sql + ")"
		}
		return v, nil
	case "incidr", "not incidr", "incidr6", "not incidr6":
		v, err := c.incidr(x.X, x.Y)
		if err != nil {
			return val{}, err
		}
		if strings.HasPrefix(op, "not") {
			v.sql = "(NOT " + v.sql + ")"
		}
		return v, nil
	case "+", "-", "*", "/":
		l, err := c.expr(x.X)
		if err != nil {
			return val{}, err
		}
		r, err := c.expr(x.Y)
		if err != nil {
			return val{}, err
		}
		return arith(op, l, r), nil
	}
	return val{}, errAt(x.At, "unsupported operator %s", x.Op)
}

// arith combines two numbers; / is real division.
func arith(op string, l, r val) val {
	k := kInt
	switch {
	case l.kind == kFloat || r.kind == kFloat || op == "/":
		k = kFloat
	case (l.kind == kTime) != (r.kind == kTime) && (op == "+" || op == "-"):
		k = kTime
	case l.kind == kAny || r.kind == kAny:
		k = kAny
	}
	if op == "/" {
		return val{sql: "(CAST(" + l.sql + " AS REAL) / " + r.sql + ")", kind: k}
	}
	return val{sql: "(" + l.sql + " " + op + " " + r.sql + ")", kind: k}
}

// textual reports whether a value may be text (so case folding matters).
func textual(v val) bool {
	return v.kind == kText || v.kind == kAny || v.kind == kJSON || v.kind == kArray
}

// equal compiles X = Y (the caller negates for !=). null tests nullness,
// string literals follow the case, wildcard and path-separator rules.
func (c *exprCtx) equal(xe, ye Expr) (val, error) {
	if c.isLiteral(xe) && !c.isLiteral(ye) {
		xe, ye = ye, xe
	}
	if _, ok := unparen(ye).(*NullLit); ok {
		f, err := c.expr(xe)
		if err != nil {
			return val{}, err
		}
		return boolVal("(" + f.sql + " IS NULL)"), nil
	}
	if _, ok := unparen(xe).(*NullLit); ok {
		f, err := c.expr(ye)
		if err != nil {
			return val{}, err
		}
		return boolVal("(" + f.sql + " IS NULL)"), nil
	}
	f, err := c.expr(xe)
	if err != nil {
		return val{}, err
	}
	return c.equalTo(f, ye)
}

// equalTo compiles f = e for an already compiled field side.
func (c *exprCtx) equalTo(f val, e Expr) (val, error) {
	if s, ok := unparen(e).(*StringLit); ok {
		return c.matchLiteral(f, s, 0), nil
	}
	if _, ok := unparen(e).(*NullLit); ok {
		return boolVal("(" + f.sql + " IS NULL)"), nil
	}
	r, err := c.operand(e, f)
	if err != nil {
		return val{}, err
	}
	if c.ci && textual(f) && textual(r) {
		if k, other, ok := c.b.keys.fold(f.sql, r.sql); ok {
			return boolVal("(" + k + " = xql_fold(" + other + "))"), nil
		}
		return boolVal("(xql_fold(" + f.sql + ") = xql_fold(" + r.sql + "))"), nil
	}
	return boolVal("(" + f.sql + " = " + r.sql + ")"), nil
}

// matchLiteral compiles a test of f against a string literal: full-string
// equality (extra 0) or substring (extra matchContains).
func (c *exprCtx) matchLiteral(f val, s *StringLit, extra int64) val {
	flags := extra
	pattern := s.Value
	if c.ci {
		flags |= matchFold
	}
	if !s.Triple && strings.Contains(pattern, "*") {
		flags |= matchWildcard
	}
	if extra&matchContains != 0 && f.kind == kArray {
		flags |= matchArray
	}
	if c.pathSep && f.path {
		pattern = pathSep(pattern)
		flags |= matchPathSep
		*c.used = true
	}
	if sql, ok := c.nativeMatch(f, pattern, flags); ok {
		return boolVal(sql)
	}
	if flags == 0 {
		// Exact, case-sensitive, no wildcard: plain SQL equality.
		return boolVal("(" + f.sql + " = " + c.b.param(pattern) + ")")
	}
	return boolVal("xql_match(" + f.sql + ", " + c.b.param(pattern) + ", " + c.b.param(flags) + ")")
}

// order compiles <, <=, >, >=; a timestamp compared with a date string
// parses the string.
func (c *exprCtx) order(op string, x *Binary) (val, error) {
	l, err := c.expr(x.X)
	if err != nil {
		return val{}, err
	}
	var r val
	if s, ok := unparen(x.Y).(*StringLit); ok && l.kind == kTime {
		t, err := ParseTime(s.Value, c.b.opt.Now)
		if err != nil {
			return val{}, errAt(s.At, "%v", err)
		}
		r = val{sql: c.b.param(t.UnixMilli()), kind: kTime}
	} else if r, err = c.operand(x.Y, l); err != nil {
		return val{}, err
	}
	return boolVal("(" + l.sql + " " + op + " " + r.sql + ")"), nil
}

// contains compiles X contains Y: a substring test, membership on arrays.
func (c *exprCtx) contains(xe, ye Expr) (val, error) {
	f, err := c.expr(xe)
	if err != nil {
		return val{}, err
	}
	if s, ok := unparen(ye).(*StringLit); ok {
		return c.matchLiteral(f, s, matchContains), nil
	}
	p, err := c.expr(ye)
	if err != nil {
		return val{}, err
	}
	flags := int64(matchContains)
	if c.ci {
		flags |= matchFold
	}
	if f.kind == kArray {
		flags |= matchArray
	}
	return boolVal("xql_match(" + f.sql + ", " + p.sql + ", " + c.b.param(flags) + ")"), nil
}

// regex compiles X ~= Y: an unanchored RE2 search, case-insensitive unless
// case_sensitive = true. Literal patterns are checked at compile time.
func (c *exprCtx) regex(xe, ye Expr) (val, error) {
	f, err := c.expr(xe)
	if err != nil {
		return val{}, err
	}
	if s, ok := unparen(ye).(*StringLit); ok {
		if _, err := compileRegex(s.Value, c.ci); err != nil {
			return val{}, errAt(s.At, "bad regular expression: %v", err)
		}
	}
	p, err := c.expr(ye)
	if err != nil {
		return val{}, err
	}
	call := "xql_regex(" + f.sql + ", " + p.sql + ", " + c.b.param(sqlBool(c.ci)) + ")"
	if s, ok := unparen(ye).(*StringLit); ok {
		if pre := c.regexPrefilter(f, s.Value); pre != "" {
			// Only values holding the pattern's literals can match.
			return boolVal("(CASE WHEN " + f.sql + " IS NULL THEN NULL WHEN " + pre + " THEN " + call + " ELSE 0 END)"), nil
		}
	}
	return boolVal(call), nil
}

// incidr compiles X incidr "cidr[, cidr…]".
func (c *exprCtx) incidr(xe, ye Expr) (val, error) {
	f, err := c.expr(xe)
	if err != nil {
		return val{}, err
	}
	if s, ok := unparen(ye).(*StringLit); ok {
		if _, err := parseCIDRList(s.Value); err != nil {
			return val{}, errAt(s.At, "%v", err)
		}
	}
	p, err := c.expr(ye)
	if err != nil {
		return val{}, err
	}
	return boolVal("xql_incidr(" + f.sql + ", " + p.sql + ")"), nil
}

// in compiles X [not] in (…) as a disjunction of equalities; null in the
// list tests nullness, so `not in (null, ENUM.X)` drops nulls and X.
func (c *exprCtx) in(x *InExpr) (val, error) {
	f, err := c.expr(x.X)
	if err != nil {
		return val{}, err
	}
	if x.Sub != nil {
		return c.inSub(x, f)
	}
	if len(x.List) == 0 {
		return val{}, errAt(x.At, "empty in list")
	}
	var parts []string
	list := x.List
	if plain, rest := c.plainStrings(f, list); len(plain) > 1 {
		flags := int64(0)
		if c.ci {
			flags = matchFold
		}
		if sql, ok := c.nativeIn(f, plain, flags); ok {
			parts, list = append(parts, sql), rest
		}
	}
	for _, e := range list {
		v, err := c.equalTo(f, e)
		if err != nil {
			return val{}, err
		}
		parts = append(parts, v.sql)
	}
	s := "(" + strings.Join(parts, " OR ") + ")"
	if x.Not {
		s = "(NOT " + s + ")"
	}
	return boolVal(s), nil
}

// plainStrings splits an in list into the values of its string literals
// that hold no wildcard (and are not path-normalised), and the other items.
func (c *exprCtx) plainStrings(f val, list []Expr) (plain []string, rest []Expr) {
	for _, e := range list {
		s, ok := unparen(e).(*StringLit)
		if !ok || (!s.Triple && strings.Contains(s.Value, "*")) || (c.pathSep && f.path) {
			rest = append(rest, e)
			continue
		}
		plain = append(plain, s.Value)
	}
	return plain, rest
}

// inSub compiles X [not] in (sub-query): membership in the first column of
// the sub-query's result, case-insensitive unless case_sensitive = true.
func (c *exprCtx) inSub(x *InExpr, f val) (val, error) {
	var dummy Window
	sub, err := c.b.pipeline(x.Sub, c.ci, &c.b.window0, &dummy)
	if err != nil {
		return val{}, err
	}
	if len(sub.cols) == 0 {
		return val{}, errAt(x.At, "in sub-query has no columns")
	}
	col := quoteIdent(sub.cols[0].name)
	l := f.sql
	if c.ci {
		l, col = "xql_fold("+l+")", "xql_fold("+col+")"
	}
	s := "(" + l + " IN (SELECT " + col + " FROM " + quoteIdent(sub.name) + "))"
	if x.Not {
		s = "(NOT " + s + ")"
	}
	return boolVal(s), nil
}

// xdrShapedRE matches names shaped like xdr_data fields.
var xdrShapedRE = regexp.MustCompile(`^(_|action_|actor_|causality_actor_|os_actor_|agent_|event_|dst_|host_|src_)[a-z0-9_]+$`)

// xdrShaped reports whether a name looks like an xdr_data field.
func xdrShaped(name string) bool { return xdrShapedRE.MatchString(name) }

// absentField handles a name that is not a column in scope. An xdr_data
// field evtxhunt never fills, or a name shaped like an xdr_data field that
// evtxhunt's schema copy lacks, is NULL with a note (ok true). A stored
// field dropped by an earlier stage is an error. Anything else: ok false.
func (b *builder) absentField(name string, at Pos) (bool, error) {
	lower := strings.ToLower(name)
	if f, ok := normalize.LookupXDRField(lower); ok {
		if !normalize.IsStored(f.Name) {
			b.note(at, "field-not-filled", "%s is an xdr_data field evtxhunt never fills; it is NULL", f.Name)
			return true, nil
		}
		return false, errAt(at, "field %s is not available here (dropped by an earlier fields or comp stage)", name)
	}
	if xdrShaped(name) {
		b.noteWarn(at, "field-unknown", "%s is not in evtxhunt's copy of the xdr_data schema; it is NULL", name)
		return true, nil
	}
	return false, nil
}
