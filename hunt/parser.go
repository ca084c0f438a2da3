package hunt

import (
	"fmt"
	"strconv"
	"strings"
)

// maxErrors is the number of errors after which Parse gives up.
const maxErrors = 10

// maxNest bounds the nesting of expressions and sub-queries.
const maxNest = 500

// unsupportedStages are the XQL stages that Parse accepts as
// *UnsupportedStage: the parser keeps their text and reports no error; the
// compiler rejects them ("unsupported stage X at line:col"), except view,
// which it ignores with a note.
var unsupportedStages = map[string]bool{
	"view": true, "bin": true, "windowcomp": true, "arrayexpand": true,
	"iploc": true, "replacenull": true, "top": true, "target": true,
	"tag": true, "call": true, "transaction": true, "getrole": true,
	"search": true,
}

// IsUnsupportedStage reports whether name (lower case) is a known XQL stage
// that Parse keeps as an *UnsupportedStage.
func IsUnsupportedStage(name string) bool { return unsupportedStages[name] }

// parser holds the state of one Parse call.
type parser struct {
	src     string
	lx      *lexer
	tok     Item // current token
	prevEnd int  // end offset of the previous token
	depth   int  // parentheses consumed and not yet closed
	nest    int  // recursion depth of expressions and sub-queries
	errors  ErrorList
}

// bailout stops the parse after too many errors.
type bailout struct{}

// stageError abandons the current stage; the parser resumes at the next "|".
type stageError struct{}

// Parse parses an XQL query. It always returns a (possibly partial) *Query:
// a stage that has a syntax error is left out, the others are kept. err is
// an ErrorList sorted by position with at most one error per line, or nil.
//
// Known stages that the engine cannot run (view, bin, windowcomp,
// arrayexpand, iploc, replacenull, top, target, tag, call, transaction,
// getrole, search) are not syntax errors: Parse returns them as
// *UnsupportedStage and leaves the decision to the compiler. Any other word
// in stage position is a syntax error.
func Parse(src string) (q *Query, err error) {
	p := &parser{src: src}
	p.lx = newLexer(src, p.lexError)
	q = &Query{}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
		}
		p.errors.RemoveMultiples()
		err = p.errors.Err()
	}()
	p.next()
	p.parseStages(q, false)
	return q, nil
}

func (p *parser) lexError(pos Pos, msg string) {
	p.errors.Add(pos, msg)
}

// error records an error and gives up when there are too many.
func (p *parser) error(pos Pos, format string, args ...any) {
	p.errors.Add(pos, fmt.Sprintf(format, args...))
	if len(p.errors) > maxErrors {
		panic(bailout{})
	}
}

// fail records an error and abandons the current stage.
func (p *parser) fail(pos Pos, format string, args ...any) {
	p.error(pos, format, args...)
	panic(stageError{})
}

// next advances to the next token, keeping count of open parentheses.
func (p *parser) next() {
	switch p.tok.Tok {
	case LPAREN:
		p.depth++
	case RPAREN:
		if p.depth > 0 {
			p.depth--
		}
	}
	p.prevEnd = p.tok.End
	p.tok = p.lx.next()
}

// peek returns the token after the current one without consuming it.
func (p *parser) peek() Item {
	save := *p.lx
	it := p.lx.next()
	*p.lx = save
	return it
}

// adjacent reports whether the current token follows the previous one
// without white space or comments between them.
func (p *parser) adjacent() bool { return p.tok.Pos.Offset == p.prevEnd }

// isKeyword reports whether the current token is the unquoted word kw, in
// any letter case.
func (p *parser) isKeyword(kw string) bool {
	return p.tok.Tok == IDENT && !p.tok.Quoted && strings.EqualFold(p.tok.Lit, kw)
}

// describe names the current token for error messages.
func (p *parser) describe() string {
	switch p.tok.Tok {
	case EOF:
		return "end of query"
	case IDENT:
		if p.tok.Quoted {
			return fmt.Sprintf("`%s`", p.tok.Lit)
		}
		return strconv.Quote(p.tok.Lit)
	case STRING, TSTRING:
		return "string " + strconv.Quote(p.tok.Lit)
	case INT, FLOAT, DURATION:
		return p.tok.Lit
	case ILLEGAL:
		return "character " + strconv.Quote(p.tok.Lit)
	}
	return strconv.Quote(p.tok.Tok.String())
}

