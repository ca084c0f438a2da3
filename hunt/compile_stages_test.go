package hunt

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// beCell renders a result value for comparisons.
func beCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return fmt.Sprint(x.UnixMilli()) + "ms"
	case json.RawMessage:
		return string(x)
	case float64:
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprint(v)
}

// beProject renders the named columns of a result as "a|b" rows joined by
// "; "; with sorted the rows are sorted first.
func beProject(t *testing.T, res *Result, sorted bool, cols ...string) string {
	t.Helper()
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = -1
		for j, rc := range res.Columns {
			if rc == c {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			t.Fatalf("column %s not in result %v", c, res.Columns)
		}
	}
	var rows []string
	for _, r := range res.Rows {
		var cs []string
		for _, i := range idx {
			cs = append(cs, beCell(r[i]))
		}
		rows = append(rows, strings.Join(cs, "|"))
	}
	if sorted {
		sort.Strings(rows)
	}
	return strings.Join(rows, "; ")
}

func beRunQuery(t *testing.T, db *sql.DB, src string, opt RunOptions) *Result {
	t.Helper()
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	res, err := Run(context.Background(), db, q, opt)
	if err != nil {
		t.Fatalf("Run(%q): %v", src, err)
	}
	return res
}

func TestStages(t *testing.T) {
	db, _ := beNewTestDB(t, beSemRows)
	cases := []struct {
		name, query string
		sorted      bool
		cols        []string
		want        string
		rowIDs      bool
	}{
		{"fields as, sort desc, limit",
			`fields agent_hostname as host, action_process_os_pid | sort desc action_process_os_pid | limit 2`,
			false, []string{"host", "action_process_os_pid", "_time"}, "h4|4000|4000ms; H2|200|2000ms", true},
		{"sort asc puts nulls first",
			`sort asc action_process_os_pid | fields agent_hostname`,
			false, []string{"agent_hostname"}, "h3; h1; H2; h4", true},
		{"sort two keys",
			`sort asc event_type, desc _time | fields agent_hostname`,
			false, []string{"agent_hostname"}, "h3; H2; h1; h4", true},
		{"limit without sort keeps table order",
			`limit 3 | fields agent_hostname`,
			false, []string{"agent_hostname"}, "h1; H2; h3", true},
		{"alter sees the old value, then overwrites",
			`alter x = concat(agent_hostname, "!"), agent_hostname = uppercase(agent_hostname) | filter x = "h1!" | fields agent_hostname, x`,
			false, []string{"agent_hostname", "x"}, "H1|h1!", true},
		{"alter chains within one stage",
			`alter a = action_process_os_pid + 1, b = a * 2 | filter b = 202 | fields b`,
			false, []string{"b"}, "202", true},
		{"dedup by desc",
			`dedup agent_os_type by desc _time | fields agent_hostname`,
			false, []string{"agent_hostname"}, "H2; h3; h4", true},
		{"dedup by asc",
			`dedup agent_os_type by asc _time | fields agent_hostname`,
			false, []string{"agent_hostname"}, "h1; h3; h4", true},
		{"comp by ENUM field renders names",
			`comp count() as n, max(action_process_os_pid) as mx, count_distinct(agent_hostname) as hosts, values(action_process_image_name) as names by event_type | sort asc event_type`,
			false, []string{"event_type", "n", "mx", "hosts", "names"},
			`PROCESS|3|200|3|["CMD.EXE","cmd.exe"]; FILE|1|4000|1|["powershell.exe"]`, false},
		{"values of an ENUM field renders names",
			`comp values(agent_os_type) as oses by event_type | sort asc event_type`,
			false, []string{"event_type", "oses"}, `PROCESS|["AGENT_OS_WINDOWS","AGENT_OS_LINUX"]; FILE|["AGENT_OS_MAC"]`, false},
		{"comp grouping is exact",
			`comp count() as n by action_process_image_name`,
			true, []string{"action_process_image_name", "n"}, "CMD.EXE|1; NULL|1; cmd.exe|1; powershell.exe|1", false},
		{"comp sum avg min without by",
			`comp sum(action_process_os_pid) as s, avg(action_process_os_pid) as a, min(_time) as first`,
			false, []string{"s", "a", "first"}, "4300|1433.333|1000ms", false},
		{"comp default names",
			`filter event_type = FILE | comp count(), max(action_process_os_pid)`,
			false, []string{"count", "max_action_process_os_pid"}, "1|4000", false},
		{"join inner, condition case-insensitive",
			`fields agent_hostname, action_process_os_pid | join type = inner (filter action_process_os_pid >= 200 | alter host = uppercase(agent_hostname) | fields host, actor_effective_username) as r r.host = agent_hostname`,
			true, []string{"agent_hostname", "action_process_os_pid", "host", "actor_effective_username"},
			"H2|200|H2|alice; h4|4000|H4|Bob", false},
		{"join inner, case-sensitive",
			`config case_sensitive = true | fields agent_hostname | join (alter host = uppercase(agent_hostname) | fields host) as r r.host = agent_hostname`,
			true, []string{"agent_hostname", "host"}, "H2|H2", false},
		{"join left keeps unmatched",
			`filter event_type = PROCESS | fields agent_hostname | join type = left (filter agent_hostname = "h1" | fields agent_hostname, actor_effective_username) as r r.agent_hostname = agent_hostname`,
			true, []string{"agent_hostname", "actor_effective_username"}, `H2|NULL; h1|NT AUTHORITY\SYSTEM; h3|NULL`, false},
		{"join conflict both renames the inner column",
			`fields agent_hostname, action_process_os_pid | join conflict_strategy = both (fields agent_hostname, action_process_os_pid | alter action_process_os_pid = action_process_os_pid + 1) as r r.agent_hostname = agent_hostname | filter agent_hostname = "h1"`,
			false, []string{"agent_hostname", "action_process_os_pid", "action_process_os_pid_joined_10"}, "h1|100|101", false},
		{"join conflict left keeps the outer column",
			`fields agent_hostname, action_process_os_pid | join conflict_strategy = left (fields agent_hostname, action_process_os_pid | alter action_process_os_pid = action_process_os_pid + 1) as r r.agent_hostname = agent_hostname | filter agent_hostname = "h1"`,
			false, []string{"agent_hostname", "action_process_os_pid"}, "h1|100", false},
		{"join conflict right (default) keeps the inner column",
			`fields agent_hostname, action_process_os_pid | join (fields agent_hostname, action_process_os_pid | alter action_process_os_pid = action_process_os_pid + 1) as r r.agent_hostname = agent_hostname | filter agent_hostname = "h1"`,
			false, []string{"agent_hostname", "action_process_os_pid"}, "h1|101", false},
		{"union sub-query",
			`filter agent_hostname = "h1" | fields agent_hostname | union (filter agent_hostname = "h4" | fields agent_hostname, action_process_os_pid)`,
			true, []string{"agent_hostname", "action_process_os_pid"}, "h1|NULL; h4|4000", false},
		{"union dataset",
			`filter agent_hostname = "h1" | fields agent_hostname | union xdr_data | comp count() as n`,
			false, []string{"n"}, "5", false},
		{"sort on a field evtxhunt never fills after comp",
			`comp count() as n by agent_os_type | sort desc action_registry_key_name | fields n`,
			true, []string{"n"}, "1; 1; 2", false},
		{"fields minus",
			`fields - action_process_*, actor_* | filter agent_hostname = "h1" | fields agent_hostname`,
			false, []string{"agent_hostname"}, "h1", true},
		{"in sub-query",
			`filter agent_hostname in (dataset = xdr_data | filter action_process_os_pid > 150 | fields agent_hostname) | fields agent_hostname`,
			true, []string{"agent_hostname"}, "H2; h4", true},
		{"booleans render as bool",
			`filter action_process_is_native != null | fields agent_hostname, action_process_is_native`,
			true, []string{"agent_hostname", "action_process_is_native"}, "H2|false; h1|true", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := beRunQuery(t, db, tc.query, RunOptions{})
			if got := beProject(t, res, tc.sorted, tc.cols...); got != tc.want {
				t.Errorf("%s\n got %s\nwant %s\nSQL: %.800s", tc.query, got, tc.want, res.SQL)
			}
			if (res.RowIDs != nil) != tc.rowIDs {
				t.Errorf("RowIDs = %v, want present=%v", res.RowIDs, tc.rowIDs)
			}
			if res.RowIDs != nil && len(res.RowIDs) != len(res.Rows) {
				t.Errorf("%d RowIDs for %d rows", len(res.RowIDs), len(res.Rows))
			}
		})
	}
}

