package evtxtest

import (
	"crypto/sha256"
	"encoding/binary"
	"unicode/utf16"
)

// BinXML tokens (libyal "Windows XML Event Log (EVTX)" format, section 4).
const (
	tokEOF              = 0x00
	tokOpenStart        = 0x01 // element start without attributes
	tokOpenStartAttrs   = 0x41 // element start followed by an attribute list
	tokCloseStart       = 0x02
	tokCloseEmpty       = 0x03
	tokEndElement       = 0x04
	tokValueText        = 0x05
	tokAttrLast         = 0x06
	tokAttrMore         = 0x46
	tokTemplateInstance = 0x0c
	tokNormalSubst      = 0x0d
	tokOptionalSubst    = 0x0e
	tokFragmentHeader   = 0x0f
)

// BinXML value types used by the writer.
const (
	typeNull     = 0x00
	typeString   = 0x01
	typeUInt8    = 0x04
	typeUInt16   = 0x06
	typeUInt32   = 0x08
	typeUInt64   = 0x0a
	typeGUID     = 0x0f
	typeFileTime = 0x11
	typeSID      = 0x13
	typeHexInt64 = 0x15
	typeBinXML   = 0x21
)

// xmlElem is one element of a template definition. Kids holds *xmlElem,
// xmlSubst or xmlText values in document order.
type xmlElem struct {
	name  string
	dep   int // substitution the element depends on, -1 for none
	attrs []xmlAttr
	kids  []any
}

// xmlAttr is one attribute; val is an xmlSubst or an xmlText.
type xmlAttr struct {
	name string
	val  any
}

// xmlSubst is a substitution token referring to value idx of the instance.
type xmlSubst struct {
	idx      int
	typ      byte
	optional bool
}

// xmlText is literal character data written as a BinXML value text.
type xmlText string

// value is one substitution value of a template instance.
type bxValue struct {
	typ  byte
	data []byte
}

// txn collects the names and templates a record adds to its chunk, so that
// a record that turns out not to fit can be dropped without side effects.
type txn struct {
	c        *chunkBuf
	names    map[string]uint32
	tmpls    map[string]uint32
	newNames []uint32 // chunk offsets of names written inline
	newTmpls []uint32 // chunk offsets of template definitions written inline
}

func newTxn(c *chunkBuf) *txn {
	return &txn{c: c, names: map[string]uint32{}, tmpls: map[string]uint32{}}
}

func (t *txn) name(s string) (uint32, bool) {
	if off, ok := t.c.names[s]; ok {
		return off, true
	}
	off, ok := t.names[s]
	return off, ok
}

func (t *txn) tmpl(key string) (uint32, bool) {
	if off, ok := t.c.tmpls[key]; ok {
		return off, true
	}
	off, ok := t.tmpls[key]
	return off, ok
}

// enc appends BinXML to b; base is the chunk offset of b[0], so that
// chunk-relative offsets of names and templates can be computed.
type enc struct {
	t    *txn
	base int
	b    []byte
}

func (e *enc) off() uint32 { return uint32(e.base + len(e.b)) }

func (e *enc) u8(v byte) { e.b = append(e.b, v) }

func (e *enc) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }

func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

func (e *enc) putU32(at int, v uint32) { binary.LittleEndian.PutUint32(e.b[at:], v) }

// nameRef writes the chunk offset of name s, followed by the name itself
// when this is its first use in the chunk (Windows writes new names inline).
func (e *enc) nameRef(s string) {
	if off, ok := e.t.name(s); ok {
		e.u32(off)
		return
	}
	off := e.off() + 4
	e.u32(off)
	u := utf16.Encode([]rune(s))
	e.u32(0) // next name in the same hash bucket, set when the record is committed
	e.u16(nameHash(u))
	e.u16(uint16(len(u)))
	for _, c := range u {
		e.u16(c)
	}
	e.u16(0)
	e.t.names[s] = off
	e.t.newNames = append(e.t.newNames, off)
}