func (p *parser) expect(tok Token, context string) Pos {
	pos := p.tok.Pos
	if p.tok.Tok != tok {
		p.fail(pos, "expected %q %s, found %s", tok.String(), context, p.describe())
	}
	p.next()
	return pos
}

func (p *parser) expectKeyword(kw, context string) Pos {
	pos := p.tok.Pos
	if !p.isKeyword(kw) {
		p.fail(pos, "expected %q %s, found %s", kw, context, p.describe())
	}
	p.next()
	return pos
}

// enter and leave guard the recursion depth.
func (p *parser) enter() {
	p.nest++
	if p.nest > maxNest {
		p.error(p.tok.Pos, "query nested too deeply")
		panic(bailout{})
	}
}

func (p *parser) leave() { p.nest-- }

// ---- stages ----

// parseStages parses "stage { | stage }" into q, up to the end of the
// input, or up to the ")" that closes a sub-query when sub is set.
func (p *parser) parseStages(q *Query, sub bool) {
	base := p.depth
	for {
		if st := p.parseStageSafe(base, sub); st != nil {
			q.Stages = append(q.Stages, st)
		}
		switch {
		case p.tok.Tok == PIPE:
			p.next()
			continue
		case p.tok.Tok == EOF:
			return
		case sub && p.tok.Tok == RPAREN && p.depth == base:
			return
		}
		want := "\"|\" or end of query"
		if sub {
			want = "\"|\" or \")\""
		}
		p.error(p.tok.Pos, "expected %s after stage, found %s", want, p.describe())
		if !sub && p.tok.Tok == RPAREN && p.depth == base {
			p.next() // a stray ")"
		}
		p.sync(base, sub)
		switch {
		case p.tok.Tok == PIPE:
			p.next()
		case p.tok.Tok == EOF:
			return
		case sub && p.tok.Tok == RPAREN && p.depth == base:
			return
		}
	}
}

// sync skips to the "|" that starts the next stage at depth base, to the ")"
// that closes the sub-query, or to the end of the input.
func (p *parser) sync(base int, sub bool) {
	for {
		switch {
		case p.tok.Tok == EOF:
			return
		case p.depth == base && p.tok.Tok == PIPE:
			return
		case p.depth == base && p.tok.Tok == RPAREN:
			if sub {
				return
			}
		case p.depth < base:
			return
		case p.tok.Tok == PIPE && p.depth > base && isStageWord(p.peek()):
			// An unclosed "(" in the broken stage: resume at "| stage".
			p.depth = base
			return
		}
		p.next()
	}
}

// stageWords are the words that open a stage.
var stageWords = map[string]bool{
	"config": true, "dataset": true, "preset": true, "cold_dataset": true, "datamodel": true,
	"filter": true, "fields": true, "alter": true, "sort": true, "limit": true, "dedup": true,
	"comp": true, "join": true, "union": true,
}

// isStageWord reports whether it is an unquoted stage keyword.
func isStageWord(it Item) bool {
	if it.Tok != IDENT || it.Quoted {
		return false
	}
	w := strings.ToLower(it.Lit)
	return stageWords[w] || unsupportedStages[w]
}

// parseStageSafe parses one stage; after a syntax error it skips the rest
// of the stage and returns nil.
func (p *parser) parseStageSafe(base int, sub bool) (st Stage) {
	nest := p.nest
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stageError); !ok {
				panic(r)
			}
			st = nil
			p.nest = nest
			p.sync(base, sub)
		}
	}()
	return p.parseStage(base, sub)
}

