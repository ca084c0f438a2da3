package hunt

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// globOracle is an independent implementation of the XQL wildcard rule
// through Go's regexp: '*' is any run of characters.
func globOracle(s, pattern string, contains bool) bool {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	rx := "(?s)" + strings.Join(parts, ".*")
	if !contains {
		rx = "^" + rx + "$"
	}
	return regexp.MustCompile(rx).MatchString(s)
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		s, p     string
		contains bool
		want     bool
	}{
		{"HKCU\\Software\\RunMRU", "*RunMRU", false, true},
		{"RunMRUx", "*RunMRU", false, false},
		{"abc", "a*c", false, true},
		{"ac", "a*c", false, true},
		{"abcabc", "a*c*c", false, true},
		{"abc", "*", false, true},
		{"", "*", false, true},
		{"xxabyycd", "ab*cd", true, true},
		{"xxabyyc", "ab*cd", true, false},
		{"aaa", "aa*aa", false, false},
		{"aaaa", "aa*aa", false, true},
	}
	for _, tc := range cases {
		if got := globMatch(tc.s, tc.p, tc.contains); got != tc.want {
			t.Errorf("globMatch(%q, %q, %v) = %v, want %v", tc.s, tc.p, tc.contains, got, tc.want)
		}
		if got := globOracle(tc.s, tc.p, tc.contains); got != tc.want {
			t.Errorf("oracle(%q, %q, %v) = %v, want %v (bad case)", tc.s, tc.p, tc.contains, got, tc.want)
		}
	}
}

func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"abc", "a*c"}, {"aaaa", "aa*aa"}, {`C:\x\y`, `*\y`}, {"", "*"}, {"ab", "**b*"}} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, s, p string, contains bool) {
		if !utf8.ValidString(s) || !utf8.ValidString(p) {
			return // the regexp oracle works on runes, globMatch on bytes
		}
		if got, want := globMatch(s, p, contains), globOracle(s, p, contains); got != want {
			t.Fatalf("globMatch(%q, %q, %v) = %v, oracle %v", s, p, contains, got, want)
		}
	})
}

func TestMatchFlags(t *testing.T) {
	cases := []struct {
		v, p  any
		flags int64
		want  any
	}{
		{"CMD.exe", "cmd.exe", matchFold, int64(1)},
		{"CMD.exe", "cmd.exe", 0, int64(0)},
		{nil, "x", matchFold, nil},
		{[]byte(nil), "x", 0, nil},
		{"x", nil, 0, nil},
		{"", "*", matchContains | matchWildcard, int64(0)},
		{"a", "*", matchContains | matchWildcard, int64(1)},
		{`C:/Users/x`, `C:\users\*`, matchFold | matchWildcard | matchPathSep, int64(1)},
		{`["a","use","b"]`, "use", matchContains | matchArray, int64(1)},
		{`["a","user"]`, "use", matchContains | matchArray, int64(0)},
		{`["a","USER"]`, "us*", matchContains | matchArray | matchWildcard | matchFold, int64(1)},
		{int64(4688), "4688", 0, int64(1)},
	}
	for _, tc := range cases {
		if got := xqlMatch(tc.v, tc.p, tc.flags); got != tc.want {
			t.Errorf("xql_match(%v, %v, %d) = %v, want %v", tc.v, tc.p, tc.flags, got, tc.want)
		}
	}
}

func TestJSONPath(t *testing.T) {
	doc := `{"a":{"b":"X","n":3,"o":{"k":1}},"list":[10,"y",{"z":true}],"k.e.y":"dots","q]":"bracket"}`
	cases := []struct{ path, scalar, extract any }{
		{"$.a.b", "X", `"X"`},
		{"$.a.n", "3", "3"},
		{"$.a.o", nil, `{"k":1}`},
		{"$.list[0]", "10", "10"},
		{"$.list[-1].z", "true", "true"},
		{"$.list[5]", nil, nil},
		{`$["k.e.y"]`, "dots", `"dots"`},
		{`$['q]']`, "bracket", `"bracket"`},
		{"$.missing", nil, nil},
		{"a.b", nil, nil},
		{"$.[0]", nil, nil},
	}
	for _, tc := range cases {
		if got := xqlJSONExtractScalar(doc, tc.path); got != tc.scalar {
			t.Errorf("json_extract_scalar(%s) = %v, want %v", tc.path, got, tc.scalar)
		}
		if got := xqlJSONExtract(doc, tc.path); got != tc.extract {
			t.Errorf("json_extract(%s) = %v, want %v", tc.path, got, tc.extract)
		}
	}
	if got := xqlJSONExtractScalar("not json", "$.a"); got != nil {
		t.Errorf("bad JSON gave %v", got)
	}
}

func FuzzJSONPath(f *testing.F) {
	f.Add(`{"a":[1,{"b":2}]}`, `$.a[1].b`)
	f.Add(`{"k.e.y":1}`, `$["k.e.y"]`)
	f.Add(`[1,2]`, `$[`)
	f.Fuzz(func(t *testing.T, doc, path string) {
		xqlJSONExtract(doc, path)
		xqlJSONExtractScalar(doc, path)
	})
}

