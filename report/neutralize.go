package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Neutralize returns s with every character that could control a terminal,
// or hide or reorder text on it, replaced by a visible escape, so evidence
// can be printed without the terminal acting on it:
//
//   - C0 controls and DEL: \a \b \t \n \v \f \r by name, the rest as \xHH
//     (ESC is \x1b, so ANSI colour, cursor moves and OSC 8 hyperlinks show
//     as text);
//   - C1 controls U+0080–U+009F, line and paragraph separators
//     U+2028/U+2029, and every Unicode format character (category Cf: bidi
//     embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069,
//     marks U+200E/U+200F/U+061C, zero-width characters, BOM, tag characters)
//     as \uHHHH or \UHHHHHHHH;
//   - bytes that are not valid UTF-8 as \xHH.
//
// The result is valid UTF-8 and holds no byte below 0x20, no 0x7f and no C1
// character. Backslashes are not doubled (Windows paths stay readable), so a
// literal "\x1b" in the input looks like an escaped ESC; JSON, JSONL and CSV
// keep the exact text when that matters.
func Neutralize(s string) string {
	return neutralize(s, false)
}

// neutralizeLines is Neutralize but keeps '\n' as a line break, for
// multi-line text such as descriptions and queries.
func neutralizeLines(s string) string {
	return neutralize(s, true)
}

func neutralize(s string, keepNewline bool) string {
	if isInert(s, keepNewline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	walkEscapes(s, keepNewline, func(text string, _ bool) { b.WriteString(text) })
	return b.String()
}

// segment is a run of text that is either shown as is or is the visible
// escape of one character (Esc), so the HTML can style escapes.
type segment struct {
	Text string
	Esc  bool
}

// segments splits s into plain runs and escapes, as Neutralize (or
// neutralizeLines when keepNewline) would write them.
func segments(s string, keepNewline bool) []segment {
	if isInert(s, keepNewline) {
		if s == "" {
			return nil
		}
		return []segment{{Text: s}}
	}
	var segs []segment
	walkEscapes(s, keepNewline, func(text string, esc bool) {
		if n := len(segs); n > 0 && segs[n-1].Esc == esc {
			segs[n-1].Text += text
			return
		}
		segs = append(segs, segment{text, esc})
	})
	return segs
}

// walkEscapes calls emit for every plain run of s and for the escape of
// every character that needs one, in order.
func walkEscapes(s string, keepNewline bool, emit func(text string, esc bool)) {
	plain := 0 // start of the current plain run
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\n' && keepNewline, !needsEscape(r):
			i += size
			continue
		default:
			esc = escapeRune(r)
		}
		if plain < i {
			emit(s[plain:i], false)
		}
		emit(esc, true)
		i += size
		plain = i
	}
	if plain < len(s) {
		emit(s[plain:], false)
	}
}

// escapeRune returns the visible escape of a character needsEscape reports.
func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\v':
		return `\v`
	case '\f':
		return `\f`
	case '\r':
		return `\r`
	}
	switch {
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// needsEscape reports whether r must not reach a terminal as itself.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r < 0x80:
		return false
	case r == 0x2028, r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// isInert reports whether s is valid UTF-8 with nothing to escape, the
// common case, so Neutralize can return it without copying.
func isInert(s string, keepNewline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return isInertSlow(s[i:], keepNewline)
		}
		if (c < 0x20 && !(keepNewline && c == '\n')) || c == 0x7f {
			return false
		}
	}
	return true
}

func isInertSlow(s string, keepNewline bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if needsEscape(r) && !(keepNewline && r == '\n') {
			return false
		}
		i += size
	}
	return true
}