func TestFieldsColumns(t *testing.T) {
	db, _ := beNewTestDB(t, beSemRows)
	res := beRunQuery(t, db, `fields action_process_image_*, agent_hostname`, RunOptions{})
	got := strings.Join(res.Columns, ",")
	for _, want := range []string{"action_process_image_name", "action_process_image_path", "action_process_image_command_line", "agent_hostname", "_time", "_product", "_vendor", "_insert_time"} {
		if !strings.Contains(","+got+",", ","+want+",") {
			t.Errorf("columns %s lack %s", got, want)
		}
	}
	if strings.Contains(got, "actor_effective_username") {
		t.Errorf("columns %s contain an unlisted field", got)
	}
	if len(res.Rows) != len(beSemRows) {
		t.Errorf("%d rows, want %d", len(res.Rows), len(beSemRows))
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ query, want string }{
		{`filter agent_hostname = "x" | bin _time span = 1h`, "unsupported stage bin at 1:"},
		{`filter foo(agent_hostname) = 1`, "unknown function foo at 1:8"},
		{`filter no_such_field = 1`, "unknown field no_such_field at 1:8"},
		{`filter NO_SUCH_THING = 1`, "unknown field NO_SUCH_THING"},
		{`dataset = panw_ngfw_traffic_raw | filter x = 1`, "unsupported data source"},
		{`filter agent_hostname ~= "("`, "bad regular expression"},
		{`filter agent_ip_addresses incidr "10.0.0.0/99"`, "not a CIDR"},
		{`fields agent_hostname | filter actor_effective_username = "a"`, "not available here"},
		{`comp count() as n | filter agent_hostname = "x"`, "not available here"},
		{`sort desc nope`, "unknown field nope in sort"},
		{`filter timestamp_diff(_time, _time, "FORTNIGHT") = 1`, "unknown time unit"},
		{`filter lowercase(agent_hostname, 1) = "x"`, "wrong number of arguments"},
		{`config timeframe = 7x | filter agent_hostname = "x"`, "bad relative time"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = Compile(q, CompileOptions{Now: time.UnixMilli(4000)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile error = %v, want it to contain %q", err, tc.want)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *CompileError", err)
			}
		})
	}
}

