package evtxtest

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// eventNamespace is the xmlns attribute of every Event element.
const eventNamespace = "http://schemas.microsoft.com/win/2004/08/events/event"

// Substitution indexes of the System template, in the order Windows uses
// for manifest-based providers such as Sysmon and Security-Auditing.
const (
	subLevel = iota
	subOpcode
	subTask
	subEventID
	subQualifiers
	subKeywords
	subTimeCreated
	subActivityID
	subProcessID
	subThreadID
	subRecordID
	subVersion
	subUserID
	subRelatedActivityID
	subProviderName
	subProviderGUID
	subChannel
	subEventData
	numSystemValues
)

// eventTemplate is the outer template: Event/System with the Computer name
// as literal text (as Windows writes it) and EventData as a BinXML
// substitution.
func eventTemplate(computer string) *xmlElem {
	opt := func(i int, typ byte) xmlSubst { return xmlSubst{idx: i, typ: typ, optional: true} }
	leaf := func(name string, i int, typ byte) *xmlElem {
		return &xmlElem{name: name, dep: i, kids: []any{opt(i, typ)}}
	}
	system := &xmlElem{name: "System", dep: -1, kids: []any{
		&xmlElem{name: "Provider", dep: -1, attrs: []xmlAttr{
			{"Name", opt(subProviderName, typeString)},
			{"Guid", opt(subProviderGUID, typeGUID)},
		}},
		&xmlElem{name: "EventID", dep: subEventID,
			attrs: []xmlAttr{{"Qualifiers", opt(subQualifiers, typeUInt16)}},
			kids:  []any{opt(subEventID, typeUInt16)}},
		leaf("Version", subVersion, typeUInt8),
		leaf("Level", subLevel, typeUInt8),
		leaf("Task", subTask, typeUInt16),
		leaf("Opcode", subOpcode, typeUInt8),
		leaf("Keywords", subKeywords, typeHexInt64),
		&xmlElem{name: "TimeCreated", dep: -1, attrs: []xmlAttr{{"SystemTime", opt(subTimeCreated, typeFileTime)}}},
		leaf("EventRecordID", subRecordID, typeUInt64),
		&xmlElem{name: "Correlation", dep: -1, attrs: []xmlAttr{
			{"ActivityID", opt(subActivityID, typeGUID)},
			{"RelatedActivityID", opt(subRelatedActivityID, typeGUID)},
		}},
		&xmlElem{name: "Execution", dep: -1, attrs: []xmlAttr{
			{"ProcessID", opt(subProcessID, typeUInt32)},
			{"ThreadID", opt(subThreadID, typeUInt32)},
		}},
		leaf("Channel", subChannel, typeString),
		&xmlElem{name: "Computer", dep: -1, kids: []any{xmlText(computer)}},
		&xmlElem{name: "Security", dep: -1, attrs: []xmlAttr{{"UserID", opt(subUserID, typeSID)}}},
	}}
	return &xmlElem{name: "Event", dep: -1,
		attrs: []xmlAttr{{"xmlns", xmlText(eventNamespace)}},
		kids:  []any{system, opt(subEventData, typeBinXML)},
	}
}

// dataTemplate is the nested EventData template: one Data element per field
// with its Name as literal text and its value as a string substitution.
func dataTemplate(fields []Field) *xmlElem {
	ed := &xmlElem{name: "EventData", dep: -1}
	for i, f := range fields {
		ed.kids = append(ed.kids, &xmlElem{name: "Data", dep: -1,
			attrs: []xmlAttr{{"Name", xmlText(f.Name)}},
			kids:  []any{xmlSubst{idx: i, typ: typeString}},
		})
	}
	return ed
}

func dataKey(fields []Field) string {
	var sb strings.Builder
	sb.WriteString("data")
	for _, f := range fields {
		sb.WriteByte(0)
		sb.WriteString(f.Name)
	}
	return sb.String()
}

