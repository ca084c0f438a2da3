package hunt

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// foldRows hold non-ASCII text where SQLite's ASCII-only folding and Go's
// strings.ToLower (the reference of case-insensitive XQL comparison in
// evtxhunt) differ. U+212A KELVIN SIGN lower-cases to "k" and U+0130 LATIN
// CAPITAL LETTER I WITH DOT ABOVE to "i" in Go (unicode.ToLower); Ç to ç.
var foldRows = []beTestRow{
	{ // r1
		"_time": int64(1000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h1",
		"action_process_image_name":         "\u212aILL.exe",
		"action_process_image_command_line": "run \u0130NVOKE now",
	},
	{ // r2
		"_time": int64(2000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h2",
		"action_process_image_name":         "kill.exe",
		"action_process_image_command_line": "invoke",
	},
	{ // r3
		"_time": int64(3000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h3",
		"action_process_image_name":         "ÇMD.EXE",
		"action_process_image_command_line": "a\u212ab \u017fys",
	},
	{ // r4: nulls
		"_time": int64(4000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h4",
	},
	{ // r5
		"_time": int64(5000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h5",
		"action_process_image_name": "KILL.EXE",
	},
}

// foldCases are written by hand from Go's case mapping (see foldRows).
// sql, when set, must occur in the compiled SQL: it shows which path (native
// or xql_match) the comparison took, so both are covered.
var foldCases = []struct {
	name, query, want, sql string
}{
	{"eq kelvin folds to k", `filter action_process_image_name = "kill.exe"`, "r1 r2 r5", "COLLATE NOCASE"},
	{"ne kelvin drops null", `filter action_process_image_name != "kill.exe"`, "r3", "COLLATE NOCASE"},
	{"eq upper literal", `filter action_process_image_name = "KILL.EXE"`, "r1 r2 r5", "COLLATE NOCASE"},
	{"eq ascii literal vs non-ascii upper", `filter action_process_image_name = "Çmd.exe"`, "r3", "xql_match"},
	{"eq kelvin literal", "filter action_process_image_name = \"\u212aill.exe\"", "r1 r2 r5", "xql_match"},
	{"eq near miss", `filter action_process_image_name = "ill.exe"`, "", "COLLATE NOCASE"},
	{"in kelvin", `filter action_process_image_name in ("kill.exe", "x")`, "r1 r2 r5", "COLLATE NOCASE IN"},
	{"not in kelvin drops null", `filter action_process_image_name not in ("kill.exe", "x")`, "r3", "COLLATE NOCASE IN"},
	{"in mixed with glob and non-ascii", `filter action_process_image_name in ("kill.exe", "çmd*")`, "r1 r2 r3 r5", "COLLATE NOCASE"},
	{"in mixed with null", `filter action_process_image_name in (null, "kill.exe", "y")`, "r1 r2 r4 r5", "COLLATE NOCASE IN"},
	{"contains dotted I folds to i", `filter action_process_image_command_line contains "invoke"`, "r1 r2", " LIKE "},
	{"contains kelvin inside", `filter action_process_image_command_line contains "AKB"`, "r3", " LIKE "},
	{"not contains drops null", `filter action_process_image_command_line not contains "invoke"`, "r3", " LIKE "},
	{"contains empty is non-null", `filter action_process_image_command_line contains ""`, "r1 r2 r3", " LIKE "},
	{"cs eq", `config case_sensitive = true | filter action_process_image_name = "kill.exe"`, "r2", ""},
	{"cs ne", `config case_sensitive = true | filter action_process_image_name != "kill.exe"`, "r1 r3 r5", ""},
	{"cs in", `config case_sensitive = true | filter action_process_image_name in ("KILL.EXE", "kill.exe")`, "r2 r5", " IN ("},
	{"cs not in", `config case_sensitive = true | filter action_process_image_name not in ("KILL.EXE", "kill.exe")`, "r1 r3", " IN ("},
	{"cs contains", `config case_sensitive = true | filter action_process_image_command_line contains "NVOKE"`, "r1", "instr("},
	{"cs contains non-ascii", "config case_sensitive = true | filter action_process_image_command_line contains \"\u212a\"", "r3", "instr("},
	{"cs not contains", `config case_sensitive = true | filter action_process_image_command_line not contains "nvoke"`, "r1 r3", "instr("},
	// k and i spelt out (foldVariants), or the fallback past maxFoldLetters
	{"eq dotted I spelt out", `filter action_process_image_command_line = "RUN invoke NOW"`, "r1", "COLLATE NOCASE IN"},
	{"eq dotted I not in other places", `filter action_process_image_command_line = "RUN invoke NOW "`, "", "COLLATE NOCASE IN"},
	{"ne many k and i", `filter action_process_image_name != "kikik.exe"`, "r1 r2 r3 r5", "xql_match"},
	{"in many k and i with spelt out", `filter action_process_image_name in ("kikik.exe", "kill.exe")`, "r1 r2 r5", "xql_match"},
	{"eq many k and i matches kelvin", `filter action_process_image_name in ("kill.exe.kik", "x") or action_process_image_name = "KILL.EXE"`, "r1 r2 r5", "COLLATE NOCASE IN"},
	// literals without k or i need no fallback (pure SQLite, indexable)
	{"eq without k or i", `filter action_process_image_name = "çmd.exe"`, "r3", "xql_match"},
	{"contains without k or i", `filter action_process_image_name contains "MD.exe"`, "r3", " LIKE "},
	{"in without k or i", `filter action_process_image_name in ("md.exe", "ÇMD.EXE", "x")`, "r3", "COLLATE NOCASE"},
	// or of ands with an implied in (impliedIn)
	{"or of ands", `filter (action_process_image_name = "kill.exe" and agent_hostname = "h1") or (action_process_image_name in ("çmd.exe", "x") and agent_hostname = "h3")`, "r1 r3", ""}, // çmd.exe: no implied in (not native)
	{"or of ands, second field", `filter (action_process_image_name = "kill.exe" and agent_hostname = "h1") or (agent_hostname = "h2" and action_process_image_name = "KILL.exe")`, "r1 r2", `) AND (("action_process_image_name" COLLATE NOCASE IN`},
	{"or of ands under not", `filter not ((action_process_image_name = "kill.exe" and agent_hostname = "h1") or (action_process_image_name = "x" and agent_hostname = "h3"))`, "r2 r3 r4 r5", ""},
	{"or with a branch without the field", `filter (action_process_image_name = "kill.exe" and agent_hostname = "h1") or agent_hostname = "h4"`, "r1 r4", ""},
	// regular expressions: (?i) in Go matches K (U+212A) for k and ſ (U+017F) for s
	{"regex prefilter", `filter action_process_image_command_line ~= "nvoke"`, "r1 r2", "CASE WHEN"},
	{"regex kelvin", `filter action_process_image_command_line ~= "akb"`, "r3", "CASE WHEN"},
	{"regex long s", `filter action_process_image_command_line ~= "sys$"`, "r3", "CASE WHEN"},
	{"regex long s case-sensitive", `config case_sensitive = true | filter action_process_image_command_line ~= "sys"`, "", "CASE WHEN"},
	{"regex inline fold case-sensitive", `config case_sensitive = true | filter action_process_image_command_line ~= "(?i)SYS"`, "r3", "CASE WHEN"},
	{"regex two literals", `filter action_process_image_command_line ~= "^run\s+\S?nvoke"`, "r1", "CASE WHEN"},
	{"regex negated drops null", `filter action_process_image_command_line !~= "nvoke"`, "r3", "CASE WHEN"},
	{"regex in or under not", `filter not (action_process_image_command_line ~= "nvoke" or agent_hostname = "h9")`, "r3", "CASE WHEN"},
	{"regex alternation prefilter", `filter action_process_image_command_line ~= "(zzz|nvoke)"`, "r1 r2", "CASE WHEN"},
	{"regex alternation kelvin", `filter action_process_image_command_line ~= "^(zzz|akb)"`, "r3", "CASE WHEN"},
	{"regex alternation long s", `filter action_process_image_command_line ~= "(zzz|ys)$"`, "r3", "CASE WHEN"},
	{"regex without literal", `filter action_process_image_command_line ~= "[a-z]"`, "r1 r2 r3", "xql_regex"},
	{"alter value stays on xql_match", `alter n = concat(action_process_image_name, "") | filter n = "kill.exe"`, "r1 r2 r5", "xql_match"},
}

func TestSemanticsFolding(t *testing.T) {
	db, _ := beNewTestDB(t, foldRows)
	for _, tc := range foldCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.query, err)
			}
			res, err := Run(context.Background(), db, q, RunOptions{})
			if err != nil {
				t.Fatalf("Run(%q): %v", tc.query, err)
			}
			if got := beRowLabels(t, res); got != tc.want {
				t.Errorf("%s\n got rows [%s]\nwant rows [%s]\nSQL: %.600s", tc.query, got, tc.want, res.SQL)
			}
			if !strings.Contains(res.SQL, tc.sql) {
				t.Errorf("%s: SQL lacks %q:\n%.800s", tc.query, tc.sql, res.SQL)
			}
		})
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		fold    bool
		want    string // "text/f" for a case-insensitive literal, space-separated
	}{
		{`\bnet1?(\.exe)?\s+use\s`, true, "net/f use/f"},
		{`\bnet1?(\.exe)?\s+use\s`, false, "net use"},
		{`davclnt\.dll,\s*DavSetCookie`, false, "davclnt.dll, DavSetCookie"},
		{`(\\AppData\\Temp\\|\\DavWWWRoot\\)[^,]*\.dll\S*\s*,`, false, `AppData\Temp\|DavWWWRoot\ .dll`},
		{`a|bc`, false, ""},
		{`ab|cd`, false, "ab|cd"},
		{`x(ab|c)y`, false, ""},
		{`\\(AppData\\Local\\Temp\\(Temp\d+_[^\\]+\.zip|7z[OE][0-9A-Fa-f]+)|Downloads)\\.*\.(bat|cmd)\b`, true, "appdata\\local\\temp\\/f|downloads/f bat/f|cmd/f"},
		{`(abc|xyz(qq|rrr))st`, false, "abc|xyz st"},
		{`(abc|(qq|rrr)z)st`, false, "abc|qq|rrr st"},
		{`(abc)+x(de)*(fg){2}`, false, "abc fg"},
		{`(?i)ab(?-i)CD`, false, "ab/f CD"},
		{`x`, false, ""},
		{`caf\x{e9}`, false, ""},
		{`[`, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			var got []string
			for _, g := range requiredLiterals(tc.pattern, tc.fold) {
				var alts []string
				for _, l := range g {
					s := l.text
					if l.fold {
						s = strings.ToLower(s) + "/f"
					}
					alts = append(alts, s)
				}
				got = append(got, strings.Join(alts, "|"))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("requiredLiterals(%q, %v) = %q, want %q", tc.pattern, tc.fold, g, tc.want)
			}
		})
	}
}

