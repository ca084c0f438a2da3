package hunt

import (
	"strconv"
	"strings"
)

// String prints the query in canonical form: one stage per line, each line
// after the first starting with "| ". Parse(q.String()) gives back the same
// AST, positions aside.
func (q *Query) String() string {
	var b strings.Builder
	printQuery(&b, q, "\n| ")
	return b.String()
}

func printQuery(b *strings.Builder, q *Query, sep string) {
	for i, st := range q.Stages {
		if i > 0 {
			b.WriteString(sep)
		}
		printStage(b, st)
	}
}

// StageString prints one stage in canonical form.
func StageString(st Stage) string {
	var b strings.Builder
	printStage(&b, st)
	return b.String()
}

// ExprString prints an expression in canonical form.
func ExprString(e Expr) string {
	var b strings.Builder
	printExpr(&b, e, precLowest)
	return b.String()
}

func printStage(b *strings.Builder, st Stage) {
	switch s := st.(type) {
	case *ConfigStage:
		b.WriteString("config")
		if s.CaseSensitive != nil {
			b.WriteString(" case_sensitive = " + strconv.FormatBool(*s.CaseSensitive))
		}
		if t := s.Timeframe; t != nil {
			if t.Relative != "" {
				b.WriteString(" timeframe = " + t.Relative)
			} else {
				b.WriteString(" timeframe between " + quoteString(t.From, strings.Contains(t.From, `"`)) +
					" and " + quoteString(t.To, strings.Contains(t.To, `"`)))
			}
		}
	case *DatasetStage:
		kind := s.Kind
		if kind == "" {
			kind = "dataset"
			if s.Preset {
				kind = "preset"
			}
		}
		b.WriteString(kind)
		if kind == "datamodel" {
			if s.Name == "" {
				return
			}
			b.WriteString(" dataset")
		}
		b.WriteString(" = " + wildName(s.Name))
	case *FilterStage:
		b.WriteString("filter ")
		printExpr(b, s.Cond, precLowest)
	case *FieldsStage:
		b.WriteString("fields ")
		if s.Exclude {
			b.WriteString("- ")
		}
		for i, it := range s.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(wildName(it.Name))
			if it.Alias != "" {
				b.WriteString(" as " + quoteName(it.Alias))
			}
		}
	case *AlterStage:
		b.WriteString("alter ")
		for i, a := range s.Assignments {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteName(a.Name) + " = ")
			printExpr(b, a.Value, precLowest)
		}
	case *SortStage:
		b.WriteString("sort ")
		for i, k := range s.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(direction(k.Desc) + " " + quoteName(k.Field))
		}
	case *LimitStage:
		b.WriteString("limit " + strconv.FormatInt(s.Count, 10))
	case *DedupStage:
		b.WriteString("dedup ")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteName(f))
		}
		if s.By != "" {
			b.WriteString(" by " + direction(s.ByDesc) + " " + quoteName(s.By))
		}
	case *CompStage:
		b.WriteString("comp ")
		for i, a := range s.Aggregates {
			if i > 0 {
				b.WriteString(", ")
			}
			printCall(b, a.Func, a.Args)
			if a.Alias != "" {
				b.WriteString(" as " + quoteName(a.Alias))
			}
		}
		for i, g := range s.By {
			if i == 0 {
				b.WriteString(" by ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(quoteName(g))
		}
		if s.AddRawData || s.RawDataAs != "" {
			b.WriteString(" addrawdata = true")
			if s.RawDataAs != "" {
				b.WriteString(" as " + quoteName(s.RawDataAs))
			}
		}
	case *JoinStage:
		b.WriteString("join")
		if s.Type != "" && s.Type != "inner" {
			b.WriteString(" type = " + s.Type)
		}
		if s.ConflictStrategy != "" && s.ConflictStrategy != "right" {
			b.WriteString(" conflict_strategy = " + s.ConflictStrategy)
		}
		b.WriteString(" (")
		if s.Sub != nil {
			printQuery(b, s.Sub, " | ")
		}
		b.WriteString(") as " + quoteName(s.Alias) + " ")
		printExpr(b, s.Cond, precLowest)
	case *UnionStage:
		b.WriteString("union ")
		if s.Sub != nil {
			b.WriteString("(")
			printQuery(b, s.Sub, " | ")
			b.WriteString(")")
		} else {
			b.WriteString(wildName(s.Dataset))
		}
	case *UnsupportedStage:
		b.WriteString(s.Text)
	}
}