// systemValues returns substitution values 0..subEventData-1 of ev.
func systemValues(ev *Event, id uint64) ([]bxValue, error) {
	vals := make([]bxValue, subEventData)
	var err error
	if vals[subLevel], err = u8Value(ev.Level, "Level"); err != nil {
		return nil, err
	}
	if vals[subOpcode], err = u8Value(ev.Opcode, "Opcode"); err != nil {
		return nil, err
	}
	if vals[subTask], err = u16Value(ev.Task, "Task"); err != nil {
		return nil, err
	}
	if vals[subEventID], err = u16Value(ev.EventID, "EventID"); err != nil {
		return nil, err
	}
	if vals[subVersion], err = u8Value(ev.Version, "Version"); err != nil {
		return nil, err
	}
	vals[subQualifiers] = nullValue()
	vals[subKeywords] = u64Value(typeHexInt64, ev.Keywords)
	ft, err := fileTime(ev.Time)
	if err != nil {
		return nil, err
	}
	vals[subTimeCreated] = u64Value(typeFileTime, ft)
	vals[subActivityID] = nullValue()
	vals[subRelatedActivityID] = nullValue()
	vals[subProcessID] = u32Value(ev.ProcessID)
	vals[subThreadID] = u32Value(ev.ThreadID)
	vals[subRecordID] = u64Value(typeUInt64, id)
	vals[subUserID] = nullValue()
	if ev.UserSID != "" {
		if vals[subUserID], err = sidValue(ev.UserSID); err != nil {
			return nil, err
		}
	}
	if vals[subProviderName], err = stringValue(ev.Provider, "Provider"); err != nil {
		return nil, err
	}
	vals[subProviderGUID] = nullValue()
	if ev.ProviderGUID != "" {
		if vals[subProviderGUID], err = guidValue(ev.ProviderGUID); err != nil {
			return nil, err
		}
	}
	if vals[subChannel], err = stringValue(ev.Channel, "Channel"); err != nil {
		return nil, err
	}
	return vals, nil
}

// record encodes ev as an event record placed at the chunk's free offset.
// The names and templates it defines are returned in a txn for commit.
func (c *chunkBuf) record(ev *Event, id uint64) ([]byte, *txn, error) {
	vals, err := systemValues(ev, id)
	if err != nil {
		return nil, nil, err
	}
	ft, _ := fileTime(ev.Time) // checked by systemValues
	t := newTxn(c)
	e := &enc{t: t, base: c.free + recordHeader}
	e.fragmentHeader()
	e.templateInstance("event\x00"+ev.Computer, func() *xmlElem { return eventTemplate(ev.Computer) })

	// The EventData fragment is the last value; its chunk offset follows the
	// value count, the descriptors and the other values.
	pos := int(e.off()) + 4 + 4*numSystemValues
	for _, v := range vals {
		pos += len(v.data)
	}
	d := &enc{t: t, base: pos}
	d.fragmentHeader()
	d.templateInstance(dataKey(ev.Data), func() *xmlElem { return dataTemplate(ev.Data) })
	dvals := make([]bxValue, len(ev.Data))
	for i, f := range ev.Data {
		if dvals[i], err = stringValue(f.Value, fmt.Sprintf("Data %q", f.Name)); err != nil {
			return nil, nil, err
		}
	}
	d.instanceData(dvals)
	d.u8(tokEOF)
	if len(d.b) > maxValueBytes {
		return nil, nil, fmt.Errorf("%w: EventData is %d bytes, more than a substitution holds", ErrRecordTooLarge, len(d.b))
	}
	e.instanceData(append(vals, bxValue{typ: typeBinXML, data: d.b}))
	e.u8(tokEOF)

	// Windows pads records to 8 bytes before the trailing size copy.
	size := recordHeader + len(e.b) + 4
	size = (size + 7) &^ 7
	rec := make([]byte, size)
	copy(rec[0:4], "**\x00\x00")
	binary.LittleEndian.PutUint32(rec[4:], uint32(size))
	binary.LittleEndian.PutUint64(rec[8:], id)
	binary.LittleEndian.PutUint64(rec[16:], ft)
	copy(rec[recordHeader:], e.b)
	binary.LittleEndian.PutUint32(rec[size-4:], uint32(size))
	return rec, t, nil
}