func (p *parser) parseStage(base int, sub bool) Stage {
	tok := p.tok
	if tok.Tok != IDENT || tok.Quoted {
		if tok.Tok == PIPE || tok.Tok == EOF || tok.Tok == RPAREN {
			p.fail(tok.Pos, "expected stage, found %s", p.describe())
		}
		p.fail(tok.Pos, "expected stage name, found %s", p.describe())
	}
	kw := strings.ToLower(tok.Lit)
	switch kw {
	case "config":
		return p.parseConfig()
	case "dataset", "preset", "cold_dataset", "datamodel":
		return p.parseDataset(kw)
	case "filter":
		p.next()
		return &FilterStage{At: tok.Pos, Cond: p.parseExpr()}
	case "fields":
		return p.parseFields()
	case "alter":
		return p.parseAlter()
	case "sort":
		return p.parseSort()
	case "limit":
		return p.parseLimit()
	case "dedup":
		return p.parseDedup()
	case "comp":
		return p.parseComp()
	case "join":
		return p.parseJoin()
	case "union":
		return p.parseUnion()
	}
	if unsupportedStages[kw] {
		return p.parseUnsupported(kw, base)
	}
	p.fail(tok.Pos, "unknown stage %q", tok.Lit)
	return nil
}

// parseUnsupported keeps the raw text of a stage the engine cannot run.
func (p *parser) parseUnsupported(kw string, base int) Stage {
	start := p.tok.Pos
	end := p.tok.End
	p.next()
	for p.tok.Tok != EOF && !(p.depth == base && (p.tok.Tok == PIPE || p.tok.Tok == RPAREN)) {
		end = p.tok.End
		p.next()
	}
	return &UnsupportedStage{At: start, Name: kw, Text: p.src[start.Offset:end]}
}

// parseConfig parses `config setting...` with the settings
// case_sensitive = BOOL, timeframe = DURATION and
// timeframe between STRING and STRING, in any order.
func (p *parser) parseConfig() Stage {
	st := &ConfigStage{At: p.tok.Pos}
	p.next()
	n := 0
	for p.tok.Tok == IDENT && !p.tok.Quoted {
		name := strings.ToLower(p.tok.Lit)
		at := p.tok.Pos
		switch name {
		case "case_sensitive":
			p.next()
			p.expect(EQ, "after case_sensitive")
			v := p.parseBoolWord("case_sensitive")
			st.CaseSensitive = &v
		case "timeframe":
			p.next()
			tf := &Timeframe{At: at}
			if p.isKeyword("between") {
				p.next()
				tf.From = p.parseStringValue("after between")
				p.expectKeyword("and", "in timeframe between")
				tf.To = p.parseStringValue("after and")
			} else {
				p.expect(EQ, "or \"between\" after timeframe")
				if p.tok.Tok != DURATION {
					p.fail(p.tok.Pos, "expected time literal such as 7d, 24h or 30m, found %s", p.describe())
				}
				tf.Relative = p.tok.Lit
				p.next()
			}
			st.Timeframe = tf
		default:
			p.fail(at, "unknown config setting %q (supported: case_sensitive, timeframe)", p.tok.Lit)
		}
		n++
	}
	if n == 0 {
		p.fail(p.tok.Pos, "expected config setting (case_sensitive or timeframe), found %s", p.describe())
	}
	return st
}

func (p *parser) parseBoolWord(context string) bool {
	if p.tok.Tok == IDENT {
		switch strings.ToLower(p.tok.Lit) {
		case "true":
			p.next()
			return true
		case "false":
			p.next()
			return false
		}
	}
	p.fail(p.tok.Pos, "expected true or false for %s, found %s", context, p.describe())
	return false
}

func (p *parser) parseStringValue(context string) string {
	if p.tok.Tok != STRING && p.tok.Tok != TSTRING {
		p.fail(p.tok.Pos, "expected string %s, found %s", context, p.describe())
	}
	v := p.tok.Lit
	p.next()
	return v
}

// parseDataset parses `dataset = name`, `preset = name`,
// `cold_dataset = name` and `datamodel [dataset = name]`.
func (p *parser) parseDataset(kw string) Stage {
	st := &DatasetStage{At: p.tok.Pos, Kind: kw, Preset: kw == "preset"}
	p.next()
	if kw == "datamodel" {
		if !p.isKeyword("dataset") {
			return st
		}
		p.next()
	}
	p.expect(EQ, "after "+kw)
	st.Name = p.parseName(true, "dataset name")
	return st
}

