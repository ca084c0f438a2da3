package hunt

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestInspectVisitsEveryNode(t *testing.T) {
	src := `dataset = x | filter a = 1 and b in (dataset = y | filter c contains "z") | alter d = f(g -> h) | comp count(i) as n | join (dataset = z | filter j != null) as k k.l = -m | union (dataset = w | filter (o))`
	q, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var idents []string
	depth := 0
	Inspect(q, func(n Node) bool {
		if n == nil {
			depth--
			return false
		}
		depth++
		if id, ok := n.(*Ident); ok {
			idents = append(idents, id.Name)
		}
		return true
	})
	if depth != 0 {
		t.Errorf("f(nil) calls unbalanced: %d", depth)
	}
	want := "a b c g i j k.l m o"
	if got := strings.Join(idents, " "); got != want {
		t.Errorf("identifiers %q, want %q", got, want)
	}
	// Returning false skips the children.
	n := 0
	Inspect(q, func(n2 Node) bool {
		if n2 != nil {
			n++
		}
		return false
	})
	if n != 1 {
		t.Errorf("visited %d nodes with a false result, want 1", n)
	}
}

func TestSplitQueries(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // first word of each piece
	}{
		{"one query", "config case_sensitive = false\n| dataset = x\n| filter a = 1", []string{"config"}},
		{"two queries", "// first\nconfig case_sensitive = false\n| dataset = x\n\n// second\nconfig case_sensitive = false\n| dataset = y", []string{"config", "config"}},
		{"markdown rule", "dataset = x\n| filter a = 1\n---\ndataset = y", []string{"dataset", "dataset"}},
		{"config inside join is not a split", "dataset = x\n| join (\nconfig case_sensitive = false\n| dataset = y) as j j.a = a", []string{"dataset"}},
		{"dataset after a pipe is not a split", "config case_sensitive = false\n|\ndataset = x", []string{"config"}},
		{"comments only are dropped", "// nothing\n/* here */\n", nil},
		{"dataset mid-line is not a split", "datamodel dataset = x", []string{"datamodel"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			total := ""
			for _, piece := range SplitQueries(tc.src) {
				it := newLexer(piece, nil).next()
				got = append(got, it.Lit)
				total += piece
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pieces start with %q, want %q", got, tc.want)
			}
			if tc.want != nil && !strings.Contains(tc.src, strings.TrimSpace(total[:min(len(total), 20)])) {
				t.Errorf("pieces are not slices of the input")
			}
		})
	}
}

func TestDiagnosticString(t *testing.T) {
	d := Diagnostic{Pos: Pos{Offset: 3, Line: 2, Col: 4}, Severity: "warning", Code: LintUnknownField, Msg: "m"}
	if got, want := d.String(), "2:4: warning: m [unknown-field]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	e := &Error{Pos: Pos{Line: 3, Col: 7}, Msg: "bad"}
	if got := fmt.Sprint(ErrorList{e}); got != "3:7: bad" {
		t.Errorf("ErrorList.Error() = %q", got)
	}
}

func TestCaretCRLF(t *testing.T) {
	src := "dataset = x\r\n| filter a =\r\n| limit 1\r\n"
	_, err := Parse(src)
	if err == nil {
		t.Fatal("no error")
	}
	f := err.(ErrorList).Format(src)
	if want := "3:1: expected operand, found \"|\"\n| limit 1\n^\n"; f != want {
		t.Errorf("Format = %q, want %q", f, want)
	}
}