func TestScalarFunctions(t *testing.T) {
	mustNil := func(name string, v any, err error) {
		t.Helper()
		if err != nil || v != nil {
			t.Errorf("%s = %v, %v; want NULL", name, v, err)
		}
	}
	v, err := xqlRegextract(`C:\Windows\System32\cmd.exe`, `\\([^\\]+)\.exe`)
	if err != nil || v != `["cmd"]` {
		t.Errorf("regextract group = %v %v", v, err)
	}
	v, err = xqlRegextract("a1b22c333", `\d+`)
	if err != nil || v != `["1","22","333"]` {
		t.Errorf("regextract all = %v %v", v, err)
	}
	v, err = xqlRegextract(nil, `x`)
	mustNil("regextract(NULL)", v, err)
	if _, err := xqlRegextract("x", "("); err == nil {
		t.Error("regextract with a bad pattern succeeded")
	}
	if got := xqlArrayIndex(`["a","b","c"]`, int64(-1)); got != "c" {
		t.Errorf("arrayindex -1 = %v", got)
	}
	if got := xqlArrayIndex(`["a"]`, int64(3)); got != nil {
		t.Errorf("arrayindex out of range = %v", got)
	}
	if got := xqlArrayIndex(`[1,2]`, int64(1)); got != int64(2) {
		t.Errorf("arrayindex number = %#v", got)
	}
	if got := xqlArrayLength(`[1,2,3]`); got != int64(3) {
		t.Errorf("array_length = %v", got)
	}
	if got := xqlSplit("a b  c"); got != `["a","b","","c"]` {
		t.Errorf("split = %v", got)
	}
	if got := xqlSplit("a,b", ","); got != `["a","b"]` {
		t.Errorf("split sep = %v", got)
	}
	if got := xqlConcat("a", int64(1), 2.5); got != "a12.5" {
		t.Errorf("concat = %v", got)
	}
	if got := xqlConcat("a", nil); got != nil {
		t.Errorf("concat with NULL = %v", got)
	}
	if got := xqlToInteger(" 42 "); got != int64(42) {
		t.Errorf("to_integer = %v", got)
	}
	if got := xqlToInteger("x"); got != nil {
		t.Errorf("to_integer(x) = %v", got)
	}
	if got := xqlToNumber("1.5"); got != 1.5 {
		t.Errorf("to_number = %v", got)
	}
	if got := xqlLen("héllo"); got != int64(5) {
		t.Errorf("len = %v", got)
	}
	if got := xqlTrim(strings.Trim, "xxhixx", []any{"x"}); got != "hi" {
		t.Errorf("trim chars = %v", got)
	}
	if got := xqlReplace(`a\b\c`, `\`, "/"); got != "a/b/c" {
		t.Errorf("replace = %v", got)
	}
	if got, err := xqlReplex("a1b22", `\d+`, "#"); err != nil || got != "a#b#" {
		t.Errorf("replex = %v %v", got, err)
	}
	if got := xqlToJSONString("a\"b", 0); got != `"a\"b"` {
		t.Errorf("to_json_string string = %v", got)
	}
	if got := xqlToJSONString(`["x"]`, 1); got != `["x"]` {
		t.Errorf("to_json_string array = %v", got)
	}
	if got := xqlSortedArray(`["b","a",3,1]`); got != `[1,3,"a","b"]` {
		t.Errorf("sorted array = %v", got)
	}
	if got := xqlRound(2.5); got != int64(3) {
		t.Errorf("round = %v", got)
	}
	if got := xqlFloor(-1.5); got != int64(-2) {
		t.Errorf("floor = %v", got)
	}
}

func TestTimeFunctions(t *testing.T) {
	day := int64(86400000)
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"timestamp_diff DAY", must(xqlTimestampDiff(3*day+5, day, "DAY")), int64(2)},
		{"timestamp_diff negative", must(xqlTimestampDiff(day, 3*day, "HOUR")), int64(-48)},
		{"timestamp_diff MILLISECOND", must(xqlTimestampDiff(int64(1500), int64(1000), "MILLISECOND")), int64(500)},
		{"timestamp_diff MICROSECOND", must(xqlTimestampDiff(int64(2), int64(1), "MICROSECOND")), int64(1000)},
		{"to_timestamp SECONDS", must(xqlToTimestamp(int64(1700000000), "SECONDS")), int64(1700000000000)},
		{"to_timestamp default", must(xqlToTimestamp(int64(2))), int64(2000)},
		{"to_timestamp MILLIS", must(xqlToTimestamp(int64(1234), "MILLIS")), int64(1234)},
		{"to_epoch SECONDS", must(xqlToEpoch(int64(1700000000999), "SECONDS")), int64(1700000000)},
		{"to_epoch millis lower", must(xqlToEpoch(int64(1234), "millis")), int64(1234)},
		{"to_epoch MICROS", must(xqlToEpoch(int64(2), "MICROS")), int64(2000)},
		{"timestamp_diff NULL", must(xqlTimestampDiff(nil, int64(1), "DAY")), nil},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	if _, err := xqlTimestampDiff(int64(1), int64(1), "FORTNIGHT"); err == nil {
		t.Error("unknown unit accepted")
	}
}

func must(v any, err error) any {
	if err != nil {
		return err
	}
	return v
}

func TestInCIDR(t *testing.T) {
	cases := []struct {
		ip, cidrs string
		want      any
	}{
		{"10.1.2.3", "10.0.0.0/8", int64(1)},
		{"11.1.2.3", "10.0.0.0/8", int64(0)},
		{"192.168.1.5", "10.0.0.0/8, 192.168.0.0/16", int64(1)},
		{"not an ip", "10.0.0.0/8", int64(0)},
		{"10.0.0.1", "10.0.0.1", int64(1)},
		{"fe80::1", "fe80::/10", int64(1)},
		{"::ffff:10.0.0.1", "10.0.0.0/8", int64(1)},
		{`["8.8.8.8","10.9.9.9"]`, "10.0.0.0/8", int64(1)},
	}
	for _, tc := range cases {
		got, err := xqlInCIDR(tc.ip, tc.cidrs)
		if err != nil || got != tc.want {
			t.Errorf("incidr(%s, %s) = %v %v, want %v", tc.ip, tc.cidrs, got, err, tc.want)
		}
	}
	if _, err := xqlInCIDR("1.2.3.4", "10.0.0.0/99"); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"begin", time.Time{}},
		{"-7d", now.Add(-7 * 24 * time.Hour)},
		{"-30m", now.Add(-30 * time.Minute)},
		{"2024-01-01 00:00:00 +0000", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-01-01 02:00:00 +0200", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-01-01 00:00:00", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-01-01T00:00:00Z", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-01-01", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1700000000000", time.UnixMilli(1700000000000).UTC()},
	}
	for _, tc := range cases {
		got, err := ParseTime(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-7x", "2024-13-01"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) succeeded", bad)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "-7d", "2024-01-01 00:00:00 +0000", "99999999999999999999d", "-0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseTime(s, time.Unix(0, 0))
		ParseDuration(s)
	})
}

// TestEnumTables checks ENUM numbers written by hand from xdr-model.md §1.3
// and the families of columns.
func TestEnumTables(t *testing.T) {
	cases := []struct {
		col, name string
		want      int64
	}{
		{"event_type", "PROCESS", 1}, {"event_type", "HOST_FIREWALL", 23}, {"event_type", "event_log", 15},
		{"event_sub_type", "PROCESS_STOP", 2}, {"agent_os_type", "AGENT_OS_LINUX", 4},
		{"causality_actor_type", "REMOTE_FILE_SMB", 5}, {"os_actor_type", "LOCAL", 1},
		{"causality_actor_process_signature_status", "UNSUPPORTED", 6}, {"action_process_signature_status", "SIGNED", 1},
	}
	for _, c := range cases {
		tab := EnumFor(c.col)
		if tab == nil {
			t.Errorf("%s has no ENUM table", c.col)
			continue
		}
		if v, ok := tab.Lookup(c.name); !ok || v != c.want {
			t.Errorf("%s %s = %d (%v), want %d", c.col, c.name, v, ok, c.want)
		}
		if n := tab.NameOf(c.want); !strings.EqualFold(n, c.name) {
			t.Errorf("%s: NameOf(%d) = %q, want %s", c.col, c.want, n, c.name)
		}
	}
	if EnumFor("agent_hostname") != nil {
		t.Error("agent_hostname is not an ENUM")
	}
}

// TestFunctionsRegistered checks that every function the compiler can emit
// exists in SQLite, by calling each with NULL arguments.
func TestFunctionsRegistered(t *testing.T) {
	db, _ := beNewTestDB(t, nil)
	args := map[string]string{
		"xql_match": "NULL, NULL, 0", "xql_regex": "NULL, NULL, 0", "xql_to_json_string": "NULL, 0",
		"xql_replace": "NULL, NULL, NULL", "xql_replex": "NULL, NULL, NULL", "xql_timestamp_diff": "NULL, NULL, NULL",
		"xql_incidr": "NULL, NULL", "xql_regextract": "NULL, NULL", "xql_arrayindex": "NULL, NULL",
		"xql_arraystring": "NULL, NULL", "xql_json_extract": "NULL, NULL", "xql_json_extract_scalar": "NULL, NULL",
	}
	for _, f := range sqlFuncs {
		a, ok := args[f.name]
		if !ok {
			a = "NULL"
		}
		var v any
		if err := db.QueryRowContext(context.Background(), "SELECT "+f.name+"("+a+")").Scan(&v); err != nil {
			t.Errorf("%s: %v", f.name, err)
		} else if v != nil && f.name != "xql_to_json_string" {
			t.Errorf("%s(NULL…) = %v, want NULL", f.name, v)
		}
	}
	if len(FunctionNames()) < 25 {
		t.Errorf("only %d XQL functions", len(FunctionNames()))
	}
}