// parseName parses a field or dataset name. With wild set, "*" may appear
// in it (threat_*, *_path, xdm.asset.*); its parts must then be written
// without spaces between them.
func (p *parser) parseName(wild bool, what string) string {
	first := p.tok
	switch {
	case first.Tok == IDENT:
	case wild && first.Tok == STAR:
	default:
		p.fail(first.Pos, "expected %s, found %s", what, p.describe())
	}
	p.next()
	if first.Quoted || !wild {
		return first.Lit
	}
	var b strings.Builder
	b.WriteString(p.src[first.Pos.Offset:first.End])
	for p.adjacent() {
		switch p.tok.Tok {
		case IDENT:
			if p.tok.Quoted {
				return b.String()
			}
		case STAR, DOT, INT, FLOAT, DURATION:
		default:
			return b.String()
		}
		b.WriteString(p.src[p.tok.Pos.Offset:p.tok.End])
		p.next()
	}
	return b.String()
}

// parseFields parses `fields [-] name [as alias], ...`.
func (p *parser) parseFields() Stage {
	st := &FieldsStage{At: p.tok.Pos}
	p.next()
	if p.tok.Tok == MINUS {
		st.Exclude = true
		p.next()
	}
	for {
		it := FieldItem{At: p.tok.Pos}
		it.Name = p.parseName(true, "field name")
		if p.isKeyword("as") {
			p.next()
			it.Alias = p.parseName(false, "alias after as")
		} else if p.tok.Tok == EQ {
			p.fail(p.tok.Pos, "fields cannot assign with =; rename with \"as\" (fields %s as new_name) or use alter", it.Name)
		}
		st.Items = append(st.Items, it)
		if p.tok.Tok != COMMA {
			return st
		}
		p.next()
	}
}

// parseAlter parses `alter name = expr, ...`.
func (p *parser) parseAlter() Stage {
	st := &AlterStage{At: p.tok.Pos}
	p.next()
	for {
		a := Assignment{At: p.tok.Pos}
		a.Name = p.parseName(false, "field name")
		p.expect(EQ, "after field name in alter")
		a.Value = p.parseExpr()
		st.Assignments = append(st.Assignments, a)
		if p.tok.Tok != COMMA {
			return st
		}
		p.next()
	}
}

// parseDirection reads an optional asc/desc before a field name. A lone
// asc or desc (followed by "," or the end of the stage) is a field name.
func (p *parser) parseDirection() (desc, ok bool) {
	if !p.isKeyword("asc") && !p.isKeyword("desc") {
		return false, false
	}
	if next := p.peek(); next.Tok != IDENT && next.Tok != STAR {
		return false, false
	}
	desc = p.isKeyword("desc")
	p.next()
	return desc, true
}

// parseSort parses `sort [asc|desc] name, ...`.
func (p *parser) parseSort() Stage {
	st := &SortStage{At: p.tok.Pos}
	p.next()
	for {
		k := SortKey{At: p.tok.Pos}
		k.Desc, _ = p.parseDirection()
		k.Field = p.parseName(false, "sort field")
		st.Keys = append(st.Keys, k)
		if p.tok.Tok != COMMA {
			return st
		}
		p.next()
	}
}

// parseLimit parses `limit N`.
func (p *parser) parseLimit() Stage {
	st := &LimitStage{At: p.tok.Pos}
	p.next()
	if p.tok.Tok != INT {
		p.fail(p.tok.Pos, "expected row count after limit, found %s", p.describe())
	}
	n := p.parseNumber().(*NumberLit)
	st.Count = n.Int
	return st
}

// parseDedup parses `dedup a, b [by asc|desc f]`.
func (p *parser) parseDedup() Stage {
	st := &DedupStage{At: p.tok.Pos}
	p.next()
	for {
		st.Fields = append(st.Fields, p.parseName(false, "dedup field"))
		if p.tok.Tok != COMMA {
			break
		}
		p.next()
	}
	if p.isKeyword("by") {
		p.next()
		st.ByDesc, _ = p.parseDirection()
		st.By = p.parseName(false, "field after by")
	}
	return st
}

