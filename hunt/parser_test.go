package hunt

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// valids must parse without error and print back to the same AST.
var valids = []string{
	`dataset = xdr_data`,
	`dataset=xdr_data|filter event_type=ENUM.PROCESS`,
	`preset = xdr_process | filter action_process_image_name = "cmd.exe"`,
	`cold_dataset = xdr_data`,
	`datamodel dataset = gitlab_raw`,
	`datamodel`,
	`dataset = panw*`,
	`config case_sensitive = false | dataset = xdr_data`,
	`config case_sensitive = true timeframe = 30d | dataset = xdr_data`,
	`config timeframe between "-7d" and "now" | dataset = xdr_data`,
	`config timeframe = 1D | dataset = x`,
	`dataset = xdr_data | filter a = 1 | filter b != 2 | filter c < 3 and d <= 4 or e > 5 and f >= 6`,
	`dataset = x | filter not a = 1 and not (b = 2 or c = 3)`,
	`dataset = x | filter a contains "x" and b not contains "y"`,
	`dataset = x | filter a in ("a", "b*", ENUM.X, null) and b not in (1, 2)`,
	`dataset = x | filter a in("a")`,
	`dataset = x | filter a ~= "^c:\\" and b !~= """(?i)\d+"""`,
	`dataset = x | filter ip incidr "10.0.0.0/8, 192.168.0.0/16" and ip not incidr "1.2.3.4/32" and ip6 incidr6 "::1/128"`,
	`dataset = x | filter not (incidr(action_remote_ip, "10.0.0.0/8") or incidr(action_remote_ip, "172.16.0.0/12"))`,
	`dataset = x | filter event_type = PROCESS and event_sub_type = 1 and agent_os_type = ENUM.AGENT_OS_WINDOWS`,
	`dataset = x | filter a = true and b = FALSE and c = NULL and d != null`,
	`dataset = x | filter a = 0x1fffff or b = 1.5 or c = -3`,
	`dataset = x | alter y = a + b * (c - d) / 2`,
	`dataset = x | alter a = j -> b.c, b = j -> b[0].c, c = j -> ["key.with.dots"], d = j -> arr{}, e = j->[], f = j->[1].E`,
	`dataset = x | alter t = root->B.F[], u = root -> B.D{}`,
	`dataset = x | alter k = j -> ["a\"b"].c, m = j -> ["x.y"]["z"][2]`,
	`dataset = x | alter s = lowercase(arrayindex(regextract(cmd, "(\w+)"), 0)), n = count_distinct(x)`,
	`dataset = x | alter s = IF(a = 1, "one", if(a = 2, "two", "many"))`,
	`dataset = x | fields _time, agent_hostname as host, threat_*, *_path, xdm.asset.*`,
	"dataset = x | fields Category as value_category, `Tag` as value_tag",
	`dataset = x | fields - _raw_log, _raw_json`,
	`dataset = x | fields -_raw_log`,
	`dataset = x | sort desc _time, asc agent_hostname`,
	`dataset = x | sort _time`,
	`dataset = x | limit 10`,
	`dataset = x | dedup a, b by desc _time`,
	`dataset = x | dedup actor_process_instance_id`,
	`dataset = x | comp count() as c, count_distinct(agent_id) as hosts, min(_time), max(_time) as last, sum(n), avg(n), values(x) as xs by a, b`,
	`dataset = x | comp count() as c by a addrawdata = true as raw`,
	`dataset = x | comp count() as c by a addrawdata = true`,
	`dataset = x | join type = left conflict_strategy = both (dataset = y | fields a, b) as j j.a = a`,
	`dataset = x | join conflict_strategy = left type = inner (config case_sensitive = false | dataset = y) as j j.a = a and j.b != b`,
	`dataset = x | union y`,
	`dataset = x | union (dataset = y | filter a = 1)`,
	`dataset = x | filter y not in (dataset = z | fields y)`,
	`dataset = x | view graph type = pie xaxis = a yaxis = b seriescolor("b", "#fff") legend = ` + "`false`",
	`dataset = x | bin _time span = 1h | arrayexpand a limit 3 | iploc ip loc_country | windowcomp count(x) by y as z | replacenull a = "x"`,
	`dataset = x | union (dataset = y | bin t span = 1d | comp count() by t)`,
	`dataset = x | filter a = "C:\" or b = "\\127.0.0.1\" or c contains "\test\"`,
	`dataset = x | filter a ~= "(?i)git(\.exe)?[\s\"]+clone" | alter b = replace(b, "\"", "")`,
	`dataset = x | filter a = "x" // comment | filter b = 1
| filter /* block
comment */ c = 2`,
	`dataset = x | filter a = "https://example.com/a"`,
	`dataset = x | alter 90th_pct = round(p90)`,
	`dataset = x | filter a in ($params)`,
	"dataset = x | filter `and` = 1 and `ENUM.X` = 2",
	`DATASET = x | FILTER a = 1 AND b = 2 OR NOT c CONTAINS "z" | SORT DESC a | LIMIT 5`,
	`dataset = x | filter a = """a \"quoted\" \\ value"""`,
	`dataset = x | filter a = """"""`,
	"dataset = x\u00a0| filter a = 1",
}