func TestViewIgnoredWithNote(t *testing.T) {
	db, _ := beNewTestDB(t, beSemRows)
	res := beRunQuery(t, db, `filter agent_hostname = "h1" | view graph type = pie xaxis = agent_hostname`, RunOptions{})
	if len(res.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(res.Rows))
	}
	found := false
	for _, n := range res.Notes {
		if n.Code == "view-ignored" {
			found = true
		}
	}
	if !found {
		t.Errorf("notes %v lack view-ignored", res.Notes)
	}
}

func TestUnfilledFieldNote(t *testing.T) {
	db, _ := beNewTestDB(t, beSemRows)
	res := beRunQuery(t, db, `filter action_registry_key_name = null | fields agent_hostname, action_registry_value_name`, RunOptions{})
	if len(res.Rows) != 4 {
		t.Fatalf("%d rows, want 4", len(res.Rows))
	}
	n := 0
	for _, d := range res.Notes {
		if d.Code == "field-not-filled" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("notes %v: want 2 field-not-filled notes", res.Notes)
	}
}

func TestWindow(t *testing.T) {
	db, _ := beNewTestDB(t, beSemRows)
	// --now defaults to max(_time) = 4000 ms, never the wall clock.
	res := beRunQuery(t, db, `config timeframe = 1s | fields agent_hostname`, RunOptions{})
	if got := beProject(t, res, true, "agent_hostname"); got != "h3; h4" {
		t.Errorf("rows %s, want h3; h4", got)
	}
	if res.Window.From.UnixMilli() != 3000 || res.Window.To.UnixMilli() != 4000 || !strings.Contains(res.Window.Source, "config timeframe 1s") {
		t.Errorf("window %v", res.Window)
	}
	// An explicit --now moves the window.
	res = beRunQuery(t, db, `config timeframe = 1s | fields agent_hostname`, RunOptions{Now: time.UnixMilli(2000)})
	if got := beProject(t, res, true, "agent_hostname"); got != "H2; h1" {
		t.Errorf("rows %s, want H2; h1", got)
	}
	// --from/--to act as the time picker.
	res = beRunQuery(t, db, `fields agent_hostname`, RunOptions{From: time.UnixMilli(2000), To: time.UnixMilli(3000)})
	if got := beProject(t, res, true, "agent_hostname"); got != "H2; h3" {
		t.Errorf("rows %s, want H2; h3", got)
	}
	// A config timeframe overrides them.
	res = beRunQuery(t, db, `config timeframe between "begin" and "now" | fields agent_hostname`, RunOptions{From: time.UnixMilli(2000), To: time.UnixMilli(3000)})
	if len(res.Rows) != 4 {
		t.Errorf("%d rows, want 4", len(res.Rows))
	}
	res = beRunQuery(t, db, `fields agent_hostname`, RunOptions{})
	if res.Window.Source != "no time restriction" || len(res.Rows) != 4 {
		t.Errorf("window %v rows %d", res.Window, len(res.Rows))
	}
}