// parseComp parses `comp fn(args) [as a], ... [by g, ...] [addrawdata = true as x]`.
func (p *parser) parseComp() Stage {
	st := &CompStage{At: p.tok.Pos}
	p.next()
	for {
		a := Aggregate{At: p.tok.Pos}
		if p.tok.Tok != IDENT {
			p.fail(p.tok.Pos, "expected aggregate function such as count(), found %s", p.describe())
		}
		a.Func = strings.ToLower(p.tok.Lit)
		p.next()
		if p.tok.Tok != LPAREN {
			p.fail(p.tok.Pos, "expected \"(\" after aggregate %s, found %s", a.Func, p.describe())
		}
		a.Args = p.parseArgs()
		if p.isKeyword("as") {
			p.next()
			a.Alias = p.parseName(false, "alias after as")
		}
		st.Aggregates = append(st.Aggregates, a)
		if p.tok.Tok != COMMA {
			break
		}
		p.next()
	}
	if p.isKeyword("by") {
		p.next()
		for {
			st.By = append(st.By, p.parseName(false, "group field after by"))
			if p.tok.Tok != COMMA {
				break
			}
			p.next()
		}
	}
	if p.isKeyword("addrawdata") {
		p.next()
		p.expect(EQ, "after addrawdata")
		st.AddRawData = p.parseBoolWord("addrawdata")
		if p.isKeyword("as") {
			p.next()
			name := p.parseName(false, "name after as")
			if st.AddRawData {
				st.RawDataAs = name
			}
		}
	}
	return st
}