// invalids hold /* ERROR "rx" */ comments after the token where the error is
// expected (ERROR HERE: at the first byte after the comment and spaces).
// Parse keeps one error per line, so each case has at most one per line.
var invalids = []string{
	`dataset = x | stats /* ERROR "unknown stage \"stats\"" */ count() by a`,
	`dataset = x | filter a = /* ERROR HERE "expected operand, found end of query" */`,
	`dataset = x | filter a = 1 b /* ERROR "expected \"\|\" or end of query after stage, found \"b\"" */`,
	`dataset = x | fields a = /* ERROR "fields cannot assign with =" */ b`,
	`dataset = x | filter a in ( ) /* ERROR "empty in list" */`,
	`dataset = x | filter a = /* ERROR HERE "string not terminated" */ "abc`,
	`dataset = x | filter a = /* ERROR HERE "string not terminated" */ """abc\"""`,
	`dataset = x | /* ERROR HERE "comment not terminated" */ /* filter`,
	`dataset = x | filter a = 1 = /* ERROR "comparisons cannot be chained" */ 2`,
	`dataset = x | filter a not /* ERROR HERE "expected contains, in, incidr or incidr6 after not" */ = 1`,
	`config /* ERROR HERE "expected config setting" */ | dataset = x`,
	`config foo /* ERROR "unknown config setting \"foo\"" */ = 1 | dataset = x`,
	`config timeframe = /* ERROR HERE "expected time literal" */ 7 | dataset = x`,
	`config case_sensitive = /* ERROR HERE "expected true or false" */ maybe | dataset = x`,
	`dataset = x | join type = /* ERROR HERE "expected inner, left, right" */ outer (dataset = y) as y y.a = a`,
	`dataset = x | join (dataset = y) /* ERROR HERE "expected \"as\" after join sub-query" */ y.a = a`,
	`dataset = x | join (dataset = y | bogus /* ERROR "unknown stage" */ ) as y y.a = a`,
	`dataset = x | limit /* ERROR HERE "expected row count" */ ten`,
	`dataset = x | limit 99999999999999999999 /* ERROR "out of range" */`,
	`dataset = x | | /* ERROR "expected stage, found \"\|\"" */ filter a = 1`,
	`dataset = x | /* ERROR HERE "expected stage, found end of query" */`,
	`/* ERROR HERE "expected stage, found end of query" */`,
	`dataset = x | filter a -> /* ERROR HERE "expected JSON path" */ = 1`,
	`dataset = x | filter a = 1 ) /* ERROR "expected \"\|\" or end of query" */`,
	`dataset = x | filter and /* ERROR "expected operand, found \"and\"" */`,
	`dataset = x | filter a = # /* ERROR "expected operand, found character" */`,
	`dataset = x | comp x /* ERROR HERE "expected \"\(\" after aggregate x" */ by a`,
	"dataset = x | fields `` /* ERROR \"empty quoted name\" */",
	"dataset = x | filter a = 1\n| foo /* ERROR \"unknown stage\" */\n| filter b = /* ERROR HERE \"expected operand\" */\n| limit 1\n| sort /* ERROR HERE \"expected sort field\" */",
}

