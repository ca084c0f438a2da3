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
//   - case-insensitive, literal of ASCII characters without NUL: SQLite's
//     NOCASE and lower() fold ASCII letters only, while xql_match folds with
//     Go's strings.ToLower. On a value of ASCII text both agree. Non-ASCII
//     runes fold to non-ASCII runes in Go except U+212A KELVIN SIGN (→ "k")
//     and U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE (→ "i"), so only a
//     value holding one of these two can differ, and only when the literal
//     holds a k or an i: such values go to xql_match as well. Without k and
//     i the test is SQLite's alone, so an index (COLLATE NOCASE) can serve it.
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
func (c *exprCtx) foldGuard(f val) string {
	return "ifnull(instr(" + f.sql + ", " + c.b.param(foldKelvin) + ") + instr(" + f.sql + ", " +
		c.b.param(foldIDot) + "), 0) > 0"
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
	var fast string
	if contains {
		fast = "instr(lower(" + f.sql + "), " + c.b.param(strings.ToLower(pattern)) + ") > 0"
	} else {
		fast = f.sql + " = " + c.b.param(pattern) + " COLLATE NOCASE"
	}
	if !foldsFromNonASCII(pattern) {
		return "(" + fast + ")", true
	}
	slow := "xql_match(" + f.sql + ", " + c.b.param(pattern) + ", " + c.b.param(flags) + ")"
	return "(" + fast + " OR " + c.foldGuard(f) + " AND " + slow + ")", true
}

// nativeIn compiles f in (patterns…), all plain literals, with SQLite's IN,
// or reports false when xql_match must decide.
func (c *exprCtx) nativeIn(f val, patterns []string, flags int64) (string, bool) {
	if !nativeOK(f, flags) || len(patterns) == 0 {
		return "", false
	}
	ps := make([]string, len(patterns))
	for i, p := range patterns {
		if flags&matchFold != 0 && !nativeFoldable(p) {
			return "", false
		}
		ps[i] = c.b.param(p)
	}
	list := "(" + strings.Join(ps, ", ") + ")"
	if flags&matchFold == 0 {
		return "(" + f.sql + " IN " + list + ")", true
	}
	fast := f.sql + " COLLATE NOCASE IN " + list
	var slow []string
	for i, p := range patterns {
		if foldsFromNonASCII(p) {
			slow = append(slow, "xql_match("+f.sql+", "+ps[i]+", "+c.b.param(flags)+")")
		}
	}
	if len(slow) == 0 {
		return "(" + fast + ")", true
	}
	return "(" + fast + " OR " + c.foldGuard(f) + " AND (" + strings.Join(slow, " OR ") + "))", true
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

// requiredLiterals returns the ASCII literals (2 bytes or more) that every
// match of the RE2 pattern contains, found in the top-level concatenation
// of its syntax tree; nil when there are none or the pattern does not
// parse.
func requiredLiterals(pattern string, foldCase bool) []regexLiteral {
	if foldCase {
		pattern = "(?i)" + pattern
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var out []regexLiteral
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			s := string(re.Rune)
			if len(s) >= 2 && nativeFoldable(s) {
				out = append(out, regexLiteral{text: s, fold: re.Flags&syntax.FoldCase != 0})
			}
		case syntax.OpCapture, syntax.OpPlus:
			walk(re.Sub[0])
		case syntax.OpRepeat:
			if re.Min >= 1 {
				walk(re.Sub[0])
			}
		case syntax.OpConcat:
			for _, s := range re.Sub {
				walk(s)
			}
		}
	}
	walk(re)
	return out
}

// Runes outside ASCII that Go's case-insensitive regexp matching treats as
// ASCII letters (unicode.SimpleFold orbits of k and s).
const (
	regexFoldKelvin = "\u212a" // KELVIN SIGN ~ k
	regexFoldLongS  = "\u017f" // LATIN SMALL LETTER LONG S ~ s
)

// regexPrefilter returns a native condition that is true (never NULL) for
// every non-NULL text value that can match the pattern, or "" when the
// pattern holds no usable literal. A case-insensitive literal is tested on
// lower(value); when such a literal holds k or s, values holding a rune that
// Go's regexp folds to k or s pass unconditionally.
func (c *exprCtx) regexPrefilter(f val, pattern string) string {
	if !f.text {
		return ""
	}
	lits := requiredLiterals(pattern, c.ci)
	if len(lits) == 0 {
		return ""
	}
	var tests []string
	guard := false
	for _, l := range lits {
		if l.fold {
			tests = append(tests, "instr(lower("+f.sql+"), "+c.b.param(strings.ToLower(l.text))+") > 0")
			guard = guard || strings.ContainsAny(l.text, "kKsS")
		} else {
			tests = append(tests, "instr("+f.sql+", "+c.b.param(l.text)+") > 0")
		}
	}
	cond := strings.Join(tests, " AND ")
	if guard {
		cond = "(" + cond + ") OR ifnull(instr(" + f.sql + ", " + c.b.param(regexFoldKelvin) + ") + instr(" +
			f.sql + ", " + c.b.param(regexFoldLongS) + "), 0) > 0"
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
