package evtx

import (
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file parses BinXML template definitions without golang-evtx (whose
// reflective decoding dominated the reader's profile) into a small element
// tree with the same shape as golang-evtx's NodeTree: per element, its
// attributes, its child elements and its other content (text and
// substitutions) in order. It accepts only the token sequences golang-evtx
// accepts and that fastbuild.go knows how to render; anything else is
// errUnsupported, and the record is then decoded by golang-evtx as before.

var errUnsupported = errors.New("binxml: not handled by the fast path")

// errMalformed is a template that golang-evtx's parse is certain to refuse
// too (a read past the chunk, a bad fragment header, an unknown token...).
var errMalformed = errors.New("binxml: malformed template")

// Item kinds of element content and attribute values.
const (
	kindText byte = iota // ValueText (literal text)
	kindRef              // character or entity reference, rendered as text
	kindSub              // normal or optional substitution
)

// xitem is one piece of content: literal text or a substitution index.
type xitem struct {
	kind byte
	text string
	sub  int
}

// xattr is an attribute and its single value.
type xattr struct {
	name string
	val  xitem
}

// xelem is an element of a template: its name, attributes, content other
// than elements, and child elements.
type xelem struct {
	name     string
	attrs    []xattr
	content  []xitem
	children []*xelem
}

// xtmpl is a parsed template definition; root has no name and holds the
// top-level elements.
type xtmpl struct {
	root xelem
	size int // definition data size (the bytes after the 24-byte header)
}

// maxDepth bounds element nesting and nested template instances.
const maxDepth = 64

// templateParser reads one template definition from the chunk; work counts
// the bytes it read, charged to the chunk budget.
type templateParser struct {
	b    []byte
	p    int
	work int
}

func (tp *templateParser) need(n int) {
	if n < 0 || tp.p < 0 || tp.p+n > len(tp.b) {
		panic(errMalformed)
	}
	tp.work += n
}

func (tp *templateParser) u8() byte {
	tp.need(1)
	v := tp.b[tp.p]
	tp.p++
	return v
}

func (tp *templateParser) u16() uint16 {
	tp.need(2)
	v := binary.LittleEndian.Uint16(tp.b[tp.p:])
	tp.p += 2
	return v
}

func (tp *templateParser) u32() uint32 {
	tp.need(4)
	v := binary.LittleEndian.Uint32(tp.b[tp.p:])
	tp.p += 4
	return v
}

// name reads a name structure at off: it advances past it when it is inline
// (off is the current position), as golang-evtx does.
func (tp *templateParser) name(off uint32) string {
	inline := int64(off) == int64(tp.p)
	at := int(off)
	if int64(off) > int64(len(tp.b)) || at+8 > len(tp.b) {
		panic(errMalformed)
	}
	n := int(binary.LittleEndian.Uint16(tp.b[at+6:]))
	end := at + 8 + 2*(n+1)
	if end > len(tp.b) {
		panic(errMalformed)
	}
	tp.work += end - at
	s := utf16String(tp.b[at+8 : end])
	if inline {
		tp.p = end
	}
	return s
}

// parseTemplate parses the template definition whose data starts at off
// (next-template offset, GUID, size, then the BinXML fragment). It panics
// with errUnsupported on anything it does not handle.
func parseTemplate(b []byte, off int) (*xtmpl, int) {
	tp := &templateParser{b: b, p: off}
	tp.u32() // next template offset
	tp.need(16)
	tp.p += 16 // GUID
	size := int(int32(tp.u32()))
	if tp.u8() != 0x0f {
		panic(errMalformed)
	}
	tp.need(3)
	tp.p += 3
	t := &xtmpl{size: size}
	tp.body(&t.root, true)
	return t, tp.work
}

// parseFragment parses BinXML that is not a template instance: a fragment
// whose first token (at off, after the fragment header) opens an element.
// golang-evtx reads element dependency ids in it only inside substitution
// values (depID), not at the top of a record.
func parseFragment(b []byte, off int, depID bool) (*xtmpl, int) {
	tp := &templateParser{b: b, p: off}
	t := &xtmpl{}
	tp.body(&t.root, depID)
	return t, tp.work
}

// body parses tokens into root up to the end of fragment token.
func (tp *templateParser) body(root *xelem, depID bool) {
	stack := []*xelem{root}
	for {
		top := stack[len(stack)-1]
		switch tok := tp.u8(); tok {
		case 0x00: // end of fragment
			return
		case 0x01, 0x41:
			e := tp.elementStart(tok, depID)
			top.children = append(top.children, e)
			if len(stack) >= maxDepth {
				panic(errUnsupported)
			}
			stack = append(stack, e)
		case 0x02: // close start tag
		case 0x03, 0x04: // close empty element, end element
			if len(stack) == 1 {
				// golang-evtx's NodeTree would end the tree here.
				panic(errUnsupported)
			}
			stack = stack[:len(stack)-1]
		case 0x05, 0x45, 0x08, 0x48, 0x09, 0x49, 0x0d, 0x0e:
			top.content = append(top.content, tp.item(tok))
		case 0x0c, 0x0f: // nested template instance, fragment header
			panic(errUnsupported)
		default: // CDATA, PI, unknown: golang-evtx has no case for them
			panic(errMalformed)
		}
	}
}

// elementStart reads an open start element token's fields (tok already
// read): dependency id, size, name, attributes; the close token that must
// follow is left to the caller's loop, as golang-evtx does.
func (tp *templateParser) elementStart(tok byte, depID bool) *xelem {
	if depID {
		tp.u16() // dependency id
	}
	tp.u32() // size
	e := &xelem{name: tp.name(tp.u32())}
	if tok == 0x41 {
		tp.u32() // attribute list size
		for {
			at := tp.u8()
			if at != 0x06 && at != 0x46 {
				panic(errMalformed)
			}
			a := xattr{name: tp.attrName(tp.u32())}
			vt := tp.u8()
			switch vt {
			case 0x05, 0x45, 0x0d, 0x0e:
				a.val = tp.item(vt)
			default:
				panic(errUnsupported)
			}
			e.attrs = append(e.attrs, a)
			if at == 0x06 {
				break
			}
		}
	}
	tp.need(1)
	if c := tp.b[tp.p]; c != 0x02 && c != 0x03 {
		panic(errMalformed)
	}
	return e
}

// attrName reads an attribute name; golang-evtx ignores errors there, so a
// bad one is only unsupported.
func (tp *templateParser) attrName(off uint32) string {
	defer func() {
		if p := recover(); p != nil {
			if p == errMalformed {
				p = errUnsupported
			}
			panic(p)
		}
	}()
	return tp.name(off)
}

// item reads a value text, reference or substitution token (tok already read).
func (tp *templateParser) item(tok byte) xitem {
	switch tok {
	case 0x05, 0x45:
		if tp.u8() != 0x01 {
			panic(errMalformed)
		}
		n := int(int16(tp.u16()))
		if n < 0 {
			panic(errUnsupported)
		}
		tp.need(2 * n)
		s := utf16String(tp.b[tp.p : tp.p+2*n])
		tp.p += 2 * n
		return xitem{kind: kindText, text: s}
	case 0x08, 0x48:
		return xitem{kind: kindRef, text: string(rune(tp.u16()))}
	case 0x09, 0x49:
		var s string
		switch tp.name(tp.u32()) {
		case "amp":
			s = "&"
		case "lt":
			s = "<"
		case "gt":
			s = ">"
		case "quot":
			s = "\""
		case "apos":
			s = "'"
		}
		return xitem{kind: kindRef, text: s}
	default: // 0x0d, 0x0e
		id := int(int16(tp.u16()))
		tp.u8() // declared type: the value descriptor's type is the one used
		return xitem{kind: kindSub, sub: id}
	}
}

// utf16String decodes UTF-16LE bytes and trims trailing NULs, like
// golang-evtx's UTF16String.ToString (unpaired surrogates become U+FFFD, as
// with utf16.Decode), without its intermediate slices.
func utf16String(b []byte) string {
	n := len(b) / 2
	for n > 0 && b[2*n-2] == 0 && b[2*n-1] == 0 {
		n--
	}
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	var sb strings.Builder
	if ascii {
		sb.Grow(n)
		for i := 0; i < n; i++ {
			sb.WriteByte(b[2*i])
		}
		return sb.String()
	}
	sb.Grow(3 * n)
	for i := 0; i < n; i++ {
		r := rune(binary.LittleEndian.Uint16(b[2*i:]))
		switch {
		case r < 0xd800 || r >= 0xe000:
		case r < 0xdc00 && i+1 < n:
			if r2 := rune(binary.LittleEndian.Uint16(b[2*i+2:])); r2 >= 0xdc00 && r2 < 0xe000 {
				r = utf16.DecodeRune(r, r2)
				i++
			} else {
				r = utf8.RuneError
			}
		default:
			r = utf8.RuneError
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
