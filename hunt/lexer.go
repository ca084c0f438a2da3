package hunt

import (
	"fmt"
	"strings"
)

// lexer turns query text into tokens in the manner of go/scanner: it skips
// white space and comments, keeps line and column positions, and reports
// malformed strings and comments through errh while still returning a token.
type lexer struct {
	src       string
	off       int // offset of the next unread byte
	line      int // line of src[off]
	lineStart int // offset of the first byte of that line
	errh      func(pos Pos, msg string)
}

func newLexer(src string, errh func(Pos, string)) *lexer {
	return &lexer{src: src, line: 1, errh: errh}
}

// pos returns the position of byte offset off, which must not be before
// the start of the current line.
func (l *lexer) pos(off int) Pos {
	return Pos{Offset: off, Line: l.line, Col: off - l.lineStart + 1}
}

func (l *lexer) error(p Pos, format string, args ...any) {
	if l.errh != nil {
		l.errh(p, fmt.Sprintf(format, args...))
	}
}

// advance moves past n bytes, counting newlines.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.lineStart = l.off + 1
		}
		l.off++
	}
}

func (l *lexer) peek(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// skip passes white space and comments.
func (l *lexer) skip() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == 0xC2 && l.peek(1) == 0xA0: // no-break space, pasted from documents
			l.advance(2)
		case c == '/' && l.peek(1) == '/':
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.advance(end)
		case c == '/' && l.peek(1) == '*':
			start := l.pos(l.off)
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				l.error(start, "comment not terminated")
				l.advance(len(l.src) - l.off)
				return
			}
			l.advance(end + 4)
		default:
			return
		}
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// next returns the next token.
func (l *lexer) next() Item {
	l.skip()
	start := l.off
	p := l.pos(start)
	if l.off >= len(l.src) {
		return Item{Pos: p, End: start, Tok: EOF}
	}
	it := Item{Pos: p}
	c := l.src[l.off]
	switch {
	case isLetter(c) || c == '$' && isLetter(l.peek(1)):
		// $name is a dashboard or widget parameter.
		l.off++
		l.scanIdent()
		it.Tok, it.Lit = IDENT, l.src[start:l.off]
	case isDigit(c):
		it.Tok = l.scanNumber()
		it.Lit = l.src[start:l.off]
	case c == '"':
		it.Tok, it.Lit = l.scanString(p)
	case c == '`':
		end := strings.IndexByte(l.src[l.off+1:], '`')
		if end < 0 {
			l.error(p, "quoted name not terminated")
			it.Lit = l.src[l.off+1:]
			l.advance(len(l.src) - l.off)
		} else {
			it.Lit = l.src[l.off+1 : l.off+1+end]
			l.advance(end + 2)
			if it.Lit == "" {
				l.error(p, "empty quoted name")
			}
		}
		it.Tok, it.Quoted = IDENT, true
	default:
		it.Tok = l.scanOperator()
		it.Lit = l.src[start:l.off]
	}
	it.End = l.off
	return it
}

// scanIdent reads name characters, with dots joining name parts (a.b.c).
func (l *lexer) scanIdent() {
	for {
		for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off])) {
			l.off++
		}
		if l.peek(0) == '.' && (isLetter(l.peek(1)) || isDigit(l.peek(1))) {
			l.off++
			continue
		}
		return
	}
}

// scanNumber reads an integer, a hexadecimal integer, a decimal, a time
// literal (digits directly followed by letters: 7d, 30M), or a name that
// starts with digits (90th_percentile).
func (l *lexer) scanNumber() Token {
	if l.peek(0) == '0' && (l.peek(1) == 'x' || l.peek(1) == 'X') && isHex(l.peek(2)) {
		l.off += 2
		for l.off < len(l.src) && isHex(l.src[l.off]) {
			l.off++
		}
		return INT
	}
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.off++
	}
	if l.peek(0) == '.' && isDigit(l.peek(1)) {
		l.off++
		for l.off < len(l.src) && isDigit(l.src[l.off]) {
			l.off++
		}
		return FLOAT
	}
	if isLetter(l.peek(0)) {
		// 7d, 30M; a longer word such as 90th_percentile is a name.
		start := l.off
		for l.off < len(l.src) && isLetter(l.src[l.off]) && l.src[l.off] != '_' {
			l.off++
		}
		if l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off])) ||
			l.peek(0) == '.' && (isLetter(l.peek(1)) || isDigit(l.peek(1))) {
			l.off = start
			l.scanIdent()
			return IDENT
		}
		return DURATION
	}
	return INT
}