// parseJoin parses `join [type = T] [conflict_strategy = S] (sub) as alias cond`.
func (p *parser) parseJoin() Stage {
	st := &JoinStage{At: p.tok.Pos, Type: "inner", ConflictStrategy: "right"}
	p.next()
	for p.tok.Tok == IDENT && !p.tok.Quoted {
		param := strings.ToLower(p.tok.Lit)
		at := p.tok.Pos
		var allowed []string
		switch param {
		case "type":
			allowed = []string{"inner", "left", "right"}
		case "conflict_strategy":
			allowed = []string{"right", "left", "both"}
		default:
			p.fail(at, "unknown join parameter %q (supported: type, conflict_strategy)", p.tok.Lit)
		}
		p.next()
		p.expect(EQ, "after "+param)
		v := strings.ToLower(p.tok.Lit)
		if p.tok.Tok != IDENT || !contains(allowed, v) {
			p.fail(p.tok.Pos, "expected %s for join %s, found %s", strings.Join(allowed, ", "), param, p.describe())
		}
		p.next()
		if param == "type" {
			st.Type = v
		} else {
			st.ConflictStrategy = v
		}
	}
	st.Sub = p.parseSubquery("join")
	p.expectKeyword("as", "after join sub-query")
	st.Alias = p.parseName(false, "join alias")
	st.Cond = p.parseExpr()
	return st
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseSubquery parses "(" query ")".
func (p *parser) parseSubquery(stage string) *Query {
	if p.tok.Tok != LPAREN {
		p.fail(p.tok.Pos, "expected \"(\" and a sub-query in %s, found %s", stage, p.describe())
	}
	p.enter()
	defer p.leave()
	p.next()
	q := &Query{}
	p.parseStages(q, true)
	p.expect(RPAREN, "to close the "+stage+" sub-query")
	return q
}

// parseUnion parses `union name` or `union (sub)`.
func (p *parser) parseUnion() Stage {
	st := &UnionStage{At: p.tok.Pos}
	p.next()
	if p.tok.Tok == LPAREN {
		st.Sub = p.parseSubquery("union")
		return st
	}
	st.Dataset = p.parseName(true, "dataset name or ( after union")
	return st
}

// ---- expressions ----

// parseExpr parses an expression: or > and > not > comparison > + - > * /
// > unary minus > -> > operand, from loosest to tightest.
func (p *parser) parseExpr() Expr {
	p.enter()
	defer p.leave()
	x := p.parseAnd()
	for p.isKeyword("or") {
		pos := p.tok.Pos
		p.next()
		x = &Binary{At: pos, Op: "or", X: x, Y: p.parseAnd()}
	}
	return x
}

func (p *parser) parseAnd() Expr {
	x := p.parseNot()
	for p.isKeyword("and") {
		pos := p.tok.Pos
		p.next()
		x = &Binary{At: pos, Op: "and", X: x, Y: p.parseNot()}
	}
	return x
}

func (p *parser) parseNot() Expr {
	if p.isKeyword("not") {
		pos := p.tok.Pos
		p.next()
		p.enter()
		defer p.leave()
		return &Unary{At: pos, Op: "not", X: p.parseNot()}
	}
	return p.parseCmp()
}

var cmpOps = map[Token]string{EQ: "=", NEQ: "!=", LT: "<", LE: "<=", GT: ">", GE: ">=", MATCH: "~=", NMATCH: "!~="}

func (p *parser) parseCmp() Expr {
	x := p.parseAdd()
	pos := p.tok.Pos
	var e Expr
	if op, ok := cmpOps[p.tok.Tok]; ok {
		p.next()
		e = &Binary{At: pos, Op: op, X: x, Y: p.parseAdd()}
	} else if p.tok.Tok == IDENT && !p.tok.Quoted {
		not := false
		if p.isKeyword("not") {
			not = true
			p.next()
		}
		switch w := strings.ToLower(p.tok.Lit); {
		case p.tok.Tok == IDENT && !p.tok.Quoted && (w == "contains" || w == "incidr" || w == "incidr6"):
			p.next()
			op := w
			if not {
				op = "not " + w
			}
			e = &Binary{At: pos, Op: op, X: x, Y: p.parseAdd()}
		case p.tok.Tok == IDENT && !p.tok.Quoted && w == "in":
			p.next()
			in := &InExpr{At: pos, X: x, Not: not}
			in.List, in.Sub = p.parseList()
			e = in
		case not:
			p.fail(p.tok.Pos, "expected contains, in, incidr or incidr6 after not, found %s", p.describe())
		default:
			return x
		}
	} else {
		return x
	}
	if _, ok := cmpOps[p.tok.Tok]; ok || p.isKeyword("contains") || p.isKeyword("in") || p.isKeyword("incidr") || p.isKeyword("incidr6") {
		p.fail(p.tok.Pos, "comparisons cannot be chained; combine them with and/or")
	}
	return e
}

// parseList parses the "(a, b, ...)" of in / not in, or a sub-query in
// parentheses.
func (p *parser) parseList() ([]Expr, *Query) {
	if p.tok.Tok != LPAREN {
		p.fail(p.tok.Pos, "expected \"(\" after in, found %s", p.describe())
	}
	p.next()
	if p.tok.Tok == RPAREN {
		p.fail(p.tok.Pos, "empty in list")
	}
	if p.tok.Tok == IDENT && !p.tok.Quoted && queryStarts[strings.ToLower(p.tok.Lit)] {
		// x in (dataset = d | ... | fields f): values from a sub-query.
		p.enter()
		defer p.leave()
		q := &Query{}
		p.parseStages(q, true)
		p.expect(RPAREN, "to close the in sub-query")
		return nil, q
	}
	var list []Expr
	for {
		list = append(list, p.parseExpr())
		if p.tok.Tok != COMMA {
			break
		}
		p.next()
	}
	p.expect(RPAREN, "to close the in list")
	return list, nil
}

func (p *parser) parseAdd() Expr {
	x := p.parseMul()
	for p.tok.Tok == PLUS || p.tok.Tok == MINUS {
		pos, op := p.tok.Pos, p.tok.Tok.String()
		p.next()
		x = &Binary{At: pos, Op: op, X: x, Y: p.parseMul()}
	}
	return x
}

func (p *parser) parseMul() Expr {
	x := p.parseUnary()
	for p.tok.Tok == STAR || p.tok.Tok == SLASH {
		pos, op := p.tok.Pos, p.tok.Tok.String()
		p.next()
		x = &Binary{At: pos, Op: op, X: x, Y: p.parseUnary()}
	}
	return x
}

func (p *parser) parseUnary() Expr {
	if p.tok.Tok == MINUS {
		pos := p.tok.Pos
		p.next()
		p.enter()
		defer p.leave()
		return &Unary{At: pos, Op: "-", X: p.parseUnary()}
	}
	x := p.parseOperand()
	for p.tok.Tok == ARROW {
		x = p.parseJSONPath(x)
	}
	return x
}

// reserved are the words that cannot be a bare field name in an expression.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "contains": true,
	"incidr": true, "incidr6": true,
}