// zeroPos clears every Pos in the tree, so that two ASTs can be compared
// without their positions.
func zeroPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			zeroPos(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Pos]() {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			zeroPos(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroPos(v.Index(i))
		}
	}
}

// sameAST reports whether two queries are equal apart from positions (the
// queries are modified).
func sameAST(a, b *Query) bool {
	zeroPos(reflect.ValueOf(a))
	zeroPos(reflect.ValueOf(b))
	return reflect.DeepEqual(a, b)
}

// checkRoundTrip parses q.String() and compares the ASTs.
func checkRoundTrip(t *testing.T, src string, q *Query) {
	t.Helper()
	printed := q.String()
	q2, err := Parse(printed)
	if err != nil {
		t.Fatalf("printed query does not parse: %v\nsource:\n%s\nprinted:\n%s", err, src, printed)
	}
	q1, _ := Parse(src)
	if !sameAST(q1, q2) {
		t.Fatalf("round trip changed the AST\nsource:\n%s\nprinted:\n%s\nreprinted:\n%s", src, printed, q2.String())
	}
}

func TestValid(t *testing.T) {
	for i, src := range valids {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			q, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", src, err)
			}
			checkRoundTrip(t, src, q)
		})
	}
}

var errorRx = regexp.MustCompile(`/\* ERROR (HERE )?"((?:[^"\\]|\\.)*)" \*/`)

// expectedError is one /* ERROR */ comment.
type expectedError struct {
	pos Pos
	rx  *regexp.Regexp
}

// expectedErrors finds the ERROR comments of src and the positions they
// point at: the token before the comment, or for ERROR HERE the token after
// it.
func expectedErrors(t *testing.T, src string) []expectedError {
	t.Helper()
	items, _ := Tokenize(src)
	var out []expectedError
	for _, m := range errorRx.FindAllStringSubmatchIndex(src, -1) {
		rxText := strings.ReplaceAll(src[m[4]:m[5]], `\"`, `"`)
		rx, err := regexp.Compile(rxText)
		if err != nil {
			t.Fatalf("bad ERROR regexp %q: %v", rxText, err)
		}
		var pos Pos
		if m[2] >= 0 { // HERE: the first byte after the comment and spaces
			off := m[1]
			for off < len(src) && strings.IndexByte(" \t\r\n", src[off]) >= 0 {
				off++
			}
			line := 1 + strings.Count(src[:off], "\n")
			col := off - (strings.LastIndexByte(src[:off], '\n') + 1) + 1
			pos = Pos{Offset: off, Line: line, Col: col}
		} else {
			for _, it := range items {
				if it.End <= m[0] && it.Tok != EOF {
					pos = it.Pos
				}
			}
		}
		if !pos.IsValid() {
			t.Fatalf("ERROR comment %q has no token to point at", src[m[0]:m[1]])
		}
		out = append(out, expectedError{pos: pos, rx: rx})
	}
	return out
}

// checkErrors parses src and compares its errors with the ERROR comments.
func checkErrors(t *testing.T, src string) {
	t.Helper()
	want := expectedErrors(t, src)
	q, err := Parse(src)
	if q == nil {
		t.Fatalf("Parse returned a nil query")
	}
	var got ErrorList
	if err != nil {
		var ok bool
		if got, ok = err.(ErrorList); !ok {
			t.Fatalf("error is %T, want ErrorList", err)
		}
	}
	if len(want) == 0 && len(got) == 0 {
		checkRoundTrip(t, src, q)
		return
	}
	matched := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, e := range got {
			if !matched[i] && e.Pos.Line == w.pos.Line && e.Pos.Col == w.pos.Col && w.rx.MatchString(e.Msg) {
				matched[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("%d:%d: no error matching %q; got:\n%s", w.pos.Line, w.pos.Col, w.rx, got.Format(src))
		}
	}
	for i, e := range got {
		if !matched[i] {
			t.Errorf("unexpected error %v\n%s", e, Caret(src, e.Pos))
		}
	}
}

func TestInvalid(t *testing.T) {
	for i, src := range invalids {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if len(errorRx.FindAllString(src, -1)) == 0 {
				t.Fatalf("invalid case without ERROR comment: %s", src)
			}
			checkErrors(t, src)
		})
	}
}