// FuzzCompileRun checks that every query the parser and the compiler
// accept runs as valid SQL: an SQLite error that names our SQL (syntax, an
// unknown column or function, a misuse) is a compiler bug.
func FuzzCompileRun(f *testing.F) {
	for _, tc := range beSemCases {
		f.Add(tc.query)
	}
	for _, tc := range foldCases {
		f.Add(tc.query)
	}
	f.Add(`join type = left (alter n = action_process_image_name | fields n) as o o.n = action_process_image_name and (agent_hostname = "h1" or o.n in ("x", "kik"))`)
	f.Add(`filter (action_process_image_path = "a/b" and x_channel = "y") or (action_process_image_path in ("c", "d") and agent_hostname contains "%_\")`)
	f.Add(`comp count() as n by agent_hostname | sort desc n | limit 1`)
	f.Add(`fields agent_hostname | join (fields agent_hostname as h) as r r.h = agent_hostname | union xdr_data`)
	f.Add(`dedup agent_hostname by desc _time | alter x = if(_time > 1, "a", "b") | fields x`)
	db, _ := beNewTestDB(f, beSemRows)
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			return
		}
		for _, ps := range []bool{false, true} {
			if _, err := Compile(q, CompileOptions{Now: time.UnixMilli(4000), PathSepInsensitive: ps}); err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := Run(ctx, db, q, RunOptions{PathSepInsensitive: ps})
			cancel()
			if err == nil {
				continue
			}
			for _, bad := range []string{"syntax error", "no such column", "no such function", "misuse", "ambiguous", "no such table", "wrong number of arguments"} {
				if strings.Contains(err.Error(), bad) {
					t.Fatalf("%q (path-sep %v): %v", src, ps, err)
				}
			}
		}
	})
}