// nameHash is the string-table hash of a name: h = h*65599 + c over the
// UTF-16 code units, truncated to 16 bits.
func nameHash(u []uint16) uint16 {
	var h uint32
	for _, c := range u {
		h = h*65599 + uint32(c)
	}
	return uint16(h)
}

func (e *enc) element(x *xmlElem) {
	tok := byte(tokOpenStart)
	if len(x.attrs) > 0 {
		tok = tokOpenStartAttrs
	}
	e.u8(tok)
	e.u16(uint16(int16(x.dep)))
	sizeAt := len(e.b)
	e.u32(0)
	start := len(e.b)
	e.nameRef(x.name)
	if len(x.attrs) > 0 {
		listAt := len(e.b)
		e.u32(0)
		listStart := len(e.b)
		for i, a := range x.attrs {
			if i == len(x.attrs)-1 {
				e.u8(tokAttrLast)
			} else {
				e.u8(tokAttrMore)
			}
			e.nameRef(a.name)
			e.content(a.val)
		}
		e.putU32(listAt, uint32(len(e.b)-listStart))
	}
	if len(x.kids) == 0 {
		e.u8(tokCloseEmpty)
	} else {
		e.u8(tokCloseStart)
		for _, k := range x.kids {
			if c, ok := k.(*xmlElem); ok {
				e.element(c)
			} else {
				e.content(k)
			}
		}
		e.u8(tokEndElement)
	}
	e.putU32(sizeAt, uint32(len(e.b)-start))
}

func (e *enc) content(v any) {
	switch v := v.(type) {
	case xmlSubst:
		if v.optional {
			e.u8(tokOptionalSubst)
		} else {
			e.u8(tokNormalSubst)
		}
		e.u16(uint16(v.idx))
		e.u8(v.typ)
	case xmlText:
		u := utf16.Encode([]rune(string(v)))
		e.u8(tokValueText)
		e.u8(typeString)
		e.u16(uint16(len(u)))
		for _, c := range u {
			e.u16(c)
		}
	default:
		panic("evtxtest: unknown BinXML content")
	}
}

// templateGUID derives a stable template identifier from its key.
func templateGUID(key string) [16]byte {
	s := sha256.Sum256([]byte("evtxtest template\x00" + key))
	var g [16]byte
	copy(g[:], s[:16])
	return g
}

// templateInstance writes a TemplateInstance token for the template named
// key. The definition (built by def) is written inline on first use in the
// chunk; later instances reference it by offset.
func (e *enc) templateInstance(key string, def func() *xmlElem) {
	g := templateGUID(key)
	e.u8(tokTemplateInstance)
	e.u8(0x01)
	e.b = append(e.b, g[:4]...)
	if off, ok := e.t.tmpl(key); ok {
		e.u32(off)
		return
	}
	off := e.off() + 4
	e.u32(off)
	e.u32(0) // next template in the same bucket, set when the record is committed
	e.b = append(e.b, g[:]...)
	sizeAt := len(e.b)
	e.u32(0)
	start := len(e.b)
	e.fragmentHeader()
	e.element(def())
	e.u8(tokEOF)
	e.putU32(sizeAt, uint32(len(e.b)-start))
	e.t.tmpls[key] = off
	e.t.newTmpls = append(e.t.newTmpls, off)
}

func (e *enc) fragmentHeader() { e.b = append(e.b, tokFragmentHeader, 0x01, 0x01, 0x00) }

// instanceData writes the substitution array of a template instance.
func (e *enc) instanceData(vals []bxValue) {
	e.u32(uint32(len(vals)))
	for _, v := range vals {
		e.u16(uint16(len(v.data)))
		e.u8(v.typ)
		e.u8(0)
	}
	for _, v := range vals {
		e.b = append(e.b, v.data...)
	}
}