func (p *parser) parseOperand() Expr {
	tok := p.tok
	switch tok.Tok {
	case IDENT:
		if !tok.Quoted {
			w := strings.ToLower(tok.Lit)
			switch {
			case w == "true" || w == "false":
				p.next()
				return &BoolLit{At: tok.Pos, Value: w == "true"}
			case w == "null":
				p.next()
				return &NullLit{At: tok.Pos}
			case strings.HasPrefix(w, "enum."):
				p.next()
				return &EnumLit{At: tok.Pos, Name: tok.Lit[len("enum."):]}
			case (w == "incidr" || w == "incidr6" || w == "contains") && p.peek().Tok == LPAREN:
				// incidr(ip, "cidr") is also a function.
			case reserved[w]:
				p.fail(tok.Pos, "expected operand, found %s", p.describe())
			}
		}
		p.next()
		if p.tok.Tok == LPAREN {
			return &Call{At: tok.Pos, Name: strings.ToLower(tok.Lit), Args: p.parseArgs()}
		}
		return &Ident{At: tok.Pos, Name: tok.Lit}
	case STRING, TSTRING:
		p.next()
		return &StringLit{At: tok.Pos, Value: tok.Lit, Triple: tok.Tok == TSTRING}
	case INT, FLOAT:
		return p.parseNumber()
	case DURATION:
		p.next()
		return &DurationLit{At: tok.Pos, Text: tok.Lit}
	case LPAREN:
		p.enter()
		defer p.leave()
		p.next()
		x := p.parseExpr()
		p.expect(RPAREN, "to close the parenthesis")
		return &Paren{At: tok.Pos, X: x}
	}
	p.fail(tok.Pos, "expected operand, found %s", p.describe())
	return nil
}

// parseNumber parses the current INT or FLOAT token.
func (p *parser) parseNumber() Expr {
	tok := p.tok
	n := &NumberLit{At: tok.Pos, Text: tok.Lit}
	var err error
	if tok.Tok == FLOAT {
		n.IsFloat = true
		n.Float, err = strconv.ParseFloat(tok.Lit, 64)
	} else if strings.HasPrefix(tok.Lit, "0x") || strings.HasPrefix(tok.Lit, "0X") {
		var u uint64
		u, err = strconv.ParseUint(tok.Lit[2:], 16, 64)
		n.Int = int64(u)
		if err == nil && u > 1<<63-1 {
			err = strconv.ErrRange
		}
	} else {
		n.Int, err = strconv.ParseInt(tok.Lit, 10, 64)
	}
	if err != nil {
		p.fail(tok.Pos, "number %s out of range", tok.Lit)
	}
	if !n.IsFloat {
		n.Float = float64(n.Int)
	}
	p.next()
	return n
}

// parseArgs parses "(" [expr {, expr}] ")".
func (p *parser) parseArgs() []Expr {
	p.expect(LPAREN, "")
	var args []Expr
	if p.tok.Tok == RPAREN {
		p.next()
		return args
	}
	for {
		args = append(args, p.parseExpr())
		if p.tok.Tok != COMMA {
			break
		}
		p.next()
	}
	p.expect(RPAREN, "to close the argument list")
	return args
}