func direction(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// Operator precedence, loosest first.
const (
	precLowest = iota
	precOr
	precAnd
	precNot
	precCmp
	precAdd
	precMul
	precUnary
	precPostfix
)

func binaryPrec(op string) int {
	switch op {
	case "or":
		return precOr
	case "and":
		return precAnd
	case "+", "-":
		return precAdd
	case "*", "/":
		return precMul
	}
	return precCmp
}

// printExpr prints e; it adds parentheses where e binds less tightly than
// its context requires (never needed for a tree that Parse built).
func printExpr(b *strings.Builder, e Expr, ctx int) {
	prec := exprPrec(e)
	if prec < ctx {
		b.WriteString("(")
		defer b.WriteString(")")
	}
	switch x := e.(type) {
	case nil:
		b.WriteString("null")
	case *Ident:
		b.WriteString(quoteName(x.Name))
	case *StringLit:
		b.WriteString(quoteString(x.Value, x.Triple))
	case *NumberLit:
		if x.Text != "" {
			b.WriteString(x.Text)
		} else if x.IsFloat {
			b.WriteString(strconv.FormatFloat(x.Float, 'f', -1, 64))
		} else {
			b.WriteString(strconv.FormatInt(x.Int, 10))
		}
	case *BoolLit:
		b.WriteString(strconv.FormatBool(x.Value))
	case *NullLit:
		b.WriteString("null")
	case *EnumLit:
		b.WriteString("ENUM." + x.Name)
	case *DurationLit:
		b.WriteString(x.Text)
	case *Unary:
		if x.Op == "not" {
			b.WriteString("not ")
			printExpr(b, x.X, precNot)
		} else {
			b.WriteString(x.Op)
			printExpr(b, x.X, precUnary)
		}
	case *Binary:
		p := binaryPrec(x.Op)
		// Left-associative: the right operand needs parentheses at equal
		// precedence; comparisons do not chain at all.
		left, right := p, p+1
		if p == precCmp {
			left = p + 1
		}
		printExpr(b, x.X, left)
		b.WriteString(" " + x.Op + " ")
		printExpr(b, x.Y, right)
	case *InExpr:
		printExpr(b, x.X, precCmp+1)
		if x.Not {
			b.WriteString(" not in (")
		} else {
			b.WriteString(" in (")
		}
		if x.Sub != nil {
			printQuery(b, x.Sub, " | ")
		}
		for i, v := range x.List {
			if i > 0 {
				b.WriteString(", ")
			}
			printExpr(b, v, precLowest)
		}
		b.WriteString(")")
	case *Call:
		printCall(b, x.Name, x.Args)
	case *JSONPath:
		printExpr(b, x.X, precPostfix)
		b.WriteString(" -> " + jsonPathText(x))
	case *Paren:
		b.WriteString("(")
		printExpr(b, x.X, precLowest)
		b.WriteString(")")
	}
}

func exprPrec(e Expr) int {
	switch x := e.(type) {
	case *Binary:
		return binaryPrec(x.Op)
	case *InExpr:
		return precCmp
	case *Unary:
		if x.Op == "not" {
			return precNot
		}
		return precUnary
	case *JSONPath:
		return precPostfix
	}
	return precPostfix + 1
}

func printCall(b *strings.Builder, name string, args []Expr) {
	switch name {
	case "incidr", "incidr6", "contains":
		b.WriteString(name + "(") // read back as calls before "("
	default:
		b.WriteString(quoteName(name) + "(")
	}
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		printExpr(b, a, precLowest)
	}
	b.WriteString(")")
}

// jsonPathText turns the "$.a[0]."k.x"" form of JSONPath.Path back into
// XQL's a[0]["k.x"], with the {} or [] suffix.
func jsonPathText(x *JSONPath) string {
	var b strings.Builder
	s := strings.TrimPrefix(x.Path, "$")
	for s != "" {
		switch {
		case strings.HasPrefix(s, `."`):
			// The key ends at the first " that no backslash precedes
			// (a raw key may hold \", never a final backslash).
			end := 2
			for end < len(s) && (s[end] != '"' || s[end-1] == '\\') {
				end++
			}
			b.WriteString(`["` + s[2:end] + `"]`)
			s = s[min(end+1, len(s)):]
		case s[0] == '.':
			end := strings.IndexAny(s[1:], ".[")
			if end < 0 {
				end = len(s) - 1
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s[1 : 1+end])
			s = s[1+end:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				end = len(s) - 1
			}
			b.WriteString(s[:end+1])
			s = s[end+1:]
		default:
			b.WriteString(s)
			s = ""
		}
	}
	if x.Array {
		b.WriteString("{}")
	} else if x.ExtractArray {
		b.WriteString("[]")
	}
	return b.String()
}

// quoteString prints a string literal, "raw" or """escaped""". A raw value
// that Parse produced may hold \" (see endsOperand) and prints unchanged.
func quoteString(v string, triple bool) string {
	if !triple {
		return `"` + v + `"`
	}
	return `"""` + escapeTriple(v) + `"""`
}

// nameWords are words that must be quoted with backquotes to be read as a
// name.
var nameWords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "contains": true,
	"incidr": true, "incidr6": true, "true": true, "false": true, "null": true,
	"as": true, "by": true, "asc": true, "desc": true, "addrawdata": true,
}

// isPlainName reports whether s reads back as one unquoted IDENT token
// (agent_id, a.b, 90th_pct, $param).
func isPlainName(s string) bool {
	it := newLexer(s, nil).next()
	return it.Tok == IDENT && !it.Quoted && it.Pos.Offset == 0 && it.End == len(s)
}

// quoteName prints a field, alias or function name, in backquotes when it
// is not a plain name or is a keyword.
func quoteName(s string) string {
	lw := strings.ToLower(s)
	if isPlainName(s) && !nameWords[lw] && !strings.HasPrefix(lw, "enum.") {
		return s
	}
	return "`" + s + "`"
}

// wildName prints a name that may hold * wildcards (fields, dataset).
func wildName(s string) string {
	if !strings.Contains(s, "*") {
		return quoteName(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || isDigit(c) || c == '.' || c == '*') {
			return "`" + s + "`"
		}
	}
	return s
}
