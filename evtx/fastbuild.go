package evtx

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// The fast path builds a record from the raw bytes: the record's template,
// parsed once per chunk by binxml.go, and its substitution array, decoded
// here by value type. It renders every value exactly as render.go renders
// golang-evtx's value for it, and reproduces the tree walk of build (the
// tnode children, text and attribute rules), so a record is the same
// whichever path built it (TestFastPathMatchesLibrary checks every record
// of the corpus). A record with anything else (unknown value types, sizes
// that do not match their type, a template this parser refuses, a broken
// nested template) is not built here: build then decodes it with
// golang-evtx as before, and chunkDecoder.fallbacks counts it.

// xval is one substitution value: its type and bytes, or the nested
// template instance of a BinXML value.
type xval struct {
	typ    byte
	b      []byte
	nested *xinst
}

// xinst is a template instance: its template and its values.
type xinst struct {
	t    *xtmpl
	vals []xval
}

// template returns the template defined at dataOff, parsed once per chunk;
// nil when the fast path does not handle it.
func (d *chunkDecoder) template(dataOff int) *xtmpl {
	if t, ok := d.xtmpls[dataOff]; ok {
		return t
	}
	if d.xtmpls == nil {
		d.xtmpls = map[int]*xtmpl{}
	}
	var t *xtmpl
	if dataOff >= chunkHeaderSize && dataOff < len(d.data) && d.budget.chunk > 0 {
		func() {
			defer func() {
				if p := recover(); p != nil && p == errMalformed {
					if d.malformed == nil {
						d.malformed = map[int]bool{}
					}
					d.malformed[dataOff] = true
				}
			}()
			var work int
			t, work = parseTemplate(d.data, dataOff)
			d.budget.chunk -= int64(work)
			d.budget.chunkUsed += int64(work)
		}()
	}
	d.xtmpls[dataOff] = t
	return t
}

// instance decodes the template instance whose token is at p: template
// header, definition (skipped when inline) and substitution values. It
// panics with errUnsupported on anything the fast path does not handle.
func (d *chunkDecoder) instance(p, depth int) *xinst {
	b := d.data
	le := binary.LittleEndian
	if depth > maxDepth || p < 0 || p+10 > len(b) || b[p] != 0x0c {
		panic(errUnsupported)
	}
	dataOff := int(le.Uint32(b[p+6:]))
	p += 10
	t := d.template(dataOff)
	if t == nil {
		panic(errUnsupported)
	}
	if dataOff == p {
		p += 24 + t.size
	}
	if p < 0 || p+4 > len(b) {
		panic(errUnsupported)
	}
	n := int(int32(le.Uint32(b[p:])))
	p += 4
	if n < 0 || n > 4096 || p+4*n > len(b) {
		panic(errUnsupported)
	}
	// Nested instances may overlap in crafted data, so the same bytes can be
	// reached many times: every instance is charged to the chunk budget.
	d.budget.chunk -= int64(14 + 4*n)
	d.budget.chunkUsed += int64(14 + 4*n)
	if d.budget.chunk < 0 {
		panic(errUnsupported)
	}
	in := &xinst{t: t, vals: make([]xval, n)}
	at := p + 4*n
	for i := range in.vals {
		size := int(le.Uint16(b[p+4*i:]))
		typ := b[p+4*i+2]
		if at+size > len(b) {
			panic(errUnsupported)
		}
		v := xval{typ: typ, b: b[at : at+size]}
		if !validValue(typ, v.b) {
			panic(errUnsupported)
		}
		if typ == 0x21 {
			// A BinXML value: a template instance, with or without a
			// fragment header, or a fragment of plain elements.
			switch {
			case size >= 5 && b[at] == 0x0f:
				v.nested = d.fragment(at+4, depth+1, true)
			case size >= 10 && b[at] == 0x0c:
				v.nested = d.instance(at, depth+1)
			default:
				panic(errUnsupported)
			}
		}
		in.vals[i] = v
		at += size
	}
	return in
}