// TestTestdata checks every testdata/xql/*.xql file against its ERROR
// comments; a file without them must parse and round-trip.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "xql", "*.xql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/xql/*.xql files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkErrors(t, string(b))
		})
	}
}

func TestCanonicalPrinting(t *testing.T) {
	tests := []struct{ src, want string }{
		{"DATASET=xdr_data|FILTER a=1 AND NOT b CONTAINS \"x\"|SORT a",
			"dataset = xdr_data\n| filter a = 1 and not b contains \"x\"\n| sort asc a"},
		{"dataset = x | alter 90th_pct = p, `a b` = 1, `in` = 2, s = $param",
			"dataset = x\n| alter 90th_pct = p, `a b` = 1, `in` = 2, s = $param"},
		{"dataset = x | join (dataset = y|fields a) as j j.a = a | filter z in (dataset = w | fields z)",
			"dataset = x\n| join (dataset = y | fields a) as j j.a = a\n| filter z in (dataset = w | fields z)"},
		{"dataset = x | alter v = j->a[0][\"k.x\"]{}, w = -(1 + 2) * 3",
			"dataset = x\n| alter v = j -> a[0][\"k.x\"]{}, w = -(1 + 2) * 3"},
		{"config timeframe between \"-7d\" and \"now\" case_sensitive = TRUE | dataset = x",
			"config case_sensitive = true timeframe between \"-7d\" and \"now\"\n| dataset = x"},
	}
	for _, tc := range tests {
		q, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if got := q.String(); got != tc.want {
			t.Errorf("String() =\n%s\nwant\n%s", got, tc.want)
		}
	}
}

func TestPartialAST(t *testing.T) {
	src := "dataset = x\n| filter a = \n| sort desc b\n| bogus\n| limit 3"
	q, err := Parse(src)
	if err == nil {
		t.Fatal("no error")
	}
	var kinds []string
	for _, st := range q.Stages {
		kinds = append(kinds, fmt.Sprintf("%T", st))
	}
	want := "*hunt.DatasetStage *hunt.SortStage *hunt.LimitStage"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("stages = %s, want %s", got, want)
	}
	list := err.(ErrorList)
	if len(list) != 2 || list[0].Pos.Line != 3 || list[1].Pos.Line != 4 {
		t.Errorf("errors = %v", list)
	}
	f := list.Format(src)
	wantFmt := "3:1: expected operand, found \"|\"\n| sort desc b\n^\n4:3: unknown stage \"bogus\"\n| bogus\n  ^\n"
	if f != wantFmt {
		t.Errorf("Format =\n%s\nwant\n%s", f, wantFmt)
	}
}

func TestErrorListDedupAndLimit(t *testing.T) {
	// Many errors on many lines: Parse stops after maxErrors.
	src := "dataset = x" + strings.Repeat("\n| bogus", 50)
	_, err := Parse(src)
	list := err.(ErrorList)
	if len(list) == 0 || len(list) > maxErrors+1 {
		t.Fatalf("got %d errors, want 1..%d", len(list), maxErrors+1)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Pos.Line == list[i-1].Pos.Line || list[i].Pos.Offset < list[i-1].Pos.Offset {
			t.Fatalf("errors not sorted and deduplicated per line: %v", list)
		}
	}
	if (ErrorList{}).Err() != nil {
		t.Error("empty ErrorList.Err() != nil")
	}
}

func TestCaretNeutralisesControlCharacters(t *testing.T) {
	src := "dataset = x | filter a = \x1b[31m"
	_, err := Parse(src)
	if err == nil {
		t.Fatal("no error")
	}
	f := err.(ErrorList).Format(src)
	if strings.ContainsRune(f, 0x1b) {
		t.Errorf("Format kept an escape character: %q", f)
	}
}

func TestNestingLimit(t *testing.T) {
	src := "dataset = x | filter " + strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10000)
	_, err := Parse(src)
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("err = %v, want nesting error", err)
	}
}
