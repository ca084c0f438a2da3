package hunt

import "strings"

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
//     value holding one of these two can differ: such values go to
//     xql_match as well.
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
	fl := c.b.param(flags)
	slow := make([]string, len(ps))
	for i, p := range ps {
		slow[i] = "xql_match(" + f.sql + ", " + p + ", " + fl + ")"
	}
	return "(" + f.sql + " COLLATE NOCASE IN " + list + " OR " + c.foldGuard(f) + " AND (" +
		strings.Join(slow, " OR ") + "))", true
}
