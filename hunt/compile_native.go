package hunt

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Native SQL for string-literal tests. Every call of a Go function from
// SQLite (xql_match) costs a cgo callback and reflection, so a test of a
// stored TEXT column against a plain literal is compiled to SQLite's own
// operators where they give exactly xql_match's answer:
//
//   - case-sensitive: = and IN compare bytes; contains is instr() > 0.
//   - case-insensitive contains: LIKE '%lit%' (ASCII folding, no copy of
//     the value); values holding a NUL, which LIKE does not read past, go
//     to xql_match as well.
//   - case-insensitive, literal of ASCII characters without NUL: SQLite's
//     NOCASE and lower() fold ASCII letters only, while xql_match folds with
//     Go's strings.ToLower. On a value of ASCII text both agree. Non-ASCII
//     runes fold to non-ASCII runes in Go except U+212A KELVIN SIGN (→ "k")
//     and U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE (→ "i"), so only a
//     value holding one of these two can differ, and only when the literal
//     holds a k or an i. For = and in, such a literal is spelt out with
//     those runes in its k and i places (foldVariants), so the test stays
//     SQLite's alone and an index (COLLATE NOCASE) can serve it; for
//     contains, values holding K or İ go to xql_match as well.
//
// Wildcards, JSON arrays, path-separator mode and non-ASCII literals stay on
// xql_match.

// Runes outside ASCII that strings.ToLower maps into ASCII.
const (
	foldKelvin = "\u212a" // KELVIN SIGN → "k"
	foldIDot   = "\u0130" // LATIN CAPITAL LETTER I WITH DOT ABOVE → "i"
)

// nativeFoldable reports whether s is ASCII without NUL bytes, so that
// SQLite's NOCASE and lower() fold it as Go does (NOCASE stops at a NUL).
func nativeFoldable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// foldsFromNonASCII reports whether the ASCII literal p holds a letter that
// Go's strings.ToLower also produces from a non-ASCII rune (k, i).
func foldsFromNonASCII(p string) bool { return strings.ContainsAny(p, "kKiI") }

// nativeOK reports whether a test of f with these xql_match flags can be
// compiled natively at all (the pattern is checked separately).
func nativeOK(f val, flags int64) bool {
	return f.text && flags&(matchWildcard|matchArray|matchPathSep) == 0
}

// foldGuard is a condition, false (not NULL) for a NULL value, that holds
// when f contains a rune whose Go lower case is ASCII.
func (c *exprCtx) foldGuard(f val) string { return c.holdsAny(f, foldKelvin, foldIDot) }

// holdsAny is a condition, false (not NULL) for a NULL value, that holds
// when f contains one of the strings.
func (c *exprCtx) holdsAny(f val, subs ...string) string {
	tests := make([]string, len(subs))
	for i, s := range subs {
		tests[i] = "instr(" + f.sql + ", " + c.b.param(s) + ")"
	}
	return "ifnull(" + strings.Join(tests, " + ") + ", 0) > 0"
}

// maxLikeLiteral bounds the literals tested with LIKE (SQLite refuses
// patterns over 50,000 bytes).
const maxLikeLiteral = 1000

// likeContains returns an ASCII-case-insensitive substring test of f for
// the ASCII literal lit, and whether it is LIKE. LIKE folds ASCII letters
// only, as lower() does, without copying the value; but it reads the value
// up to its first NUL, so the caller must send values holding a NUL
// elsewhere (nul true). Long literals use instr(lower(f), lit).
func (c *exprCtx) likeContains(f val, lit string) (test string, nul bool) {
	lit = strings.ToLower(lit)
	if len(lit) > maxLikeLiteral {
		return "instr(lower(" + f.sql + "), " + c.b.param(lit) + ") > 0", false
	}
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(lit)
	return f.sql + " LIKE " + c.b.param("%"+esc+"%") + ` ESCAPE '\'`, true
}

// maxFoldLetters bounds the k and i letters of a literal spelt out by
// foldVariants (2^n spellings).
const maxFoldLetters = 4

// foldVariants returns the spellings of the ASCII literal p with each k
// replaced by k or U+212A and each i by i or U+0130, or nil when p has more
// than maxFoldLetters such letters. A value equals p under Go's folding
// exactly when it equals one of them ignoring ASCII case (COLLATE NOCASE):
// folded, every rune of the value must give one ASCII byte of p, and only
// ASCII runes, K and İ do.
func foldVariants(p string) []string {
	var at []int
	for i := 0; i < len(p); i++ {
		if strings.IndexByte("kKiI", p[i]) >= 0 {
			at = append(at, i)
		}
	}
	if len(at) > maxFoldLetters {
		return nil
	}
	out := make([]string, 0, 1<<len(at))
	for mask := 0; mask < 1<<len(at); mask++ {
		var sb strings.Builder
		prev := 0
		for j, i := range at {
			sb.WriteString(p[prev:i])
			switch {
			case mask&(1<<j) == 0:
				sb.WriteByte(p[i])
			case p[i] == 'k' || p[i] == 'K':
				sb.WriteString(foldKelvin)
			default:
				sb.WriteString(foldIDot)
			}
			prev = i + 1
		}
		sb.WriteString(p[prev:])
		out = append(out, sb.String())
	}
	return out
}

