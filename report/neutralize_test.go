package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The expectations below are written by hand from the escape rules in the
// Neutralize doc comment, not copied from its output.
func TestNeutralize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain windows path stays", `C:\Windows\system32\cmd.exe /c ""C:\Users\a.novak\x.bat" "`, `C:\Windows\system32\cmd.exe /c ""C:\Users\a.novak\x.bat" "`},
		{"non-ASCII letters stay", "Rechnung_Müller_請求書.bat", "Rechnung_Müller_請求書.bat"},
		{"ANSI colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"OSC 8 hyperlink with ST", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", `\x1b]8;;https://evil.example/\x1b\click\x1b]8;;\x1b\`},
		{"OSC 8 hyperlink with BEL", "\x1b]8;;http://x/\x07y\x1b]8;;\x07", `\x1b]8;;http://x/\ay\x1b]8;;\a`},
		{"window title OSC 0", "\x1b]0;pwned\x07", `\x1b]0;pwned\a`},
		{"cursor up and erase line", "benign\x1b[1A\x1b[2Kevil", `benign\x1b[1A\x1b[2Kevil`},
		{"carriage return overwrite", "cmd.exe /c evil\rnotepad.exe", `cmd.exe /c evil\rnotepad.exe`},
		{"named C0", "a\tb\nc\vd\fe\bf\ag", `a\tb\nc\vd\fe\bf\ag`},
		{"NUL and other C0", "a\x00b\x01c\x1fd", `a\x00b\x01c\x1fd`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI as a character", "a\u009b31mb", `a\u009b31mb`},
		{"C1 NEL", "a\u0085b", `a\u0085b`},
		{"raw C1 byte (invalid UTF-8)", "a\x9b31mb", `a\x9b31mb`},
		{"truncated UTF-8", "a\xe2\x80", `a\xe2\x80`},
		{"line separator", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"bidi override hides extension", "Invoice_\u202egpj.bat", `Invoice_\u202egpj.bat`},
		{"bidi embeddings and isolates", "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"bidi marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"zero-width space and BOM", "ne\u200bt\ufeff", `ne\u200bt\ufeff`},
		{"tag character (astral Cf)", "x\U000e0041", `x\U000e0041`},
		{"replacement character itself stays", "a\ufffdb", "a\ufffdb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Neutralize(tc.in); got != tc.want {
				t.Errorf("Neutralize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNeutralizeLinesKeepsNewlineOnly(t *testing.T) {
	got := neutralizeLines("line one\nline\r two\x1b[2J\n")
	want := "line one\nline\\r two\\x1b[2J\n"
	if got != want {
		t.Errorf("neutralizeLines\n got %q\nwant %q", got, want)
	}
}

// checkTerminalSafe fails when s holds anything a terminal could act on.
func checkTerminalSafe(t *testing.T, in, s string, allowNewline bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("output of %q is not valid UTF-8: %q", in, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && !(allowNewline && c == '\n')) || c == 0x7f {
			t.Fatalf("output of %q holds byte %#x at %d: %q", in, c, i, s)
		}
	}
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Fatalf("output of %q holds %U: %q", in, r, s)
		}
	}
}

func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{
		"", "plain", "\x1b[31mred\x1b[0m", "\x1b]8;;https://x/\x1b\\y\x1b]8;;\x1b\\", "a\rb", "\x9b", "\u009b",
		"\u202e\u2066", "\u2028", "\xff\xfe", "\xed\xa0\x80", "tab\there\nnew",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Neutralize(s)
		checkTerminalSafe(t, s, out, false)
		checkTerminalSafe(t, s, neutralizeLines(s), true)
		if utf8.ValidString(s) && !strings.ContainsFunc(s, needsEscape) && out != s {
			t.Fatalf("inert input %q changed to %q", s, out)
		}
		var joined strings.Builder
		for _, seg := range segments(s, false) {
			joined.WriteString(seg.Text)
		}
		if joined.String() != out {
			t.Fatalf("segments of %q join to %q, Neutralize gives %q", s, joined.String(), out)
		}
	})
}

func TestSegments(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		keepNewline bool
		want        []segment
	}{
		{"empty", "", false, nil},
		{"plain", `C:\x.bat`, false, []segment{{`C:\x.bat`, false}}},
		{"escape in the middle", "a\x1b[31mb", false, []segment{{"a", false}, {`\x1b`, true}, {"[31mb", false}}},
		{"adjacent escapes merge", "\r\n", false, []segment{{`\r\n`, true}}},
		{"newline kept", "a\nb\u202e", true, []segment{{"a\nb", false}, {`\u202e`, true}}},
		{"invalid byte at end", "ok\xff", false, []segment{{"ok", false}, {`\xff`, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := segments(tc.in, tc.keepNewline)
			if len(got) != len(tc.want) {
				t.Fatalf("segments(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("segments(%q) = %+v, want %+v", tc.in, got, tc.want)
				}
			}
		})
	}
}
