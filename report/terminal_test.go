package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

func TestTerminalGolden(t *testing.T) {
	tests := []struct {
		name string
		opt  TerminalOptions
	}{
		{"b7zip-120.golden.txt", TerminalOptions{Width: 120}},
		{"b7zip-wide.golden.txt", TerminalOptions{Width: 120, Wide: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Terminal(&buf, scenarioB7zip(), tc.opt); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, buf.Bytes())
		})
	}
}

// Every line of a width-limited table fits the width, and a cut table says so.
func TestTableFitsWidth(t *testing.T) {
	for _, width := range []int{60, 80, 100, 120, 160} {
		t.Run(itoa(int64(width)), func(t *testing.T) {
			r := scenarioB7zip()
			var buf bytes.Buffer
			if err := Table(&buf, &r.Hunts[0], nil, TerminalOptions{Width: width}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
			for _, l := range lines {
				if strings.HasPrefix(l, "   (") {
					continue
				}
				// The narrowest possible table: the whole time column and every
				// other column as wide as its header (at least minCellWidth).
				limit := max(width, tableOverhead(7)+23+6+6+7+12+6+15)
				if w := twwidth.Width(l); w > limit {
					t.Errorf("line is %d columns wide, limit %d: %s", w, limit, l)
				}
			}
			if !strings.Contains(buf.String(), "--wide shows them whole") {
				t.Errorf("a cut table must say how to see it whole:\n%s", buf.String())
			}
		})
	}
}

// Evidence with terminal escapes never reaches the terminal raw, in the
// table, the hunt header or the summary.
func TestTerminalNeutralizesEvidence(t *testing.T) {
	hostile := []struct{ name, cmdline, want string }{
		{"ANSI colour", "cmd.exe /c \x1b[32mOK\x1b[0m", `cmd.exe /c \x1b[32mOK\x1b[0m`},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\notepad.exe\x1b]8;;\x1b\\", `\x1b]8;;https://evil.example/\x1b\notepad.exe\x1b]8;;\x1b\`},
		{"cursor up erase", "evil.exe\x1b[1A\x1b[2K", `evil.exe\x1b[1A\x1b[2K`},
		{"carriage return", "evil.exe\rcalc.exe", `evil.exe\rcalc.exe`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"bidi override", "Invoice_\u202etxt.bat", `Invoice_\u202etxt.bat`},
	}
	r := &Report{Title: "t\x1b]0;title\x07", Version: "v", Hunts: []HuntResult{{
		ID: "H\x1b[2J", Title: "T\r", Severity: "high", Error: "boom\x1b[5m",
		Lint: []LintFinding{{Pos: "1:1", Severity: "warning", Msg: "m\x07"}},
	}}}
	for _, h := range hostile {
		r.Hunts[0].Matches = append(r.Hunts[0].Matches, Match{
			Time: at("2025-06-30 09:14:05.402"), Host: "WS\x1b[8m", User: "u\u2028", Process: "p\x7f",
			CommandLine: h.cmdline, Parent: "cmd.exe", CausalityActor: "explorer.exe",
		})
	}
	r.Health.Files = []FileHealth{{Path: "x\x1b[31m.evtx", Status: FileFailed, Reason: "bad\rreason"}}
	var buf bytes.Buffer
	if err := Terminal(&buf, r, TerminalOptions{Wide: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkTerminalSafe(t, "report", out, true)
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			if !strings.Contains(out, h.want) {
				t.Errorf("output lacks the visible escape %q:\n%s", h.want, out)
			}
		})
	}
	for _, want := range []string{`t\x1b]0;title\a`, `H\x1b[2J`, `boom\x1b[5m`, `m\a`, `x\x1b[31m.evtx: bad\rreason`, `WS\x1b[8m`, `u\u2028`, `p\x7f`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestTerminalTimeZone(t *testing.T) {
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	r := scenarioB7zip()
	r.TZ = prague
	var buf bytes.Buffer
	if err := Terminal(&buf, r, TerminalOptions{Wide: true}); err != nil {
		t.Fatal(err)
	}
	// 09:14:05.402 UTC is 11:14:05.402 in Prague in summer (CEST, UTC+2).
	for _, want := range []string{"times shown in Europe/Prague", "TIME (Europe/Prague)", "2025-06-30 11:14:05.402 +02:00"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
		cut   bool
	}{
		{"abcdef", 6, "abcdef", false},
		{"abcdefg", 6, "abcde…", true},
		{"請求書請求書", 5, "請求…", true},
		{`C:\x1b`, 4, `C:\…`, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, cut := truncate(tc.in, tc.width)
			if got != tc.want || cut != tc.cut {
				t.Errorf("truncate(%q, %d) = %q, %v; want %q, %v", tc.in, tc.width, got, cut, tc.want, tc.cut)
			}
		})
	}
}

// Without a width (a pipe or a file) nothing is cut, exactly as with Wide.
func TestTerminalNoWidthIsWide(t *testing.T) {
	var wide, none bytes.Buffer
	if err := Terminal(&wide, scenarioB7zip(), TerminalOptions{Width: 80, Wide: true}); err != nil {
		t.Fatal(err)
	}
	if err := Terminal(&none, scenarioB7zip(), TerminalOptions{}); err != nil {
		t.Fatal(err)
	}
	if wide.String() != none.String() {
		t.Errorf("Width 0 output differs from Wide output")
	}
	if strings.Contains(none.String(), "…") {
		t.Errorf("Width 0 output has cut cells")
	}
}