// prefixRange returns "f >= lo AND f < hi AND " (COLLATE NOCASE), the
// range of values that start, ignoring ASCII case, with the part of the
// ASCII pattern before its first k or i; "" when that part is empty. A
// value that Go's folding makes equal to the pattern holds ASCII
// characters there (only K and İ fold into ASCII, to k and i), so it lies
// in the range: the range narrows the fallback without changing its
// result, and lets SQLite serve the whole disjunction from an index on f
// (COLLATE NOCASE).
func (c *exprCtx) prefixRange(f val, pattern string) string {
	n := strings.IndexAny(pattern, "kKiI")
	if n <= 0 {
		return ""
	}
	lo := strings.ToLower(pattern[:n])
	last := lo[n-1]
	if last >= 0x7f {
		return ""
	}
	hi := lo[:n-1] + string(rune(last+1))
	return f.sql + " >= " + c.b.param(lo) + " COLLATE NOCASE AND " + f.sql + " < " + c.b.param(hi) + " COLLATE NOCASE AND "
}

// nativeMatch compiles f = pattern (or f contains pattern with
// matchContains) with SQLite's operators, or reports false when xql_match
// must decide.
func (c *exprCtx) nativeMatch(f val, pattern string, flags int64) (string, bool) {
	if !nativeOK(f, flags) {
		return "", false
	}
	contains := flags&matchContains != 0
	if flags&matchFold == 0 {
		p := c.b.param(pattern)
		if contains {
			return "(instr(" + f.sql + ", " + p + ") > 0)", true
		}
		return "(" + f.sql + " = " + p + ")", true
	}
	if !nativeFoldable(pattern) {
		return "", false
	}
	if !contains {
		if foldsFromNonASCII(pattern) {
			return c.nativeIn(f, []string{pattern}, flags)
		}
		return "(" + f.sql + " = " + c.b.param(pattern) + " COLLATE NOCASE)", true
	}
	fast, nul := c.likeContains(f, pattern)
	var odd []string // values holding these go to xql_match as well
	if nul {
		odd = append(odd, "\x00")
	}
	if foldsFromNonASCII(pattern) {
		odd = append(odd, foldKelvin, foldIDot)
	}
	if len(odd) == 0 {
		return "(" + fast + ")", true
	}
	slow := "xql_match(" + f.sql + ", " + c.b.param(pattern) + ", " + c.b.param(flags) + ")"
	return "(" + fast + " OR " + c.holdsAny(f, odd...) + " AND " + slow + ")", true
}

// nativeIn compiles f in (patterns…), all plain literals, with SQLite's IN,
// or reports false when xql_match must decide.
func (c *exprCtx) nativeIn(f val, patterns []string, flags int64) (string, bool) {
	if !nativeOK(f, flags) || len(patterns) == 0 {
		return "", false
	}
	if flags&matchFold == 0 {
		ps := make([]string, len(patterns))
		for i, p := range patterns {
			ps[i] = c.b.param(p)
		}
		return "(" + f.sql + " IN (" + strings.Join(ps, ", ") + "))", true
	}
	var ps, slow []string
	for _, p := range patterns {
		if !nativeFoldable(p) {
			return "", false
		}
		vs := foldVariants(p)
		if vs == nil {
			slow = append(slow, "("+c.prefixRange(f, p)+c.foldGuard(f)+" AND xql_match("+f.sql+", "+
				c.b.param(p)+", "+c.b.param(flags)+"))")
			vs = []string{p}
		}
		for _, v := range vs {
			ps = append(ps, c.b.param(v))
		}
	}
	terms := append([]string{f.sql + " COLLATE NOCASE IN (" + strings.Join(ps, ", ") + ")"}, slow...)
	return "(" + strings.Join(terms, " OR ") + ")", true
}

// exprCost ranks a condition for evaluation order: 2 when it holds a
// regular expression, 1 when it calls a function, else 0 (column tests,
// mostly native SQL).
func exprCost(e Expr) int {
	cost := 0
	Inspect(e, func(n Node) bool {
		switch x := n.(type) {
		case *Binary:
			switch strings.ToLower(strings.Join(strings.Fields(x.Op), " ")) {
			case "~=", "!~=":
				cost = 2
			case "incidr", "not incidr", "incidr6", "not incidr6":
				cost = max(cost, 1)
			}
		case *Call, *JSONPath:
			cost = max(cost, 1)
		case *InExpr:
			if x.Sub != nil {
				cost = max(cost, 1)
			}
		}
		return true
	})
	return cost
}

