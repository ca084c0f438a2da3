package hunt

import (
	"fmt"
	"strings"

	"evtxhunt/normalize"
)

// fieldScope is what names a stage can see.
type fieldScope struct {
	xdr     bool            // the query reads xdr_data, whose schema is known
	open    bool            // an earlier stage may have made names we cannot know
	made    map[string]bool // names created by alter, comp, fields ... as, join
	only    map[string]bool // non-nil after fields or comp: the names kept
	onlyBy  string          // "fields stage at L:C" for messages
	aliases map[string]bool // join aliases (alias.field in join conditions)
}

// scope checks the field names of q stage by stage and returns the names
// visible at its end (nil when unknown).
func (l *linter) scope(q *Query) *fieldScope {
	s := &fieldScope{xdr: true, made: map[string]bool{}, aliases: map[string]bool{}}
	for _, st := range q.Stages {
		switch x := st.(type) {
		case *DatasetStage:
			name := strings.ToLower(x.Name)
			s.xdr = name == "xdr_data" || (x.Preset && strings.HasPrefix(name, "xdr_"))
		case *FilterStage:
			l.exprNames(s, x.Cond)
		case *FieldsStage:
			wild := false
			for _, it := range x.Items {
				if strings.Contains(it.Name, "*") {
					wild = true
					continue
				}
				l.name(s, it.Name, it.At)
			}
			if !x.Exclude && !wild {
				kept := map[string]bool{}
				for _, it := range x.Items {
					n := it.Name
					if it.Alias != "" {
						n = it.Alias
						s.made[strings.ToLower(n)] = true
					}
					kept[strings.ToLower(n)] = true
				}
				s.only, s.onlyBy = kept, fmt.Sprintf("fields stage at %d:%d", x.At.Line, x.At.Col)
			} else if !x.Exclude {
				s.only = nil // wildcards: cannot tell what is kept
			}
		case *AlterStage:
			for _, a := range x.Assignments {
				l.exprNames(s, a.Value)
				s.define(a.Name)
			}
		case *SortStage:
			for _, k := range x.Keys {
				l.name(s, k.Field, k.At)
			}
		case *DedupStage:
			for _, f := range x.Fields {
				l.name(s, f, x.At)
			}
			if x.By != "" {
				l.name(s, x.By, x.At)
			}
		case *CompStage:
			unnamed := false
			for _, a := range x.Aggregates {
				for _, e := range a.Args {
					l.exprNames(s, e)
				}
				if a.Alias == "" {
					unnamed = true
				}
			}
			for _, g := range x.By {
				l.name(s, g, x.At)
			}
			kept := map[string]bool{}
			for _, g := range x.By {
				kept[strings.ToLower(g)] = true
			}
			for _, a := range x.Aggregates {
				if a.Alias != "" {
					kept[strings.ToLower(a.Alias)] = true
					s.made[strings.ToLower(a.Alias)] = true
				}
			}
			if x.RawDataAs != "" {
				kept[strings.ToLower(x.RawDataAs)] = true
				s.made[strings.ToLower(x.RawDataAs)] = true
			}
			s.only, s.onlyBy = kept, fmt.Sprintf("comp stage at %d:%d", x.At.Line, x.At.Col)
			if unnamed || x.AddRawData {
				s.open = true // generated column names
			}
		case *JoinStage:
			var sub *fieldScope
			if x.Sub != nil {
				sub = l.scope(x.Sub)
			}
			s.aliases[strings.ToLower(x.Alias)] = true
			l.exprNames(s, x.Cond)
			switch {
			case sub == nil || !sub.xdr || sub.open:
				s.open = true
			case sub.only != nil:
				for n := range sub.only {
					s.define(n)
				}
			default:
				s.only = nil // the sub-query brings all xdr_data fields
			}
			if sub != nil {
				for n := range sub.made {
					s.define(n)
				}
			}
		case *UnionStage:
			if x.Sub != nil {
				l.scope(x.Sub)
			}
			s.open = true
		case *UnsupportedStage:
			s.open = true
		}
	}
	return s
}

// define records a name created by a stage.
func (s *fieldScope) define(name string) {
	n := strings.ToLower(name)
	s.made[n] = true
	if s.only != nil {
		s.only[n] = true
	}
}

// exprNames checks the field names of an expression. An upper-case name
// that is not a field is taken as a bare ENUM value.
func (l *linter) exprNames(s *fieldScope, e Expr) {
	if e == nil {
		return
	}
	Inspect(e, func(n Node) bool {
		switch x := n.(type) {
		case *Ident:
			if isEnumLike(x.Name) && !schemaFields()[strings.ToLower(x.Name)] && !s.made[strings.ToLower(x.Name)] {
				return true
			}
			l.name(s, x.Name, x.At)
		case *InExpr:
			if x.Sub != nil {
				l.scope(x.Sub)
				l.exprNames(s, x.X)
				return false
			}
		}
		return true
	})
}

func isEnumLike(name string) bool {
	letter := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9' || c == '_':
		default:
			return false
		}
	}
	return letter
}

// name checks one field name at pos.
func (l *linter) name(s *fieldScope, name string, pos Pos) {
	n := strings.ToLower(name)
	if !s.xdr || n == "" || strings.HasPrefix(n, "$") {
		return
	}
	if i := strings.IndexByte(n, '.'); i > 0 && s.aliases[n[:i]] {
		return // alias.field of a join condition
	}
	if s.only != nil && !s.only[n] && !alwaysKept[n] {
		if s.open {
			return
		}
		l.once(pos, LintUnknownField, n, "field %s is not available here: the %s keeps only the fields it lists", name, s.onlyBy)
		return
	}
	if s.made[n] {
		return
	}
	if schemaFields()[n] {
		if !normalize.IsStored(n) {
			l.once(pos, LintNeverFilled, n, "%s is an xdr_data field that evtxhunt does not store (it comes from non-process events); it is always NULL here", name)
			return
		}
		for _, nf := range neverFilled {
			if strings.Contains(n, nf.part) {
				l.once(pos, LintNeverFilled, n, "%s is never filled from EVTX (%s); it is always NULL here", name, nf.why)
				return
			}
		}
		return
	}
	if s.open {
		return
	}
	msg := fmt.Sprintf("unknown field %s: not an xdr_data field and not created by an earlier stage", name)
	if sug := suggestField(n); sug != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", sug)
	}
	l.once(pos, LintUnknownField, n, "%s", msg)
}

// once reports a code for a name only at its first occurrence.
func (l *linter) once(pos Pos, code, name, format string, args ...any) {
	key := code + "\x00" + name
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.add(pos, "warning", code, format, args...)
}

// suggestField returns the schema field closest to name, or "".
func suggestField(name string) string {
	best, bestD := "", len(name)/5+2
	for _, f := range normalize.XDRFields {
		if d := editDistance(name, f.Name, bestD); d < bestD {
			best, bestD = f.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or max when it is
// at least max.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d >= max || -d >= max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= max {
			return max
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], max)
}
