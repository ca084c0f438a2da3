package hunt

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that error positions point into
// the input, and that for every input that parses, Parse(q.String()) parses
// to the same AST and prints the same text again.
func FuzzParse(f *testing.F) {
	for _, s := range valids {
		f.Add(s)
	}
	for _, s := range invalids {
		f.Add(s)
	}
	for _, e := range loadPublicQueries(f) {
		for _, q := range entryQueries(e.Query) {
			f.Add(q)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if q == nil {
			t.Fatal("Parse returned a nil query")
		}
		if err != nil {
			list, ok := err.(ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			for i, e := range list {
				checkPos(t, src, e.Pos)
				if i > 0 && (list[i-1].Pos.Offset > e.Pos.Offset || list[i-1].Pos.Line == e.Pos.Line) {
					t.Fatalf("errors not sorted or not one per line: %v", list)
				}
			}
			_ = list.Format(src)
			return
		}
		printed := q.String()
		q2, err := Parse(printed)
		if err != nil {
			t.Fatalf("printed query does not parse: %v\nsource: %q\nprinted: %q", err, src, printed)
		}
		if again := q2.String(); again != printed {
			t.Fatalf("printing is not stable\nfirst:  %q\nsecond: %q", printed, again)
		}
		if !sameAST(q, q2) {
			t.Fatalf("round trip changed the AST\nsource: %q\nprinted: %q", src, printed)
		}
	})
}

// checkPos verifies that pos is a valid position of src.
func checkPos(t *testing.T, src string, pos Pos) {
	t.Helper()
	if pos.Offset < 0 || pos.Offset > len(src) {
		t.Fatalf("position %+v outside the input (%d bytes)", pos, len(src))
	}
	line := 1 + strings.Count(src[:pos.Offset], "\n")
	col := pos.Offset - (strings.LastIndexByte(src[:pos.Offset], '\n') + 1) + 1
	if pos.Line != line || pos.Col != col {
		t.Fatalf("position %+v, want line %d col %d", pos, line, col)
	}
}