// parseJSONPath parses "-> path" after x. The path is a.b, a[0].b,
// ["key.with.dots"], optionally ending in {} (json_extract) or [] (an
// array); its parts are written without spaces between them.
func (p *parser) parseJSONPath(x Expr) Expr {
	e := &JSONPath{At: p.tok.Pos, X: x}
	p.next()
	var b strings.Builder
	b.WriteString("$")
	first := true
loop:
	for first || p.adjacent() {
		switch p.tok.Tok {
		case IDENT:
			if p.tok.Quoted || !first {
				break loop
			}
			b.WriteString("." + p.tok.Lit)
			p.next()
		case DOT:
			if first {
				break loop
			}
			p.next()
			if p.tok.Tok != IDENT || p.tok.Quoted || !p.adjacent() {
				p.fail(p.tok.Pos, "expected JSON key after \".\", found %s", p.describe())
			}
			b.WriteString("." + p.tok.Lit)
			p.next()
		case LBRACK:
			p.next()
			switch p.tok.Tok {
			case RBRACK:
				p.next()
				e.ExtractArray = true
				first = false
				break loop
			case INT:
				n := p.parseNumber().(*NumberLit)
				fmt.Fprintf(&b, "[%d]", n.Int)
			case STRING:
				b.WriteString(`."` + p.tok.Lit + `"`)
				p.next()
			default:
				p.fail(p.tok.Pos, "expected index, \"key\" or ] in JSON path, found %s", p.describe())
			}
			p.expect(RBRACK, "in JSON path")
		case LBRACE:
			p.next()
			p.expect(RBRACE, "after { in JSON path")
			e.Array = true
			first = false
			break loop
		default:
			break loop
		}
		first = false
	}
	if first {
		p.fail(p.tok.Pos, "expected JSON path after ->, found %s", p.describe())
	}
	e.Path = b.String()
	return e
}

// queryStarts are the words that open a query when they begin a line.
var queryStarts = map[string]bool{
	"config": true, "dataset": true, "preset": true, "datamodel": true, "cold_dataset": true,
}

// SplitQueries splits text that holds several queries one after another,
// as query collections do, into the text of each query. A new query starts
// where config, dataset, preset, datamodel or cold_dataset is the first word
// of a line outside parentheses and the previous token is not "|"; a line
// made only of three or more "-" (a Markdown rule) also separates queries.
// Text with one query comes back whole; pieces that hold only comments and
// white space are dropped.
func SplitQueries(src string) []string {
	l := newLexer(src, nil)
	var out []string
	start, depth := 0, 0
	prev := Item{Tok: PIPE}
	lastLine := 0
	flush := func(end int) {
		if hasToken(src[start:end]) {
			out = append(out, src[start:end])
		}
		start = end
	}
	for {
		it := l.next()
		if it.Tok == EOF {
			break
		}
		firstOnLine := it.Pos.Line != lastLine
		lastLine = it.Pos.Line
		switch it.Tok {
		case LPAREN:
			depth++
		case RPAREN:
			if depth > 0 {
				depth--
			}
		case MINUS:
			if firstOnLine && depth == 0 && isRuleLine(src, it.Pos) {
				flush(it.Pos.Offset - (it.Pos.Col - 1))
				// Skip the rest of the rule line.
				for l.off < len(src) && src[l.off] != '\n' {
					l.off++
				}
				start = l.off
				prev = Item{Tok: PIPE}
				continue
			}
		case IDENT:
			if firstOnLine && depth == 0 && !it.Quoted && prev.Tok != PIPE &&
				queryStarts[strings.ToLower(it.Lit)] {
				flush(it.Pos.Offset - (it.Pos.Col - 1))
			}
		}
		prev = it
	}
	flush(len(src))
	return out
}

// isRuleLine reports whether the line at pos holds only "-" (three or more).
func isRuleLine(src string, pos Pos) bool {
	lineStart := pos.Offset - (pos.Col - 1)
	end := strings.IndexByte(src[lineStart:], '\n')
	if end < 0 {
		end = len(src) - lineStart
	}
	line := strings.TrimSpace(src[lineStart : lineStart+end])
	return len(line) >= 3 && strings.Trim(line, "-") == ""
}

// hasToken reports whether s holds anything besides white space and comments.
func hasToken(s string) bool {
	return newLexer(s, nil).next().Tok != EOF
}
