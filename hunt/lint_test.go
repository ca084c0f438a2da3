package hunt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// seedQuery returns the ```xql fence of the seed hunt document, byte for byte.
func seedQuery(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(evtxtest.SharedDir(t), "docs", "seed-hunt-batch-from-archive-webdav.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```xql\n")
	if start < 0 {
		t.Fatal("no ```xql fence in the seed document")
	}
	body := doc[start+len("```xql\n"):]
	end := strings.Index(body, "```")
	if end < 0 {
		t.Fatal("unterminated fence in the seed document")
	}
	return body[:end]
}

type wantDiag struct {
	line, col int
	severity  string
	code      string
	msg       string // substring
}

func checkDiags(t *testing.T, src string, got []Diagnostic, want []wantDiag) {
	t.Helper()
	if len(got) != len(want) {
		var b strings.Builder
		for _, d := range got {
			b.WriteString(d.String() + "\n")
		}
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(want), b.String())
	}
	for i, w := range want {
		d := got[i]
		if d.Pos.Line != w.line || d.Pos.Col != w.col || d.Severity != w.severity || d.Code != w.code || !strings.Contains(d.Msg, w.msg) {
			t.Errorf("diagnostic %d = %s\nwant %d:%d: %s: …%s… [%s]\n%s", i, d, w.line, w.col, w.severity, w.msg, w.code, Caret(src, d.Pos))
		}
		checkPos(t, src, d.Pos)
	}
}

// TestLintSeed checks the seed hunt: the positions below were counted by
// hand in the seed document's query.
func TestLintSeed(t *testing.T) {
	src := seedQuery(t)
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("seed query: %v", err)
	}
	if len(q.Stages) != 5 {
		t.Fatalf("seed has %d stages, want 5 (config, dataset, filter, fields, sort)", len(q.Stages))
	}
	checkDiags(t, src, Lint(q, LintOptions{}), []wantDiag{
		{12, 47, "warning", LintScriptImage, `compared with ".bat", but a script is never the process image: .bat files run in cmd.exe`},
		{15, 9, "warning", LintCmdImageTemp, `cmd.exe's image is C:\Windows\System32\cmd.exe, never under Temp or Downloads; the batch path is in its command line`},
		{15, 44, "warning", LintForwardSlash, `"/temp/"`},
		{16, 47, "warning", LintForwardSlash, `"/appdata/local/temp/"`},
		{17, 47, "warning", LintForwardSlash, `"/downloads/"`},
		{28, 49, "warning", Lint7zConsole, `7zFM.exe`},
	})
	// With --path-sep-insensitive the slash warnings become notes.
	checkDiags(t, src, Lint(q, LintOptions{PathSepInsensitive: true}), []wantDiag{
		{12, 47, "warning", LintScriptImage, `.bat`},
		{15, 9, "warning", LintCmdImageTemp, `cmd.exe`},
		{15, 44, "note", LintForwardSlash, `compared with \ and / treated as equal`},
		{16, 47, "note", LintForwardSlash, `treated as equal`},
		{17, 47, "note", LintForwardSlash, `treated as equal`},
		{28, 49, "warning", Lint7zConsole, `7zG.exe`},
	})
}

