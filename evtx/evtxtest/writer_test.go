package evtxtest_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx/evtxtest"
)

// roundTripCase is one writer input checked against the oracles.
type roundTripCase struct {
	name   string
	events []evtxtest.Event
	opt    evtxtest.Options
	chunks int // expected chunk count, 0: do not check
}

// roundTripCases are the clean inputs shared by the evtxexport and reader
// round-trip tests.
func roundTripCases() []roundTripCase {
	awkward := fxSysmon1(0, "WS01", `cmd.exe /c "echo <a href='x'>&amp;</a>" & exit`)
	awkward.Data = append(awkward.Data,
		evtxtest.Field{Name: "Quotes", Value: `"double" 'single'`},
		evtxtest.Field{Name: "Markup", Value: `<>&;]]><![CDATA[x]]>&lt;`},
		evtxtest.Field{Name: "NonASCII", Value: "café naïve Привет 中文 ümlaut ß €"},
		evtxtest.Field{Name: "Empty", Value: ""},
		evtxtest.Field{Name: "Spaces", Value: "  leading and trailing  "},
		evtxtest.Field{Name: "Whitespace", Value: "tab\there\nnew line\r\ncrlf"},
		evtxtest.Field{Name: "Percent", Value: "%%1936 %1 %%"},
		evtxtest.Field{Name: "Backslashes", Value: `\\?\C:\Windows\`},
	)
	awkwardSec := fxSecurity4688(1, "WS01", "")
	awkwardSec.Computer = "Ünïcode-Host.example"

	noOptional := fxSecurity4688(0, "WS01", "x")
	noOptional.ProviderGUID = ""
	noOptional.UserSID = ""
	noOptional.Data = nil

	long := fxRepeat(`powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA `, 9000)
	longer := fxRepeat("ÄBC/x ", 20000)

	ids := fxMixed(5)
	ids[0].RecordID = 1000
	ids[2].RecordID = 5000

	// More templates than template buckets and more names than string
	// buckets, so that the hash chains are exercised.
	var shapes []evtxtest.Event
	for i := range 40 {
		ev := fxSysmon1(i, fmt.Sprintf("HOST%02d", i%7), "x")
		ev.Data = []evtxtest.Field{
			{Name: fmt.Sprintf("Field%dA", i), Value: fmt.Sprint(i)},
			{Name: fmt.Sprintf("Field%dB", i), Value: strings.Repeat("b", i)},
		}
		shapes = append(shapes, ev, ev)
	}

	return []roundTripCase{
		{name: "sysmon-eid1", events: []evtxtest.Event{fxSysmon1(0, "WS01", `"C:\Windows\system32\cmd.exe" /c whoami`)}, chunks: 1},
		{name: "security-4688", events: []evtxtest.Event{fxSecurity4688(0, "WS01", `whoami /all`)}, chunks: 1},
		{name: "same-template-twice", events: []evtxtest.Event{fxSysmon1(0, "WS01", "a"), fxSysmon1(1, "WS01", "b")}, chunks: 1},
		{name: "awkward-values", events: []evtxtest.Event{awkward, awkwardSec}, chunks: 1},
		{name: "no-optional-values", events: []evtxtest.Event{noOptional, fxSysmon1(1, "", "")}, chunks: 1},
		{name: "long-command-lines", events: []evtxtest.Event{
			fxSysmon1(0, "WS01", long), fxSecurity4688(1, "WS01", long), fxSysmon1(2, "WS01", longer), fxSysmon1(3, "WS01", "short"),
		}},
		{name: "explicit-record-ids", events: ids, chunks: 1},
		{name: "many-records-several-chunks", events: fxMixed(600)},
		{name: "max-records-per-chunk", events: fxMixed(10), opt: evtxtest.Options{MaxRecordsPerChunk: 3}, chunks: 4},
		{name: "many-templates-and-names", events: shapes},
		{name: "no-events", events: nil, chunks: 0},
	}
}

func TestWriteEvtxexportRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".evtx")
			if err := evtxtest.WriteFile(path, tc.events, tc.opt); err != nil {
				t.Fatal(err)
			}
			f := parseFile(t, path)
			if tc.chunks > 0 && len(f.chunks) != tc.chunks {
				t.Errorf("file has %d chunks, want %d", len(f.chunks), tc.chunks)
			}
			if tc.name == "many-records-several-chunks" && len(f.chunks) < 3 {
				t.Errorf("file has %d chunks, want several", len(f.chunks))
			}
			checkExport(t, evtxexport(t, path, "items"), withIDs(tc.events, 1))
			if got := evtxexport(t, path, "recovered"); len(got) != 0 {
				t.Errorf("evtxexport recovered %d records from a clean file", len(got))
			}
		})
	}
}

// TestWriteAstralPlane checks characters outside the Basic Multilingual
// Plane. libevtx 20181227 decodes UTF-16 surrogate pairs wrongly (U+1F600
// comes out as U+1F201), so evtxexport is not an oracle for them: the test
// checks the UTF-16LE bytes in the file instead.
func TestWriteAstralPlane(t *testing.T) {
	ev := fxSysmon1(0, "WS01", "emoji 😀 and 𝄞")
	var buf bytes.Buffer
	if err := evtxtest.Write(&buf, []evtxtest.Event{ev}, evtxtest.Options{}); err != nil {
		t.Fatal(err)
	}
	// "😀" is D83D DE00 in UTF-16, "𝄞" is D834 DD1E; written little-endian.
	wantBytes := []byte{'e', 0, 'm', 0, 'o', 0, 'j', 0, 'i', 0, ' ', 0, 0x3d, 0xd8, 0x00, 0xde, ' ', 0}
	if !bytes.Contains(buf.Bytes(), wantBytes) {
		t.Error("the file does not hold U+1F600 as the surrogate pair D83D DE00")
	}
	if !bytes.Contains(buf.Bytes(), []byte{0x34, 0xd8, 0x1e, 0xdd}) {
		t.Error("the file does not hold U+1D11E as the surrogate pair D834 DD1E")
	}
}

func TestWriteErrors(t *testing.T) {
	ok := fxSysmon1(0, "WS01", "x")
	mod := func(f func(*evtxtest.Event)) []evtxtest.Event {
		ev := ok
		ev.Data = append([]evtxtest.Field(nil), ok.Data...)
		f(&ev)
		return []evtxtest.Event{ev}
	}
	cases := []struct {
		name     string
		events   []evtxtest.Event
		opt      evtxtest.Options
		sentinel error  // nil: any error
		substr   string // in the message
	}{
		{name: "event-id-too-big", events: mod(func(e *evtxtest.Event) { e.EventID = 70000 }), substr: "EventID 70000"},
		{name: "negative-level", events: mod(func(e *evtxtest.Event) { e.Level = -1 }), substr: "Level -1"},
		{name: "version-too-big", events: mod(func(e *evtxtest.Event) { e.Version = 256 }), substr: "Version 256"},
		{name: "bad-guid", events: mod(func(e *evtxtest.Event) { e.ProviderGUID = "{not-a-guid}" }), substr: "bad GUID"},
		{name: "bad-sid", events: mod(func(e *evtxtest.Event) { e.UserSID = "S-1-x" }), substr: "bad SID"},
		{name: "zero-time", events: mod(func(e *evtxtest.Event) { e.Time = time.Time{} }), substr: "FILETIME"},
		{name: "value-too-long", events: mod(func(e *evtxtest.Event) { e.Data[10].Value = strings.Repeat("a", 40000) }), substr: "CommandLine"},
		{name: "record-too-large", events: mod(func(e *evtxtest.Event) {
			e.Data[10].Value = strings.Repeat("a", 30000)
			e.Data[11].Value = strings.Repeat("b", 30000)
		}), sentinel: evtxtest.ErrRecordTooLarge},
		{name: "slack-does-not-fit", events: []evtxtest.Event{ok},
			opt:      evtxtest.Options{SlackEvents: mod(func(e *evtxtest.Event) { e.Data[10].Value = strings.Repeat("a", 32000) })},
			sentinel: evtxtest.ErrRecordTooLarge},
		{name: "bad-crc-chunk-index", events: []evtxtest.Event{ok}, opt: evtxtest.Options{BadDataCRC: []int{1}}, substr: "chunk index 1"},
		{name: "truncate-too-much", events: []evtxtest.Event{ok}, opt: evtxtest.Options{TruncateBytes: 1 << 20}, substr: "truncate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := evtxtest.Write(&buf, tc.events, tc.opt)
			if err == nil {
				t.Fatal("Write succeeded, want an error")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v is not %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not mention %q", err, tc.substr)
			}
			if !strings.HasPrefix(err.Error(), "evtxtest: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing, want none", buf.Len())
			}
		})
	}
}

// BenchmarkWrite measures writing 1,000 mixed Sysmon and Security events.
func BenchmarkWrite(b *testing.B) {
	evs := fxMixed(1000)
	var buf bytes.Buffer
	if err := evtxtest.Write(&buf, evs, evtxtest.Options{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := evtxtest.Write(&buf, evs, evtxtest.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