func TestConjunctOrder(t *testing.T) {
	q, err := Parse(`filter action_process_image_command_line ~= "nvoke" and (agent_hostname = "h1" or action_process_image_command_line ~= "x") and action_process_image_name = "kill.exe"`)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := beNewTestDB(t, foldRows)
	res, err := Run(context.Background(), db, q, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := beRowLabels(t, res); got != "r1" {
		t.Errorf("rows [%s], want [r1]", got)
	}
	name := strings.Index(res.SQL, "COLLATE NOCASE")
	regex := strings.Index(res.SQL, "xql_regex")
	if name < 0 || regex < 0 || name > regex {
		t.Errorf("the image-name test should come before the regular expressions:\n%s", res.SQL[strings.Index(res.SQL, "WHERE"):])
	}
}

func TestNativeWithoutFallback(t *testing.T) {
	// = and in against literals without k or i compile to SQLite's
	// operators alone.
	for _, q := range []string{
		`filter action_process_image_name = "cmd.exe"`,
		`filter action_process_image_name in ("cmd.exe", "python.exe")`,
	} {
		c, err := Compile(mustParse(t, q), CompileOptions{})
		if err != nil {
			t.Fatalf("Compile(%q): %v", q, err)
		}
		where := c.SQL[strings.LastIndex(c.SQL, "WHERE"):]
		if strings.Contains(where, "xql_match") || strings.Contains(where, "ifnull(") {
			t.Errorf("%s: fallback in %s", q, where)
		}
	}
}

func mustParse(t *testing.T, q string) *Query {
	t.Helper()
	p, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return p
}

func TestJoinFoldedKeys(t *testing.T) {
	// Join keys compare as Go folds them (xql.md §3.3: case_sensitive =
	// false applies to join conditions): kill.exe (r2) equals KILL.EXE (r5)
	// and the Kelvin-sign spelling (r1); ÇMD.EXE (r3) and the null (r4)
	// equal nothing.
	db, _ := beNewTestDB(t, foldRows)
	for _, tc := range []struct{ typ, want string }{
		{"inner", "h1=h2 h1=h5 h2=h1 h2=h5 h5=h1 h5=h2"},
		{"left", "h1=h2 h1=h5 h2=h1 h2=h5 h3=<nil> h4=<nil> h5=h1 h5=h2"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			q := `dataset = xdr_data | join type = ` + tc.typ + ` (dataset = xdr_data | alter other = agent_hostname, n = action_process_image_name | fields other, n) as o o.n = action_process_image_name and o.other != agent_hostname | fields agent_hostname, other`
			res, err := Run(context.Background(), db, mustParse(t, q), RunOptions{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !strings.Contains(res.SQL, "__xql_k1") {
				t.Errorf("the join key is not materialised:\n%s", res.SQL)
			}
			var got []string
			hi, oi := -1, -1
			for i, c := range res.Columns {
				switch c {
				case "agent_hostname":
					hi = i
				case "other":
					oi = i
				}
			}
			for _, r := range res.Rows {
				got = append(got, fmt.Sprintf("%v=%v", r[hi], r[oi]))
			}
			sort.Strings(got)
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
}

func TestFoldVariants(t *testing.T) {
	k, i := "\u212a", "\u0130"
	tests := []struct {
		p    string
		want []string
	}{
		{"cmd.exe", []string{"cmd.exe"}},
		{"Kill", []string{"Kill", k + "ill", "K" + i + "ll", k + i + "ll"}},
		{"kikik", nil},
		{"", []string{""}},
	}
	for _, tc := range tests {
		got := foldVariants(tc.p)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || (got == nil) != (tc.want == nil) {
			t.Errorf("foldVariants(%q) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestNULValues(t *testing.T) {
	// LIKE stops at a NUL; Go's strings do not.
	rows := []beTestRow{
		{"_time": int64(1000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h1",
			"action_process_image_command_line": "net\x00 use \\\\x@SSL\\DavWWWRoot"},
		{"_time": int64(2000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h2",
			"action_process_image_command_line": "NET USE \\\\X@SSL\\DAVWWWROOT"},
		{"_time": int64(3000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h3"},
	}
	db, _ := beNewTestDB(t, rows)
	for _, tc := range []struct{ query, want string }{
		{`filter action_process_image_command_line contains "davwwwroot"`, "r1 r2"},
		{`filter action_process_image_command_line not contains "davwwwroot"`, ""},
		{`filter action_process_image_command_line contains "\\x@ssl"`, "r1 r2"},
		{`filter action_process_image_command_line ~= "use\s+\\\\x@ssl"`, "r1 r2"},
		{`filter action_process_image_command_line ~= "net\x00"`, "r1"},
		{`filter action_process_image_command_line contains "x@ssl%"`, ""},
		{`filter action_process_image_command_line contains "_"`, ""},
		{`filter action_process_image_command_line contains "use%dav"`, ""},
		{`filter action_process_image_command_line !~= "davwwwroot"`, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, err := Run(context.Background(), db, mustParse(t, tc.query), RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := beRowLabels(t, res); got != tc.want {
				t.Errorf("got rows [%s], want [%s]", got, tc.want)
			}
		})
	}
}

func TestImpliedIn(t *testing.T) {
	tests := []struct{ query, want string }{
		{`filter (a = "x" and b ~= "y") or (a in ("z", "w") and c = 1)`, "a: x z w"},
		{`filter (a = "x" and b = "y") or (b = "z" and a = "v")`, "a: x v"},
		{`filter (a = "x*" and b = "y") or (a = "z")`, ""},
		{`filter (a = "x" and b = "y") or c = "z"`, ""},
		{`filter a = "x" or a = "y"`, "a: x y"},
		{`filter not (a = "x" or a = "y")`, ""},
		{`filter (a = "x" or a = "y") and (b in ("1") or b = "2") and c = "q"`, "a: x y|b: 1 2"},
		{`filter (a != "x" or a = "y")`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q := mustParse(t, tc.query)
			f, ok := q.Stages[0].(*FilterStage)
			if !ok {
				t.Fatalf("stage 0 is %T", q.Stages[0])
			}
			var got []string
			for _, in := range impliedIn(f.Cond) {
				s := in.X.(*Ident).Name + ":"
				for _, l := range in.List {
					s += " " + l.(*StringLit).Value
				}
				got = append(got, s)
			}
			if g := strings.Join(got, "|"); g != tc.want {
				t.Errorf("impliedIn = %q, want %q", g, tc.want)
			}
		})
	}
}
