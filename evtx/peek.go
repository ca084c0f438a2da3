package evtx

import (
	"encoding/binary"
	"strconv"
	"strings"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"
)

// A locator says where a template puts System/Channel and System/EventID:
// either literal text in the template, or the index of a substitution value.
type locator struct {
	channel, eventID slot
}

type slot struct {
	literal string
	sub     int // -1: literal
}

// peek reads a record's channel and event id without building it: it finds
// the record's template (from the chunk's template table, parsed once per
// template) and reads only the two values it needs from the raw
// substitution array. ok is false when the record is not a plain template
// instance; the caller then decodes it fully.
func (d *chunkDecoder) peek(off int) (channel string, eid int, ok bool) {
	err := catch(func() error {
		channel, eid, ok = d.peekRaw(off)
		return nil
	})
	if err != nil {
		return "", 0, false
	}
	return channel, eid, ok
}

func (d *chunkDecoder) peekRaw(off int) (string, int, bool) {
	b := d.data
	le := binary.LittleEndian
	p := off + recordHeaderLen
	// Fragment header (0x0f, major 1, minor 1, flags) then TemplateInstance token.
	if p+14 > len(b) || b[p] != 0x0f || b[p+4] != 0x0c {
		return "", 0, false
	}
	p += 4
	dataOff := int(le.Uint32(b[p+6:]))
	p += 10
	if dataOff == p {
		// Definition inline: 4 unknown, 16 GUID, 4 size, then size bytes.
		if p+24 > len(b) {
			return "", 0, false
		}
		p += 24 + int(le.Uint32(b[p+20:]))
	}
	loc := d.locator(int32(dataOff))
	if loc == nil {
		return "", 0, false
	}
	if p+4 > len(b) || p < 0 {
		return "", 0, false
	}
	n := int(le.Uint32(b[p:]))
	p += 4
	if n < 0 || n > 4096 || p+4*n > len(b) {
		return "", 0, false
	}
	desc := b[p : p+4*n]
	vals := p + 4*n
	value := func(i int) ([]byte, byte, bool) {
		if i < 0 || i >= n {
			return nil, 0, false
		}
		at := vals
		for j := 0; j < i; j++ {
			at += int(le.Uint16(desc[4*j:]))
		}
		size := int(le.Uint16(desc[4*i:]))
		if at+size > len(b) {
			return nil, 0, false
		}
		return b[at : at+size], desc[4*i+2], true
	}
	channel := loc.channel.literal
	if loc.channel.sub >= 0 {
		v, typ, ok := value(loc.channel.sub)
		if !ok {
			return "", 0, false
		}
		switch typ {
		case gevtx.StringType:
			channel = utf16le(v)
		case gevtx.NullType:
			channel = ""
		default:
			return "", 0, false
		}
	}
	var eid int
	if loc.eventID.sub < 0 {
		e, err := strconv.Atoi(strings.TrimSpace(loc.eventID.literal))
		if err != nil {
			return "", 0, false
		}
		eid = e
	} else {
		v, typ, ok := value(loc.eventID.sub)
		if !ok {
			return "", 0, false
		}
		switch {
		case typ == gevtx.UInt16Type && len(v) == 2:
			eid = int(le.Uint16(v))
		case typ == gevtx.UInt32Type && len(v) == 4:
			eid = int(le.Uint32(v))
		case typ == gevtx.StringType:
			e, err := strconv.Atoi(strings.TrimSpace(utf16le(v)))
			if err != nil {
				return "", 0, false
			}
			eid = e
		default:
			return "", 0, false
		}
	}
	return channel, eid, true
}

func utf16le(b []byte) string { return utf16String(b) }

// locator returns the channel/event id locator of the template defined at
// dataOff, parsing and caching it once per chunk; nil when the template does
// not hold both as a single literal or substitution.
func (d *chunkDecoder) locator(dataOff int32) *locator {
	if l, ok := d.locators[dataOff]; ok {
		return l
	}
	if d.locators == nil {
		d.locators = map[int32]*locator{}
	}
	var l *locator
	_ = catch(func() error {
		l = d.buildLocator(dataOff)
		return nil
	})
	d.locators[dataOff] = l
	return l
}

func (d *chunkDecoder) buildLocator(dataOff int32) *locator {
	if d.noFast {
		d.lib()
	} else if t := d.template(int(dataOff)); t != nil {
		return xlocator(t)
	} else if d.malformed[int(dataOff)] && d.c.TemplateTable[dataOff].Elements == nil {
		// golang-evtx's parse below would fail too, after reading it all.
		return nil
	}
	d.lib()
	td, ok := d.c.TemplateTable[dataOff]
	if !ok {
		if dataOff < chunkHeaderSize || int(dataOff) >= len(d.data) {
			return nil
		}
		d.budget.startRecord()
		r := d.reader()
		if _, err := r.Seek(int64(dataOff), 0); err != nil {
			return nil
		}
		if err := td.Parse(r); err != nil {
			return nil
		}
		// Share the parsed definition with golang-evtx's Parse, which looks
		// templates up in the same table and would otherwise parse it again.
		d.c.TemplateTable[dataOff] = td
	}
	root, _ := gevtx.NodeTree(td.Elements, 0)
	event := child(&root, "Event")
	system := child(event, "System")
	ch, eid := child(system, "Channel"), child(system, "EventID")
	if ch == nil || eid == nil {
		return nil
	}
	var l locator
	if l.channel, ok = slotOf(ch); !ok {
		return nil
	}
	if l.eventID, ok = slotOf(eid); !ok {
		return nil
	}
	return &l
}

func child(n *gevtx.Node, name string) *gevtx.Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Child {
		if c.Start != nil && c.Start.Name.String() == name {
			return c
		}
	}
	return nil
}

// slotOf describes an element's content: only literal text or exactly one substitution.
func slotOf(n *gevtx.Node) (slot, bool) {
	if len(n.Element) == 1 {
		switch s := n.Element[0].(type) {
		case *gevtx.NormalSubstitution:
			return slot{sub: int(s.SubID)}, true
		case *gevtx.OptionalSubstitution:
			return slot{sub: int(s.SubID)}, true
		}
	}
	var sb strings.Builder
	for _, e := range n.Element {
		vt, ok := e.(*gevtx.ValueText)
		if !ok {
			return slot{}, false
		}
		sb.WriteString(vt.String())
	}
	return slot{literal: sb.String(), sub: -1}, true
}

// xlocator is buildLocator over a template parsed by the fast path.
func xlocator(t *xtmpl) *locator {
	event := xchild(&t.root, "Event")
	system := xchild(event, "System")
	ch, eid := xchild(system, "Channel"), xchild(system, "EventID")
	if ch == nil || eid == nil {
		return nil
	}
	var l locator
	var ok bool
	if l.channel, ok = xslot(ch); !ok {
		return nil
	}
	if l.eventID, ok = xslot(eid); !ok {
		return nil
	}
	return &l
}

func xchild(e *xelem, name string) *xelem {
	if e == nil {
		return nil
	}
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// xslot is slotOf over a fast-path element.
func xslot(e *xelem) (slot, bool) {
	if len(e.content) == 1 && e.content[0].kind == kindSub {
		return slot{sub: e.content[0].sub}, true
	}
	var sb strings.Builder
	for _, it := range e.content {
		if it.kind != kindText {
			return slot{}, false
		}
		sb.WriteString(it.text)
	}
	return slot{literal: sb.String(), sub: -1}, true
}