func TestLint(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{"clean backslash hunt", `dataset = xdr_data | filter action_process_image_path contains "\Temp\" and actor_process_image_name in ("7zFM.exe", "7zG.exe")`, nil},
		{"slash in cwd", `dataset = xdr_data | filter action_process_cwd contains "/ProgramData/x/"`,
			[]wantDiag{{1, 57, "warning", LintForwardSlash, `write "\ProgramData\x\"`}}},
		{"slash exe suffix", `dataset = xdr_data | filter actor_process_image_path contains "/cmd.exe"`,
			[]wantDiag{{1, 63, "warning", LintForwardSlash, `"/cmd.exe"`}}},
		{"url is not a path", `dataset = xdr_data | filter action_process_image_command_line contains "https://x.trycloudflare.com/a/"`, nil},
		{"switch is not a path", `dataset = xdr_data | filter action_process_image_command_line contains "/c " or action_process_image_command_line contains "/dest:rdp"`, nil},
		{"command-line switches", `dataset = xdr_data | filter actor_process_command_line = "*/online /enable-feature /featurename:X"`, nil},
		{"both-platforms regex", `dataset = xdr_data | filter action_process_image_path ~= "(?i)(\\Downloads\\|/Downloads/)"`, nil},
		{"slash segment in command line", `dataset = xdr_data | filter action_process_image_command_line contains "/appdata/roaming/"`,
			[]wantDiag{{1, 72, "warning", LintForwardSlash, `"/appdata/roaming/"`}}},
		{"unix path inside a command line", `dataset = xdr_data | filter action_process_image_command_line contains "UserKnownHostsFile=/dev/null"`, nil},
		{"unix path", `dataset = xdr_data | filter action_process_image_path = "/tmp/httpd/"`, nil},
		{"linux hunt", `dataset = xdr_data | filter agent_os_type = ENUM.AGENT_OS_LINUX and action_process_image_path contains "/dev/shm/x/"`, nil},
		{"slash not a path field", `dataset = xdr_data | filter action_process_image_name contains "/temp/"`, nil},
		{"lowercase wrapper", `dataset = xdr_data | filter lowercase(action_process_image_path) contains "/downloads/"`,
			[]wantDiag{{1, 75, "warning", LintForwardSlash, `"/downloads/"`}}},
		{"ps1 image in list", `dataset = xdr_data | filter actor_process_image_name in ("a.exe", "*.ps1")`,
			[]wantDiag{{1, 67, "warning", LintScriptImage, `.ps1 files run in powershell.exe; look for the script in actor_process_command_line`}}},
		{"negated script is fine", `dataset = xdr_data | filter action_process_image_name != "x.bat"`, nil},
		{"bat in command line is fine", `dataset = xdr_data | filter action_process_image_command_line contains ".bat"`, nil},
		{"7z with GUIs listed", `dataset = xdr_data | filter causality_actor_process_image_name in ("7z.exe", "7zFM.exe")`, nil},
		{"7z launched is fine", `dataset = xdr_data | filter action_process_image_name = "7z.exe"`, nil},
		{"7z parent path", `dataset = xdr_data | filter actor_process_image_path contains "\7z.exe"`,
			[]wantDiag{{1, 63, "warning", Lint7zConsole, `console program`}}},
		{"cmd temp across filters", "dataset = xdr_data\n| filter action_process_image_name = \"cmd.exe\"\n| filter action_process_image_path contains \"\\Downloads\\\"",
			[]wantDiag{{3, 10, "warning", LintCmdImageTemp, `never under Temp or Downloads`}}},
		{"cmd temp needs all alternatives", `dataset = xdr_data | filter action_process_image_name = "cmd.exe" and (action_process_image_path contains "\Temp\" or action_process_image_path contains "\Tools\")`, nil},
		{"unknown field", `dataset = xdr_data | filter action_process_image_commandline contains "x"`,
			[]wantDiag{{1, 29, "warning", LintUnknownField, `did you mean action_process_image_command_line?`}}},
		{"provenance columns are known", `dataset = xdr_data | filter x_cgo_rule = "inherited" and x_recovered = 1 | fields x_ancestry, x_source_path`, nil},
		{"alter and comp names", `dataset = xdr_data | alter cmd = lowercase(action_process_image_command_line) | comp count() as n by cmd | filter n > 1 | sort desc n`, nil},
		{"fields as", `dataset = xdr_data | fields agent_hostname as host | filter host = "a" | sort desc _time`, nil},
		{"dropped by fields", "dataset = xdr_data | fields agent_hostname | filter agent_id = \"1\"",
			[]wantDiag{{1, 53, "warning", LintUnknownField, `fields stage at 1:22 keeps only`}}},
		{"dropped by comp", "dataset = xdr_data | comp count() as n by agent_hostname | sort desc _product | filter agent_id = \"x\"",
			[]wantDiag{{1, 88, "warning", LintUnknownField, `comp stage at 1:22`}}},
		{"bare enum", `dataset = xdr_data | filter event_type = PROCESS and event_sub_type in (PROCESS_START)`, nil},
		{"other dataset", `dataset = panw_ngfw_traffic_raw | filter whatever = 1`, nil},
		{"join alias", `dataset = xdr_data | join (dataset = xdr_data | fields agent_id, actor_process_image_name as p) as j j.agent_id = agent_id | filter p = "x"`, nil},
		{"never filled signature", `dataset = xdr_data | filter actor_process_signature_status = ENUM.SIGNED | fields actor_process_signature_vendor`,
			[]wantDiag{
				{1, 29, "warning", LintNeverFilled, `no Authenticode signature`},
				{1, 83, "warning", LintNeverFilled, `actor_process_signature_vendor`},
			}},
		{"never filled not stored", `dataset = xdr_data | filter action_file_path contains "x" and action_file_path != "y"`,
			[]wantDiag{{1, 29, "warning", LintNeverFilled, `does not store`}}},
		{"unsupported stage opens scope", `dataset = xdr_data | iploc action_remote_ip loc_country | filter loc_country = "FR"`, nil},
		{"in sub-query", `dataset = xdr_data | filter agent_id in (dataset = xdr_data | fields agent_id)`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkDiags(t, tc.src, Lint(q, LintOptions{}), tc.want)
		})
	}
}
