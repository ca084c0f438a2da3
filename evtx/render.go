package evtx

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"
)

// tnode is an element of a template's tree together with the template
// instance whose values fill its substitutions.
type tnode struct {
	n  *gevtx.Node
	ti *gevtx.TemplateInstance
}

func (t tnode) name() string {
	if t.n.Start == nil {
		return ""
	}
	return t.n.Start.Name.String()
}

// resolve replaces a substitution by the value it refers to (nil when absent).
func (t tnode) resolve(e gevtx.Element) gevtx.Element {
	switch s := e.(type) {
	case *gevtx.NormalSubstitution:
		return t.value(int(s.SubID))
	case *gevtx.OptionalSubstitution:
		return t.value(int(s.SubID))
	}
	return e
}

func (t tnode) value(i int) gevtx.Element {
	if t.ti == nil || i < 0 || i >= len(t.ti.Data.Values) {
		return nil
	}
	return t.ti.Data.Values[i]
}

// nested returns the template instance embedded in a BinXML value, if any.
func nested(e gevtx.Element) *gevtx.TemplateInstance {
	switch v := e.(type) {
	case *gevtx.Fragment:
		ti, _ := v.BinXMLElement.(*gevtx.TemplateInstance)
		return ti
	case *gevtx.TemplateInstance:
		return v
	}
	return nil
}

// children lists the child elements, including the elements of BinXML values
// substituted into this element's content.
func (t tnode) children() []tnode {
	var out []tnode
	for _, c := range t.n.Child {
		out = append(out, tnode{c, t.ti})
	}
	for _, e := range t.n.Element {
		if ti := nested(t.resolve(e)); ti != nil {
			root, _ := gevtx.NodeTree(ti.Definition.Data.Elements, 0)
			for _, c := range root.Child {
				out = append(out, tnode{c, ti})
			}
		}
	}
	return out
}

// text renders the element's character content.
func (t tnode) text() string {
	switch len(t.n.Element) {
	case 0:
		return ""
	case 1:
		return render(t.resolve(t.n.Element[0]))
	}
	var sb strings.Builder
	for _, e := range t.n.Element {
		sb.WriteString(render(t.resolve(e)))
	}
	return sb.String()
}

func (t tnode) attr(name string) (string, bool) {
	if t.n.Start == nil {
		return "", false
	}
	for _, a := range t.n.Start.AttributeList.Attributes {
		if a.Name.String() == name {
			return render(t.resolve(a.AttributeData)), true
		}
	}
	return "", false
}

// attrTime reads a time attribute from its raw FILETIME or SYSTEMTIME value
// (never through floating point), or parses its text form.
func (t tnode) attrTime(name string) (time.Time, bool) {
	if t.n.Start == nil {
		return time.Time{}, false
	}
	for _, a := range t.n.Start.AttributeList.Attributes {
		if a.Name.String() != name {
			continue
		}
		switch v := t.resolve(a.AttributeData).(type) {
		case *gevtx.ValueFileTime:
			return fileTimeValue(v), true
		case *gevtx.ValueSysTime:
			return time.Time(v.Time()).UTC(), true
		case nil:
			return time.Time{}, false
		default:
			tm, err := time.Parse(time.RFC3339Nano, render(v))
			return tm.UTC(), err == nil
		}
	}
	return time.Time{}, false
}

// fileTimeValue recovers the exact FILETIME of a golang-evtx value. The
// library converts through float64 seconds but then computes the nanoseconds
// from the integer ticks against that rounded second, so the time it builds
// is exact; it is re-expressed here in FILETIME ticks to make that explicit.
func fileTimeValue(v *gevtx.ValueFileTime) time.Time {
	tm := time.Time(v.Value().(gevtx.UTCTime))
	ticks := (tm.Unix()-filetimeEpoch)*1e7 + int64(tm.Nanosecond()/100)
	return filetime(uint64(ticks))
}

// render formats a value the way Windows renders it in event XML.
func render(e gevtx.Element) string {
	switch v := e.(type) {
	case nil, *gevtx.ValueNull:
		return ""
	case *gevtx.ValueText:
		return v.String()
	case *gevtx.ValueString:
		return v.String()
	case *gevtx.AnsiString:
		return strings.TrimRight(v.String(), "\x00")
	case *gevtx.CharEntityRef:
		return string(rune(uint16(v.Value)))
	case *gevtx.BinXMLEntityReference:
		return v.String()
	case *gevtx.ValueGUID:
		return "{" + v.String() + "}"
	case *gevtx.ValueHexInt32:
		// Value is called on the embedded type: ValueHexInt32.Value recurses forever.
		return fmt.Sprintf("0x%x", v.ValueUInt32.Value())
	case *gevtx.ValueHexInt64:
		return fmt.Sprintf("0x%x", v.ValueUInt64.Value())
	case *gevtx.ValueFileTime:
		return fileTimeValue(v).Format("2006-01-02T15:04:05.0000000Z")
	case *gevtx.ValueSysTime:
		return time.Time(v.Time()).UTC().Format("2006-01-02T15:04:05.000Z")
	case *gevtx.ValueBinary:
		b, _ := v.Value().([]byte)
		return strings.ToUpper(hex.EncodeToString(b))
	case *gevtx.ValueStringTable:
		s, _ := v.Repr().([]string)
		return strings.Join(s, ", ")
	case *gevtx.Fragment, *gevtx.TemplateInstance:
		return ""
	case gevtx.Value:
		return v.String()
	}
	return ""
}
