package hunt

import "strconv"

// Token is the kind of a lexical token of XQL.
type Token int

// The token kinds. Keywords (and, or, not, in, contains, filter, ...) are
// not tokens of their own: XQL keywords are case-insensitive and most of them
// are also valid field names, so the lexer returns IDENT and the parser
// decides from the context.
const (
	ILLEGAL  Token = iota // a character that starts no token; Lit holds it
	EOF                   // end of input
	IDENT                 // a name: field_name, a.b.c, `quoted name`
	INT                   // 42, 0x1f
	FLOAT                 // 1.5
	DURATION              // 7d, 30m, 24h: digits followed by letters
	STRING                // "raw text": no escape processing
	TSTRING               // """text""": escape processing

	PIPE   // |
	LPAREN // (
	RPAREN // )
	LBRACK // [
	RBRACK // ]
	LBRACE // {
	RBRACE // }
	COMMA  // ,
	DOT    // .
	EQ     // =
	NEQ    // !=
	LT     // <
	LE     // <=
	GT     // >
	GE     // >=
	MATCH  // ~=
	NMATCH // !~=
	ARROW  // ->
	PLUS   // +
	MINUS  // -
	STAR   // *
	SLASH  // /
)

var tokenNames = [...]string{
	ILLEGAL:  "ILLEGAL",
	EOF:      "end of query",
	IDENT:    "name",
	INT:      "integer",
	FLOAT:    "number",
	DURATION: "time literal",
	STRING:   "string",
	TSTRING:  "triple-quoted string",
	PIPE:     "|",
	LPAREN:   "(",
	RPAREN:   ")",
	LBRACK:   "[",
	RBRACK:   "]",
	LBRACE:   "{",
	RBRACE:   "}",
	COMMA:    ",",
	DOT:      ".",
	EQ:       "=",
	NEQ:      "!=",
	LT:       "<",
	LE:       "<=",
	GT:       ">",
	GE:       ">=",
	MATCH:    "~=",
	NMATCH:   "!~=",
	ARROW:    "->",
	PLUS:     "+",
	MINUS:    "-",
	STAR:     "*",
	SLASH:    "/",
}

// String returns the operator text of tok, or a short description of the
// token class ("name", "string", ...).
func (tok Token) String() string {
	if tok >= 0 && int(tok) < len(tokenNames) && tokenNames[tok] != "" {
		return tokenNames[tok]
	}
	return "token(" + strconv.Itoa(int(tok)) + ")"
}

// Item is one token with its position and text, as returned by Tokenize.
type Item struct {
	Pos Pos
	// End is the byte offset just after the token.
	End int
	Tok Token
	// Lit is the token text: the name for IDENT (without backquotes), the
	// unquoted value for STRING and TSTRING (escapes processed for TSTRING),
	// the source spelling for numbers, durations and ILLEGAL.
	Lit string
	// Quoted is set for a `backquoted` IDENT, which is never a keyword.
	Quoted bool
}