// scanString reads "raw" or """escaped""" text. A raw string ends at the
// next double quote, even right after a backslash (xql.md §3.1).
func (l *lexer) scanString(p Pos) (Token, string) {
	if strings.HasPrefix(l.src[l.off:], `"""`) {
		i := l.off + 3
		for i < len(l.src) {
			if l.src[i] == '\\' {
				i += 2
				continue
			}
			if strings.HasPrefix(l.src[i:], `"""`) {
				body := l.src[l.off+3 : i]
				l.advance(i + 3 - l.off)
				return TSTRING, unescapeTriple(body)
			}
			i++
		}
		l.error(p, "string not terminated")
		body := l.src[l.off+3:]
		l.advance(len(l.src) - l.off)
		return TSTRING, unescapeTriple(body)
	}
	i := l.off + 1
	for {
		end := strings.IndexByte(l.src[i:], '"')
		if end < 0 {
			l.error(p, "string not terminated")
			body := l.src[l.off+1:]
			l.advance(len(l.src) - l.off)
			return STRING, body
		}
		i += end
		if l.src[i-1] == '\\' && !endsOperand(l.src[i+1:]) {
			i++ // \" inside the string, as public regexes write it
			continue
		}
		body := l.src[l.off+1 : i]
		l.advance(i + 1 - l.off)
		return STRING, body
	}
}

// endsOperand reports whether rest, the text after a \" in a "…" string,
// starts (after white space and comments) with something that can follow a
// string operand: the end of the query, ")", ",", "|", ";", a comparison
// operator, or one of the words and, or, not, in, contains, incidr,
// incidr6, as, by. Then the quote ends the string, as the XQL documentation
// says ("\test\" is the text \test\). Otherwise the \" is kept inside the
// string: tenant-validated public queries write regexes such as
// "[\s\"]+clone" and "changes=\"(.*)\"".
func endsOperand(rest string) bool {
	for {
		rest = strings.TrimLeft(rest, " \t\r\n\f\v")
		switch {
		case strings.HasPrefix(rest, "\u00a0"):
			rest = rest[len("\u00a0"):]
			continue
		case strings.HasPrefix(rest, "//"):
			nl := strings.IndexByte(rest, '\n')
			if nl < 0 {
				return true
			}
			rest = rest[nl:]
			continue
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return true
			}
			rest = rest[2+end+2:]
			continue
		}
		break
	}
	if rest == "" {
		return true
	}
	switch rest[0] {
	case ')', ',', '|', ';', '=', '<', '>':
		return true
	case '!', '~':
		return strings.HasPrefix(rest, "!=") || strings.HasPrefix(rest, "~=") || strings.HasPrefix(rest, "!~=")
	}
	n := 0
	for n < len(rest) && (isLetter(rest[n]) || isDigit(rest[n])) {
		n++
	}
	switch strings.ToLower(rest[:n]) {
	case "and", "or", "not", "in", "contains", "incidr", "incidr6", "as", "by":
		return true
	}
	return false
}

// unescapeTriple processes the escapes of a """…""" string: \\ \" \n \t \r.
// Any other backslash is kept with the character after it, so regular
// expressions such as """\d+""" keep their meaning.
func unescapeTriple(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case '"':
			b.WriteByte('"')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// escapeTriple is the inverse of unescapeTriple.
func escapeTriple(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// scanOperator reads punctuation; an unknown byte gives ILLEGAL.
func (l *lexer) scanOperator() Token {
	two := ""
	if l.off+2 <= len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	if strings.HasPrefix(l.src[l.off:], "!~=") {
		l.off += 3
		return NMATCH
	}
	switch two {
	case "!=":
		l.off += 2
		return NEQ
	case "<=":
		l.off += 2
		return LE
	case ">=":
		l.off += 2
		return GE
	case "~=":
		l.off += 2
		return MATCH
	case "->":
		l.off += 2
		return ARROW
	}
	c := l.src[l.off]
	l.off++
	switch c {
	case '|':
		return PIPE
	case '(':
		return LPAREN
	case ')':
		return RPAREN
	case '[':
		return LBRACK
	case ']':
		return RBRACK
	case '{':
		return LBRACE
	case '}':
		return RBRACE
	case ',':
		return COMMA
	case '.':
		return DOT
	case '=':
		return EQ
	case '<':
		return LT
	case '>':
		return GT
	case '+':
		return PLUS
	case '-':
		return MINUS
	case '*':
		return STAR
	case '/':
		return SLASH
	}
	// Keep a whole UTF-8 sequence in one ILLEGAL token.
	for l.off < len(l.src) && l.src[l.off]&0xC0 == 0x80 {
		l.off++
	}
	return ILLEGAL
}

// Tokenize returns the tokens of src up to and including EOF, for tooling
// and tests. Comments are skipped; malformed strings and comments are
// reported in the error list.
func Tokenize(src string) ([]Item, error) {
	var errs ErrorList
	l := newLexer(src, func(p Pos, msg string) { errs.Add(p, msg) })
	var items []Item
	for {
		it := l.next()
		items = append(items, it)
		if it.Tok == EOF {
			break
		}
	}
	errs.Sort()
	return items, errs.Err()
}
