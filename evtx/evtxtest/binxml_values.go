package evtxtest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// maxValueBytes is the largest substitution value: its size field is 16 bits.
const maxValueBytes = 0xffff

func nullValue() bxValue { return bxValue{typ: typeNull} }

func u8Value(v int, what string) (bxValue, error) {
	if v < 0 || v > 0xff {
		return bxValue{}, fmt.Errorf("%s %d does not fit in 8 bits", what, v)
	}
	return bxValue{typ: typeUInt8, data: []byte{byte(v)}}, nil
}

func u16Value(v int, what string) (bxValue, error) {
	if v < 0 || v > 0xffff {
		return bxValue{}, fmt.Errorf("%s %d does not fit in 16 bits", what, v)
	}
	return bxValue{typ: typeUInt16, data: binary.LittleEndian.AppendUint16(nil, uint16(v))}, nil
}

func u32Value(v uint32) bxValue {
	return bxValue{typ: typeUInt32, data: binary.LittleEndian.AppendUint32(nil, v)}
}

func u64Value(typ byte, v uint64) bxValue {
	return bxValue{typ: typ, data: binary.LittleEndian.AppendUint64(nil, v)}
}

// stringValue encodes s as UTF-16LE without a terminating NUL, the way
// Windows writes string substitutions.
func stringValue(s, what string) (bxValue, error) {
	u := utf16.Encode([]rune(s))
	if 2*len(u) > maxValueBytes {
		return bxValue{}, fmt.Errorf("%s is %d UTF-16 code units, more than a substitution holds (%d)", what, len(u), maxValueBytes/2)
	}
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return bxValue{typ: typeString, data: b}, nil
}

// fileTime converts t to a FILETIME: 100 ns intervals since 1601-01-01 UTC.
func fileTime(t time.Time) (uint64, error) {
	const epochDelta = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	s := t.Unix() + epochDelta
	if s < 0 || s > (1<<63-1)/10_000_000-1 {
		return 0, fmt.Errorf("time %s is outside the FILETIME range", t.Format(time.RFC3339Nano))
	}
	return uint64(s)*10_000_000 + uint64(t.Nanosecond()/100), nil
}

// guidValue parses "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (braces
// optional) into the mixed-endian GUID layout.
func guidValue(s string) (bxValue, error) {
	b, err := parseGUID(s)
	if err != nil {
		return bxValue{}, err
	}
	return bxValue{typ: typeGUID, data: b[:]}, nil
}

func parseGUID(s string) ([16]byte, error) {
	var g [16]byte
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	parts := strings.Split(t, "-")
	if len(parts) != 5 || len(parts[0]) != 8 || len(parts[1]) != 4 || len(parts[2]) != 4 || len(parts[3]) != 4 || len(parts[4]) != 12 {
		return g, fmt.Errorf("bad GUID %q", s)
	}
	raw, err := hex.DecodeString(strings.Join(parts, ""))
	if err != nil {
		return g, fmt.Errorf("bad GUID %q: %w", s, err)
	}
	// Data1, Data2 and Data3 are little-endian; Data4 is a byte array.
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, nil
}

// sidValue parses "S-1-5-21-..." into the binary SID layout: revision,
// sub-authority count, 48-bit big-endian authority, little-endian
// 32-bit sub-authorities.
func sidValue(s string) (bxValue, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || parts[0] != "S" {
		return bxValue{}, fmt.Errorf("bad SID %q", s)
	}
	rev, err := strconv.ParseUint(parts[1], 10, 8)
	if err != nil {
		return bxValue{}, fmt.Errorf("bad SID %q: revision: %w", s, err)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return bxValue{}, fmt.Errorf("bad SID %q: authority: %w", s, err)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return bxValue{}, fmt.Errorf("bad SID %q: %d sub-authorities, at most 15", s, len(subs))
	}
	b := []byte{byte(rev), byte(len(subs))}
	for i := 5; i >= 0; i-- {
		b = append(b, byte(auth>>(8*i)))
	}
	for _, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return bxValue{}, fmt.Errorf("bad SID %q: sub-authority: %w", s, err)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return bxValue{typ: typeSID, data: b}, nil
}
