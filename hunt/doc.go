// Package hunt parses, lints, compiles and runs Cortex XQL queries against
// the xdr_data table built by package normalize, and loads hunt documents.
//
// It may import evtxhunt/normalize and evtxhunt/evtx, never report or cmd.
//
// # XQL front end
//
// Parse turns query text into a *Query (ast.go) in the manner of go/parser:
// every node has a position, syntax errors come back as an ErrorList sorted
// by position (one per line, at most ten) whose Format shows the query line
// and a caret, and the stages that parsed are returned even when others did
// not. Query.String prints the canonical form, which parses back to the same
// AST. Lint reports positioned mistakes that make a hunt miss on Windows
// data. SplitQueries cuts a collection of queries into single queries.
//
// Lexical rules. Spaces, tabs, newlines and no-break spaces separate tokens;
// "//" comments run to the end of the line and "/* */" comments may span
// lines, both only outside strings. Keywords (stage names, and, or, not, in,
// contains, incidr, incidr6, true, false, null, as, by, asc, desc, between)
// are case-insensitive and are not reserved as field names except where the
// grammar needs them; `backquoted` names are never keywords. A name is a
// letter or "_" followed by letters, digits and "_", with "." joining parts
// (alias.field, xdm.asset.id); "$name" is a dashboard parameter. ENUM.NAME
// is an enum literal (a bare upper-case NAME is an Ident the compiler
// resolves). Numbers are decimal integers, 0x hexadecimal integers and
// decimals; digits directly followed by letters are a time literal (7d, 24h,
// 30M), or a name when more name characters follow (90th_percentile).
//
// A "…" string is raw: no escape processing, "*" stays in the value for the
// compiler to read as a wildcard, and a backslash does not escape the quote
// ("C:\" is the text C:\). One exception, needed by tenant-validated public
// regexes such as "[\s\"]+clone": a \" whose following text (after spaces
// and comments) cannot follow a string operand is kept inside the string, as
// the two characters \". A string operand may be followed by the end of the
// query, ")", ",", "|", ";", a comparison operator, or and, or, not, in,
// contains, incidr, incidr6, as, by. A """…""" string processes the escapes
// \\ \" \n \t \r and keeps any other backslash with its character.
//
// Grammar (EBNF; keywords in quotes are case-insensitive):
//
//	Query       = Stage { "|" Stage } .
//	Stage       = Config | Source | Filter | Fields | Alter | Sort | Limit | Dedup
//	            | Comp | Join | Union | Unsupported .
//	Config      = "config" Setting { Setting } .
//	Setting     = "case_sensitive" "=" Bool
//	            | "timeframe" ( "=" duration | "between" string "and" string ) .
//	Source      = ( "dataset" | "preset" | "cold_dataset" ) "=" WildName
//	            | "datamodel" [ "dataset" "=" WildName ] .
//	Filter      = "filter" Expr .
//	Fields      = "fields" [ "-" ] FieldItem { "," FieldItem } .
//	FieldItem   = WildName [ "as" name ] .
//	Alter       = "alter" name "=" Expr { "," name "=" Expr } .
//	Sort        = "sort" SortKey { "," SortKey } .
//	SortKey     = [ "asc" | "desc" ] name .
//	Limit       = "limit" int .
//	Dedup       = "dedup" name { "," name } [ "by" [ "asc" | "desc" ] name ] .
//	Comp        = "comp" Aggregate { "," Aggregate } [ "by" name { "," name } ]
//	              [ "addrawdata" "=" Bool [ "as" name ] ] .
//	Aggregate   = name Args [ "as" name ] .
//	Join        = "join" { ( "type" "=" ( "inner" | "left" | "right" )
//	                     | "conflict_strategy" "=" ( "right" | "left" | "both" ) ) }
//	              "(" Query ")" "as" name Expr .
//	Union       = "union" ( WildName | "(" Query ")" ) .
//	Unsupported = ( "view" | "bin" | "windowcomp" | "arrayexpand" | "iploc"
//	              | "replacenull" | "top" | "target" | "tag" | "call"
//	              | "transaction" | "getrole" | "search" ) { token } .
//	WildName    = ( name | "*" ) { name | "*" | "." | int } .  // parts without spaces: threat_*, *_path
//	Bool        = "true" | "false" .
//
//	Expr        = AndExpr { "or" AndExpr } .
//	AndExpr     = NotExpr { "and" NotExpr } .
//	NotExpr     = "not" NotExpr | CmpExpr .
//	CmpExpr     = AddExpr [ CmpOp AddExpr
//	                      | [ "not" ] ( "contains" | "incidr" | "incidr6" ) AddExpr
//	                      | [ "not" ] "in" "(" ( Expr { "," Expr } | Query ) ")" ] .
//	CmpOp       = "=" | "!=" | "<" | "<=" | ">" | ">=" | "~=" | "!~=" .
//	AddExpr     = MulExpr { ( "+" | "-" ) MulExpr } .
//	MulExpr     = Unary { ( "*" | "/" ) Unary } .
//	Unary       = "-" Unary | Operand { "->" JSONPath } .
//	Operand     = name [ Args ] | "ENUM." name | string | int | float | duration
//	            | "true" | "false" | "null" | "(" Expr ")" .
//	Args        = "(" [ Expr { "," Expr } ] ")" .
//	JSONPath    = ( PathStep | "[" "]" | "{" "}" ) { PathStep } [ "[" "]" | "{" "}" ] .  // no spaces inside
//	PathStep    = name | "." name | "[" int "]" | "[" string "]" .
//
// Precedence, loosest first: or, and, not, comparisons (which do not
// chain), + -, * /, unary minus, ->. Function names are lower-cased.
// In an operand, incidr, incidr6 and contains followed by "(" are function
// calls. `x -> a.b` is json_extract_scalar(x, "$.a.b") (JSONPath.Path holds
// "$.a.b"; a ["quoted.key"] step becomes ."quoted.key"), `x -> a{}` is
// json_extract (Array) and `x -> a[]` an array (ExtractArray).
//
// AST conventions. A node's At is the position of its first token, except
// Binary, InExpr and JSONPath, which are positioned at their operator (the
// "=", "contains", "not", "in" or "->"). Names keep their spelling; Call
// names, Aggregate functions, stage kinds and join parameters are lower
// case; JoinStage.Type and ConflictStrategy default to "inner" and "right".
// A raw StringLit keeps a \" that the lexer kept (see above) as the two
// characters.
//
// Parse returns no error for the Unsupported stages: it keeps their text in
// an *UnsupportedStage and the compiler rejects them ("unsupported stage X
// at line:col"), except view, which it ignores with a note. Any other word
// in stage position is a syntax error ("unknown stage").
package hunt