// fragment decodes the BinXML after a fragment header at p: a template
// instance, or elements without substitutions (golang-evtx makes the latter
// a template instance without values, and so does this).
func (d *chunkDecoder) fragment(p, depth int, depID bool) *xinst {
	if p >= len(d.data) {
		panic(errUnsupported)
	}
	switch d.data[p] {
	case 0x0c:
		return d.instance(p, depth)
	case 0x01, 0x41:
		if d.budget.chunk <= 0 {
			panic(errUnsupported)
		}
		t, work := parseFragment(d.data, p, depID)
		d.budget.chunk -= int64(work)
		d.budget.chunkUsed += int64(work)
		return &xinst{t: t}
	}
	panic(errUnsupported)
}

// validValue reports whether the fast path renders a value of type typ held
// in b the way golang-evtx does (which reads fixed-size types by their
// natural size whatever the descriptor says, so any other size would shift
// the values after it there).
func validValue(typ byte, b []byte) bool {
	size := len(b)
	switch typ {
	case 0x00, 0x0e, 0x21: // null, binary, BinXML
		return true
	case 0x01, 0x81: // UTF-16 string, array of strings
		return size%2 == 0
	case 0x03, 0x04: // int8, uint8
		return size == 1
	case 0x05, 0x06: // int16, uint16
		return size == 2
	case 0x07, 0x08, 0x0d, 0x14: // int32, uint32, bool, hex int32
		return size == 4
	case 0x09, 0x0a, 0x15: // int64, uint64, hex int64
		return size == 8
	case 0x11: // FILETIME: golang-evtx reads it as int64
		return size == 8 && b[7] < 0x80
	case 0x0f: // GUID
		return size == 16
	case 0x13: // SID: revision, count, 6-byte authority, count sub-authorities
		return size >= 8 && size == 8+4*int(b[1])
	}
	return false
}

// renderValue formats a value as render.go formats golang-evtx's value.
func renderValue(v *xval) string {
	le := binary.LittleEndian
	b := v.b
	switch v.typ {
	case 0x00, 0x21:
		return ""
	case 0x01:
		return utf16String(b)
	case 0x03:
		return strconv.FormatInt(int64(int8(b[0])), 10)
	case 0x04:
		return strconv.FormatUint(uint64(b[0]), 10)
	case 0x05:
		return strconv.FormatInt(int64(int16(le.Uint16(b))), 10)
	case 0x06:
		return strconv.FormatUint(uint64(le.Uint16(b)), 10)
	case 0x07:
		return strconv.FormatInt(int64(int32(le.Uint32(b))), 10)
	case 0x08:
		return strconv.FormatUint(uint64(le.Uint32(b)), 10)
	case 0x09:
		return strconv.FormatInt(int64(le.Uint64(b)), 10)
	case 0x0a:
		return strconv.FormatUint(le.Uint64(b), 10)
	case 0x0d:
		return strconv.FormatBool(le.Uint32(b) == 1)
	case 0x0e:
		return strings.ToUpper(hex.EncodeToString(b))
	case 0x0f:
		return guidString(b)
	case 0x11:
		return filetime(le.Uint64(b)).Format("2006-01-02T15:04:05.0000000Z")
	case 0x13:
		var auth uint64
		for _, x := range b[2:8] {
			auth = auth<<8 + uint64(x)
		}
		var sb strings.Builder
		sb.WriteString("S-")
		sb.WriteString(strconv.Itoa(int(b[0])))
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(auth, 10))
		for i := 0; i < int(b[1]); i++ {
			sb.WriteByte('-')
			sb.WriteString(strconv.FormatUint(uint64(le.Uint32(b[8+4*i:])), 10))
		}
		return sb.String()
	case 0x81:
		return stringArray(b)
	case 0x14:
		return "0x" + strconv.FormatUint(uint64(le.Uint32(b)), 16)
	case 0x15:
		return "0x" + strconv.FormatUint(le.Uint64(b), 16)
	}
	panic(errUnsupported)
}

// stringArray renders an array of UTF-16 strings as golang-evtx's
// ValueStringTable through render.go: the NUL-terminated non-empty strings
// joined with ", " (an unterminated last string is dropped, as there).
func stringArray(b []byte) string {
	var sb strings.Builder
	start, n := 0, 0
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] != 0 || b[i+1] != 0 {
			continue
		}
		if i > start {
			if n > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(utf16String(b[start:i]))
			n++
		}
		start = i + 2
	}
	return sb.String()
}

