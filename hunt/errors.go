package hunt

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is a syntax error at a position of the query text.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "line:col: msg".
func (e *Error) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// ErrorList is a list of syntax errors, sorted by position by Parse. It
// implements error.
type ErrorList []*Error

// Add appends an error.
func (l *ErrorList) Add(pos Pos, msg string) {
	*l = append(*l, &Error{Pos: pos, Msg: msg})
}

// Len, Swap and Less implement sort.Interface.
func (l ErrorList) Len() int { return len(l) }

// Swap implements sort.Interface.
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }

// Less orders errors by offset, then by message.
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i], l[j]
	if a.Pos.Offset != b.Pos.Offset {
		return a.Pos.Offset < b.Pos.Offset
	}
	return a.Msg < b.Msg
}

// Sort sorts the list by position.
func (l ErrorList) Sort() { sort.Stable(l) }

// RemoveMultiples sorts the list and keeps only the first error of each line.
func (l *ErrorList) RemoveMultiples() {
	l.Sort()
	var last int
	i := 0
	for _, e := range *l {
		if i == 0 || e.Pos.Line != last {
			last = e.Pos.Line
			(*l)[i] = e
			i++
		}
	}
	*l = (*l)[:i]
}

// Error returns the first error and the number of others.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns nil for an empty list and the list otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Format writes every error as "line:col: msg", followed by the query line
// and a caret under the column. Control characters of the query are shown
// as "?" so a hostile query cannot drive the terminal.
func (l ErrorList) Format(src string) string {
	var b strings.Builder
	for _, e := range l {
		b.WriteString(e.Error())
		b.WriteByte('\n')
		b.WriteString(Caret(src, e.Pos))
	}
	return b.String()
}

// Caret returns the source line of pos (neutralised: control characters
// become "?") and a second line with a caret under the column, both ending
// in a newline. It returns "" when pos is not inside src.
func Caret(src string, pos Pos) string {
	if !pos.IsValid() || pos.Offset < 0 || pos.Offset > len(src) {
		return ""
	}
	start := pos.Offset - (pos.Col - 1)
	if start < 0 || start > len(src) {
		return ""
	}
	end := strings.IndexByte(src[start:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += start
	}
	line := strings.TrimSuffix(src[start:end], "\r")
	var text, pad strings.Builder
	for i, r := range line {
		clean := r
		if r != '\t' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError) {
			clean = '?'
		}
		text.WriteRune(clean)
		if i < pos.Col-1 {
			if r == '\t' {
				pad.WriteByte('\t')
			} else {
				pad.WriteByte(' ')
			}
		}
	}
	return text.String() + "\n" + pad.String() + "^\n"
}