// chain compiles a run of the same operator (and / or) with its terms in
// order of cost: SQLite evaluates them as written and stops at the first
// false (true) term, so cheap native tests spare the regular expressions.
// Both operators are commutative under SQL's three-valued logic, so the
// result is the same; parentheses of other operators are kept.
func (c *exprCtx) chain(op string, x *Binary) (val, error) {
	var terms []Expr
	var walk func(e Expr)
	walk = func(e Expr) {
		if b, ok := unparen(e).(*Binary); ok && strings.EqualFold(strings.TrimSpace(b.Op), op) {
			walk(b.X)
			walk(b.Y)
			return
		}
		terms = append(terms, e)
	}
	walk(x.X)
	walk(x.Y)
	sqls := make([][]string, 3)
	for _, t := range terms {
		v, err := c.expr(t)
		if err != nil {
			return val{}, err
		}
		k := exprCost(t)
		sqls[k] = append(sqls[k], v.sql)
	}
	all := append(append(sqls[0], sqls[1]...), sqls[2]...)
	return boolVal("(" + strings.Join(all, " "+strings.ToUpper(op)+" ") + ")"), nil
}

// regexLiteral is a substring every match of a regular expression holds.
type regexLiteral struct {
	text string
	fold bool // compared ignoring case
}

// requiredLiterals returns groups of ASCII literals (2 bytes or more) such
// that every match of the RE2 pattern contains at least one literal of each
// group. They are found in the top-level concatenation of its syntax tree;
// an alternation gives a group when each of its branches requires a
// literal. nil when there are none or the pattern does not parse.
func requiredLiterals(pattern string, foldCase bool) [][]regexLiteral {
	if foldCase {
		pattern = "(?i)" + pattern
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return literalGroups(re)
}

// literalGroups is requiredLiterals of one syntax tree.
func literalGroups(re *syntax.Regexp) [][]regexLiteral {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if len(s) >= 2 && nativeFoldable(s) {
			return [][]regexLiteral{{{text: s, fold: re.Flags&syntax.FoldCase != 0}}}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return literalGroups(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalGroups(re.Sub[0])
		}
	case syntax.OpConcat:
		var out [][]regexLiteral
		for _, s := range re.Sub {
			out = append(out, literalGroups(s)...)
		}
		return out
	case syntax.OpAlternate:
		// One literal from each branch: the group whose shortest
		// alternative is longest.
		var group []regexLiteral
		for _, b := range re.Sub {
			var best []regexLiteral
			bestLen := 0
			for _, g := range literalGroups(b) {
				short := len(g[0].text)
				for _, l := range g {
					short = min(short, len(l.text))
				}
				if short > bestLen {
					best, bestLen = g, short
				}
			}
			if best == nil {
				return nil
			}
			group = append(group, best...)
		}
		return [][]regexLiteral{group}
	}
	return nil
}

// Runes outside ASCII that Go's case-insensitive regexp matching treats as
// ASCII letters (unicode.SimpleFold orbits of k and s).
const (
	regexFoldKelvin = "\u212a" // KELVIN SIGN ~ k
	regexFoldLongS  = "\u017f" // LATIN SMALL LETTER LONG S ~ s
)

// regexPrefilter returns a native condition that is true (never NULL) for
// every non-NULL text value that can match the pattern, or "" when the
// pattern holds no usable literal. A case-insensitive literal is tested
// with LIKE (likeContains): values holding a NUL pass unconditionally, and
// when such a literal holds k or s, so do values holding a rune that Go's
// regexp folds to k or s.
func (c *exprCtx) regexPrefilter(f val, pattern string) string {
	if !f.text {
		return ""
	}
	groups := requiredLiterals(pattern, c.ci)
	if len(groups) == 0 {
		return ""
	}
	var tests []string
	nul, fold := false, false
	for _, g := range groups {
		var alts []string
		for _, l := range g {
			if l.fold {
				t, n := c.likeContains(f, l.text)
				alts = append(alts, t)
				nul = nul || n
				fold = fold || strings.ContainsAny(l.text, "kKsS")
			} else {
				alts = append(alts, "instr("+f.sql+", "+c.b.param(l.text)+") > 0")
			}
		}
		if len(alts) == 1 {
			tests = append(tests, alts[0])
		} else {
			tests = append(tests, "("+strings.Join(alts, " OR ")+")")
		}
	}
	var odd []string // values holding these pass unconditionally
	if nul {
		odd = append(odd, "\x00")
	}
	if fold {
		odd = append(odd, regexFoldKelvin, regexFoldLongS)
	}
	cond := strings.Join(tests, " AND ")
	if len(odd) > 0 {
		cond = "(" + cond + ") OR " + c.holdsAny(f, odd...)
	}
	return cond
}

// joinKeys are the folded keys of a case-insensitive join condition. A test
// xql_fold(inner.x) = xql_fold(outer expression) is compiled as
// inner.k = xql_fold(outer expression), where k is xql_fold(x) computed
// once per row of the (materialised) sub-query: the same values, but
// SQLite can index k, and xql_fold runs once per row instead of twice per
// pair of rows.
type joinKeys struct {
	alias string   // the sub-query's alias in the join
	cols  []string // `xql_fold("x") AS "__xql_kN"` for the sub-query's SELECT
}

// innerColumnRE matches a plain column reference of the join's sub-query.
var innerColumnRE = regexp.MustCompile(`^__xql_r\.("(?:[^"]|"")*")$`)

// fold returns the key reference for a comparison of a and b, one a plain
// column of the sub-query and the other free of it; ok is false otherwise
// (k is nil outside join conditions).
func (k *joinKeys) fold(a, b string) (key, other string, ok bool) {
	if k == nil || k.alias != "__xql_r" {
		return "", "", false
	}
	m := innerColumnRE.FindStringSubmatch(a)
	if m == nil {
		a, b = b, a
		m = innerColumnRE.FindStringSubmatch(a)
	}
	if m == nil || strings.Contains(b, k.alias+".") {
		return "", "", false
	}
	name := quoteIdent(fmt.Sprintf("__xql_k%d", len(k.cols)+1))
	k.cols = append(k.cols, "xql_fold("+m[1]+") AS "+name)
	return k.alias + "." + name, b, true
}

// impliedIn adds to a condition in positive position (a filter or join
// condition, where unknown drops the row like false) one redundant test per
// top-level disjunction whose every branch requires the same field to equal
// some plain string literals: field in (all those literals). Whenever the
// disjunction is true the added test is true, and when it is false or
// unknown the row is dropped either way, so the rows are the same; but
// SQLite can then serve the disjunction from an index on the field, which
// it does not do for an OR of ANDs. Tests that would not compile to
// SQLite's operators are not added (the caller checks the SQL).
func impliedIn(e Expr) []*InExpr {
	var out []*InExpr
	for _, t := range flatten(e, "and") {
		b, ok := unparen(t).(*Binary)
		if !ok || !strings.EqualFold(strings.TrimSpace(b.Op), "or") {
			continue
		}
		var field *Ident
		var lits []Expr
		for _, d := range flatten(b, "or") {
			f, ls := branchLiterals(d, field)
			if f == nil {
				field = nil
				break
			}
			field, lits = f, append(lits, ls...)
		}
		if field != nil {
			out = append(out, &InExpr{At: b.At, X: field, List: lits})
		}
	}
	return out
}

// flatten returns the terms of a run of one operator (and / or).
func flatten(e Expr, op string) []Expr {
	if b, ok := unparen(e).(*Binary); ok && strings.EqualFold(strings.TrimSpace(b.Op), op) {
		return append(flatten(b.X, op), flatten(b.Y, op)...)
	}
	return []Expr{e}
}

// branchLiterals finds in the top-level conjuncts of e a test `field =
// "literal"` or `field in ("literal", …)` with plain literals (no wildcard;
// on want's field when want is set) and returns the field and literals.
func branchLiterals(e Expr, want *Ident) (*Ident, []Expr) {
	plain := func(x Expr) bool {
		s, ok := unparen(x).(*StringLit)
		return ok && (s.Triple || !strings.Contains(s.Value, "*"))
	}
	same := func(x Expr) (*Ident, bool) {
		id, ok := unparen(x).(*Ident)
		return id, ok && (want == nil || strings.EqualFold(id.Name, want.Name))
	}
	for _, t := range flatten(e, "and") {
		switch x := unparen(t).(type) {
		case *Binary:
			if strings.TrimSpace(x.Op) != "=" {
				continue
			}
			if id, ok := same(x.X); ok && plain(x.Y) {
				return id, []Expr{x.Y}
			}
			if id, ok := same(x.Y); ok && plain(x.X) {
				return id, []Expr{x.X}
			}
		case *InExpr:
			id, ok := same(x.X)
			if !ok || x.Not || x.Sub != nil || len(x.List) == 0 {
				continue
			}
			all := true
			for _, l := range x.List {
				all = all && plain(l)
			}
			if all {
				return id, x.List
			}
		}
	}
	return nil, nil
}