// guidString writes a GUID as golang-evtx does, in braces as render.go does:
// the first three fields little-endian, upper-case hex.
func guidString(b []byte) string {
	const digits = "0123456789ABCDEF"
	var out [38]byte
	i := 0
	for k, j := range [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15} {
		switch k {
		case 0:
			out[i] = '{'
			i++
		case 4, 6, 8, 10:
			out[i] = '-'
			i++
		}
		out[i], out[i+1] = digits[b[j]>>4], digits[b[j]&0xf]
		i += 2
	}
	out[i] = '}'
	return string(out[:])
}

// xnode is an element together with the instance whose values fill its
// substitutions (the fast path's tnode).
type xnode struct {
	e  *xelem
	in *xinst
	w  *int // work spent on the record: nodes listed plus bytes rendered
}

// maxRecordWork bounds the work of building one record: a template can
// refer to one nested value many times, which multiplies its elements and
// text. Beyond it the record fails with errBudget, as golang-evtx's reads do.
const maxRecordWork = 16 << 20

func (n xnode) spend(k int) {
	*n.w += k
	if *n.w > maxRecordWork {
		panic(errBudget)
	}
}

func (n xnode) value(i int) *xval {
	if i < 0 || i >= len(n.in.vals) {
		return nil
	}
	return &n.in.vals[i]
}

func (n xnode) render(it xitem) string {
	if it.kind != kindSub {
		return it.text
	}
	if v := n.value(it.sub); v != nil {
		n.spend(len(v.b))
		return renderValue(v)
	}
	return ""
}

// children lists the child elements, then the top-level elements of the
// nested instances substituted into the content, like tnode.children.
func (n xnode) children() []xnode {
	out := make([]xnode, 0, len(n.e.children))
	for _, c := range n.e.children {
		out = append(out, xnode{c, n.in, n.w})
	}
	for _, it := range n.e.content {
		if it.kind != kindSub {
			continue
		}
		if v := n.value(it.sub); v != nil && v.nested != nil {
			for _, c := range v.nested.t.root.children {
				out = append(out, xnode{c, v.nested, n.w})
			}
		}
	}
	n.spend(len(out))
	return out
}

func (n xnode) text() string {
	switch len(n.e.content) {
	case 0:
		return ""
	case 1:
		return n.render(n.e.content[0])
	}
	var sb strings.Builder
	for _, it := range n.e.content {
		sb.WriteString(n.render(it))
	}
	return sb.String()
}

func (n xnode) attr(name string) (string, bool) {
	for _, a := range n.e.attrs {
		if a.name == name {
			return n.render(a.val), true
		}
	}
	return "", false
}

func (n xnode) attrTime(name string) (time.Time, bool) {
	for _, a := range n.e.attrs {
		if a.name != name {
			continue
		}
		if a.val.kind == kindSub {
			v := n.value(a.val.sub)
			if v == nil {
				return time.Time{}, false
			}
			if v.typ == 0x11 {
				return filetime(binary.LittleEndian.Uint64(v.b)), true
			}
		}
		tm, err := time.Parse(time.RFC3339Nano, n.render(a.val))
		return tm.UTC(), err == nil
	}
	return time.Time{}, false
}

// fastBuild builds the record at off from its raw bytes; ok is false when
// the fast path does not handle it (rec is then untouched), err is set when
// the record exceeds maxRecordWork.
func (d *chunkDecoder) fastBuild(off int, rec *Record) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == errBudget {
				ok, err = true, errBudget
				return
			}
			ok = false
		}
	}()
	b := d.data
	p := off + recordHeaderLen
	if p+5 > len(b) || b[p] != 0x0f {
		return false, nil
	}
	in := d.fragment(p+4, 0, false)
	var event xnode
	var work int
	for _, c := range (xnode{&in.t.root, in, &work}).children() {
		if c.e.name == "Event" {
			event = c
			break
		}
	}
	if event.e == nil {
		return false, nil
	}
	var r Record
	r.RecordID = binary.LittleEndian.Uint64(b[off+8:])
	r.Time = filetime(binary.LittleEndian.Uint64(b[off+16:]))
	r.Data = map[string]string{}
	for _, part := range event.children() {
		switch part.e.name {
		case "System":
			system(part, &r)
		case "EventData":
			eventData(part, r.Data)
		case "UserData":
			userData(part, r.Data)
		}
	}
	*rec = r
	return true, nil
}

// name is the element's name (the element interface of decode.go).
func (n xnode) name() string { return n.e.name }
