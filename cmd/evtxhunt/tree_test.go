package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/normalize"
	"evtxhunt/report"
)

// treeTestDB stores userinit → explorer → cmd (double-clicked .bat) → net
// and net → net1 as Sysmon EID 1 records on host WS01; winlogon is absent
// (userinit names it) and net's command line carries an ANSI escape.
func treeTestDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tree.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := &evtx.Source{Path: `C:\logs\Sysmon.evtx`, SHA256: "00"}
	base := time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC)
	type proc struct {
		guid, pguid       string
		pid, ppid         int
		image, cmd, pimg  string
		pcmd              string
		secondsAfterStart int
	}
	procs := []proc{
		{"{00000000-0000-0000-0000-000000000001}", "{00000000-0000-0000-0000-000000000000}", 600, 500,
			`C:\Windows\System32\userinit.exe`, `C:\Windows\system32\userinit.exe`, `C:\Windows\System32\winlogon.exe`, "winlogon.exe", 1},
		{"{00000000-0000-0000-0000-000000000002}", "{00000000-0000-0000-0000-000000000001}", 4012, 600,
			`C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, `C:\Windows\System32\userinit.exe`, `C:\Windows\system32\userinit.exe`, 2},
		{"{00000000-0000-0000-0000-000000000003}", "{00000000-0000-0000-0000-000000000002}", 5120, 4012,
			`C:\Windows\System32\cmd.exe`, `C:\Windows\system32\cmd.exe /c ""C:\Users\bob\Downloads\x.bat" "`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, 3},
		{"{00000000-0000-0000-0000-000000000004}", "{00000000-0000-0000-0000-000000000003}", 6100, 5120,
			`C:\Windows\System32\net.exe`, "net use \x1b]8;;http://x\x07Z:\u202e", `C:\Windows\System32\cmd.exe`, "cmd", 4},
		{"{00000000-0000-0000-0000-000000000005}", "{00000000-0000-0000-0000-000000000004}", 6200, 6100,
			`C:\Windows\System32\net1.exe`, "net1 use", `C:\Windows\System32\net.exe`, "net use", 5},
	}
	var evs []normalize.Event
	for i, p := range procs {
		tm := base.Add(time.Duration(p.secondsAfterStart) * time.Second)
		r := &evtx.Record{Source: src, RecordID: uint64(100 + i), Time: tm, Channel: normalize.SysmonChannel,
			Provider: normalize.SysmonProvider, Computer: "WS01", EventID: 1, Version: 5, Data: map[string]string{
				"UtcTime": tm.Format("2006-01-02 15:04:05.000"), "ProcessGuid": p.guid, "ProcessId": strconv.Itoa(p.pid),
				"Image": p.image, "CommandLine": p.cmd, "User": `WS01\bob`, "ParentProcessGuid": p.pguid,
				"ParentProcessId": strconv.Itoa(p.ppid), "ParentImage": p.pimg, "ParentCommandLine": p.pcmd, "ParentUser": `WS01\bob`,
			}}
		ev, err := normalize.FromRecord(r, normalize.MapOptions{})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := st.Insert(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RebuildAncestry(ctx, normalize.AncestryOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTreeCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &TreeCommand{env: Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}}
	err = c.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

// treeRawControls reports a character that would act on a terminal.
func treeRawControls(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return true
		}
	}
	return false
}

func TestTreeCommand(t *testing.T) {
	db := treeTestDB(t)
	// Expected lines written from the scenario: every process of the chain
	// is a spawner or the child of one, so each is a causality root; net and
	// net1 inherit cmd's group.
	want := []string{
		`# net.exe [6100], row 4`,
		`winlogon.exe [500]  ~`,
		`  userinit.exe [600]  2024-03-05 09:00:01.000 UTC  [causality root]  [spawner]  (WS01\bob)  C:\Windows\system32\userinit.exe`,
		`    explorer.exe [4012]  2024-03-05 09:00:02.000 UTC  [causality root]  [spawner]  (WS01\bob)  C:\Windows\Explorer.EXE`,
		`      cmd.exe [5120]  2024-03-05 09:00:03.000 UTC  [causality root]  (WS01\bob)  C:\Windows\system32\cmd.exe /c ""C:\Users\bob\Downloads\x.bat" "`,
		`        net.exe [6100]  2024-03-05 09:00:04.000 UTC  <== match  (WS01\bob)  net use \x1b]8;;http://x\aZ:\u202e`,
		`          net1.exe [6200]  2024-03-05 09:00:05.000 UTC  (WS01\bob)  net1 use`,
	}
	out, _, err := runTreeCmd(t, "--db", db, "--pid", "0x17d4")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), out)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want[i])
		}
	}
	if !strings.Contains(lines[1], "[synthetic]") || !strings.Contains(lines[1], "[causality root]") {
		t.Errorf("synthetic winlogon line: %q", lines[1])
	}
	if treeRawControls(out) {
		t.Errorf("raw control characters in output: %q", out)
	}

	t.Run("from-cgo", func(t *testing.T) {
		out, _, err := runTreeCmd(t, "--db", db, "--match", `\X.BAT`, "--from-cgo", "--sources")
		if err != nil {
			t.Fatal(err)
		}
		// cmd's start row has causality actor explorer, shown from its parent.
		if !strings.HasPrefix(out, "# cmd.exe [5120], row 3\nuserinit.exe [600]") || !strings.Contains(out, `evidence: C:\logs\Sysmon.evtx#102`) {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("children limit", func(t *testing.T) {
		out, _, err := runTreeCmd(t, "--db", db, "--match", "net use", "--children", "0")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "net1.exe") || !strings.Contains(out, "... 1 more children not shown ...") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("host filter", func(t *testing.T) {
		if _, _, err := runTreeCmd(t, "--db", db, "--host", "WS02", "--pid", "6100"); err == nil || !strings.Contains(err.Error(), "no process start") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestTreeCommandUsage(t *testing.T) {
	db := treeTestDB(t)
	tests := []struct {
		name string
		args []string
	}{
		{"no db", []string{"--pid", "1"}},
		{"no selector", []string{"--db", db}},
		{"two selectors", []string{"--db", db, "--pid", "1", "--match", "x"}},
		{"bad pid", []string{"--db", db, "--pid", "abc"}},
		{"extra argument", []string{"--db", db, "--pid", "1", "more"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := runTreeCmd(t, tc.args...); !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want errUsage", err)
			}
		})
	}
	if _, _, err := runTreeCmd(t, "--db", filepath.Join(t.TempDir(), "missing.db"), "--pid", "1"); err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing database: err = %v", err)
	}
}

func TestReportTree(t *testing.T) {
	ctx := context.Background()
	st, err := normalize.Open(ctx, treeTestDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.FindProcesses(ctx, normalize.ProcessQuery{PID: 6100, HasPID: true})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, err %v", rows, err)
	}
	nt, err := st.ProcessTree(ctx, rows[0])
	if err != nil {
		t.Fatal(err)
	}
	rt := report.TreeFromStore(nt)
	// explorer (the causality actor's parent) > cmd > net (match) > net1.
	var names []string
	for n := rt; n != nil; {
		mark := ""
		if n.IsMatch {
			mark = "*"
		}
		if n.CausalityRoot {
			mark += "^"
		}
		names = append(names, n.Name+mark)
		if len(n.Children) == 0 {
			break
		}
		n = n.Children[0]
	}
	if got, want := strings.Join(names, " > "), "explorer.exe^ > cmd.exe^ > net.exe* > net1.exe"; got != want {
		t.Errorf("report tree %q, want %q", got, want)
	}
	if report.TreeFromStore(nil) != nil {
		t.Errorf("nil tree converted to non-nil")
	}
}
