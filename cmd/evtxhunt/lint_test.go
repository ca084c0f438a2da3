package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

func runLint(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	code = run(context.Background(), env, append([]string{"lint"}, args...))
	return code, out.String(), errb.String()
}

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.xql")
	if err := os.WriteFile(clean, []byte("dataset = xdr_data\n| filter action_process_image_path contains \"\\Temp\\\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
	}{
		{"clean file", "", []string{clean}, 0, ""},
		{"warning on stdin", "dataset = xdr_data\n| filter action_process_cwd contains \"/temp/\"", []string{"-"}, 1,
			"<stdin>:2:38: warning: forward-slash path literal \"/temp/\" compared with Windows path field action_process_cwd"},
		{"note only", "dataset = xdr_data\n| filter action_process_cwd contains \"/temp/\"", []string{"--path-sep-insensitive", "-"}, 0,
			"<stdin>:2:38: note: forward-slash path literal \"/temp/\""},
		{"syntax error", "dataset = xdr_data\n| stats count()", []string{"-"}, 2,
			"<stdin>:2:3: error: unknown stage \"stats\"\n| stats count()\n  ^\n"},
		{"no argument", "", nil, 2, ""},
		{"missing file", "", []string{filepath.Join(dir, "nope.xql")}, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runLint(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errs)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, out)
			}
		})
	}
}

// TestLintCommandSeed lints the seed hunt's query (the ```xql fence of the
// seed document) and checks the six findings and the caret lines.
func TestLintCommandSeed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(evtxtest.SharedDir(t), "docs", "seed-hunt-batch-from-archive-webdav.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```xql\n") + len("```xql\n")
	end := start + strings.Index(doc[start:], "```")
	code, out, _ := runLint(t, doc[start:end], "-")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"<stdin>:12:47: warning: action_process_image_name compared with \".bat\"",
		"<stdin>:15:9: warning: cmd.exe's image is C:\\Windows\\System32\\cmd.exe, never under Temp or Downloads",
		"<stdin>:15:44: warning: forward-slash path literal \"/temp/\"",
		"<stdin>:16:47: warning: forward-slash path literal \"/appdata/local/temp/\"",
		"<stdin>:17:47: warning: forward-slash path literal \"/downloads/\"",
		"<stdin>:28:49: warning: causality_actor_process_image_name compared with \"7z.exe\"",
		"        or causality_actor_process_image_name = \"7z.exe\"\n" + strings.Repeat(" ", 48) + "^\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(out, ": warning: "); n != 6 {
		t.Errorf("%d warnings, want 6:\n%s", n, out)
	}
}
