package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/normalize"
)

// queryTestDB writes a database with normalize's schema and two hand-made
// rows, one full of terminal control characters.
func queryTestDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{int64(1000), "host1", `C:\Users\u\AppData\Local\Temp\cmd.exe`, "evil\x1b[31mred\x7f\u009bend\nline2"},
		{int64(2000), "host2", `C:\Windows\System32\cmd.exe`, "plain"},
	}
	for _, r := range rows {
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO xdr_data (_time, agent_hostname, action_process_image_path, action_process_image_command_line, event_type) VALUES (?, ?, ?, ?, 1)`, r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runQueryCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &QueryCommand{env: Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}}
	err = c.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

// rawControls reports a byte or rune that would act on a terminal.
func rawControls(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return true
		}
	}
	return false
}

func TestQueryTableNeutralisesControls(t *testing.T) {
	db := queryTestDB(t)
	out, errOut, err := runQueryCmd(t, "--db", db, `filter agent_hostname = "host1" | fields agent_hostname, action_process_image_command_line, event_type`)
	if err != nil {
		t.Fatalf("query: %v\n%s", err, errOut)
	}
	if rawControls(out) || rawControls(errOut) {
		t.Errorf("raw control characters reached the output:\n%q", out)
	}
	for _, want := range []string{"host1", `\x1b[31mred`, "PROCESS", "agent_hostname", "action_process_image_command_line"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "1 row(s)") || !strings.Contains(errOut, "window: ") {
		t.Errorf("stderr lacks the row count or window:\n%s", errOut)
	}
}

func TestQueryJSONKeepsExactText(t *testing.T) {
	db := queryTestDB(t)
	for _, format := range []string{"json", "jsonl"} {
		out, errOut, err := runQueryCmd(t, "--db", db, "--format", format, `filter agent_hostname = "host1" | fields agent_hostname, action_process_image_command_line`)
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, errOut)
		}
		if rawControls(strings.ReplaceAll(out, "\n", "")) {
			t.Errorf("%s: raw control characters in %q", format, out)
		}
		var rows []map[string]any
		if format == "json" {
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
		} else {
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &m); err != nil {
				t.Fatalf("jsonl: %v\n%s", err, out)
			}
			rows = append(rows, m)
		}
		if len(rows) != 1 || rows[0]["action_process_image_command_line"] != "evil\x1b[31mred\x7f\u009bend\nline2" {
			t.Errorf("%s: rows %q", format, rows)
		}
		if rows[0]["_time"] != "1970-01-01T00:00:01.000Z" {
			t.Errorf("%s: _time = %v", format, rows[0]["_time"])
		}
	}
}

func TestQueryCSVAndFile(t *testing.T) {
	db := queryTestDB(t)
	qf := filepath.Join(t.TempDir(), "q.xql")
	if err := os.WriteFile(qf, []byte("// a comment\nfilter action_process_image_path contains \"\\temp\\\"\n| fields agent_hostname\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runQueryCmd(t, "--db", db, "--format", "csv", "-f", qf)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0][0] != "agent_hostname" || recs[1][0] != "host1" {
		t.Errorf("csv = %q", recs)
	}
}

func TestQueryPathSepFlag(t *testing.T) {
	db := queryTestDB(t)
	q := `filter action_process_image_path contains "/temp/" | fields agent_hostname`
	out, errOut, err := runQueryCmd(t, "--db", db, "--format", "jsonl", q)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("faithful: out %q err %v\n%s", out, err, errOut)
	}
	if !strings.Contains(errOut, "forward") && !strings.Contains(errOut, "/") {
		t.Errorf("no lint warning on stderr: %s", errOut)
	}
	out, errOut, err = runQueryCmd(t, "--db", db, "--format", "jsonl", "--path-sep-insensitive", q)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &m); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if m["path_sep_only"] != true || m["agent_hostname"] != "host1" {
		t.Errorf("row %v", m)
	}
	if !strings.Contains(errOut, "1 matched only with --path-sep-insensitive") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestQueryExplain(t *testing.T) {
	db := queryTestDB(t)
	out, errOut, err := runQueryCmd(t, "--db", db, "--explain", "--now", "1970-01-01T00:00:10Z", "config timeframe = 5s | filter agent_hostname = \"it's \x1b\"")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{"WITH ", "-- window: [1970-01-01T00:00:05Z, 1970-01-01T00:00:10Z]", `-- ?`, `"it's \x1b"`} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out[max(0, len(out)-600):])
		}
	}
	if rawControls(out) {
		t.Errorf("raw control characters in explain output")
	}
	if strings.Contains(out, "host1") {
		t.Errorf("explain ran the query")
	}
}

func TestQueryErrors(t *testing.T) {
	db := queryTestDB(t)
	cases := []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{`filter x = 1`}, true, "--db is required"},
		{[]string{"--db", db}, true, "no query"},
		{[]string{"--db", db, "-f", "x.xql", "filter a = 1"}, true, "not both"},
		{[]string{"--db", db, "--format", "xml", "filter a = 1"}, true, "unknown --format"},
		{[]string{"--db", db, "--now", "yesterday", "filter a = 1"}, true, "--now"},
		{[]string{"--db", db, `filter agent_hostname = "x" | bin _time span = 1h`}, false, "unsupported stage bin at 1:"},
		{[]string{"--db", db, `filter agent_hostname = `}, false, "syntax error"},
		{[]string{"--db", filepath.Join(t.TempDir(), "missing.db"), `filter agent_hostname = "x"`}, false, "missing.db"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runQueryCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, errUsage) != tc.usage {
				t.Errorf("errors.Is(err, errUsage) = %v, want %v", !tc.usage, tc.usage)
			}
		})
	}
}
