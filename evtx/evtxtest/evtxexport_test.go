package evtxtest_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx/evtxtest"
)

// xEvent is one <Event> of `evtxexport -f xml` output (libevtx), the
// independent oracle for the writer.
type xEvent struct {
	System struct {
		Provider struct {
			Name string `xml:"Name,attr"`
			GUID string `xml:"Guid,attr"`
		}
		EventID     string
		Version     string
		Level       string
		Task        string
		Opcode      string
		Keywords    string
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		}
		EventRecordID string
		Execution     struct {
			ProcessID string `xml:"ProcessID,attr"`
			ThreadID  string `xml:"ThreadID,attr"`
		}
		Channel  string
		Computer string
		Security struct {
			UserID string `xml:"UserID,attr"`
		}
	}
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		}
	}
}

// evtxexport runs libevtx's evtxexport in XML mode ("items", "recovered" or
// "all") and decodes its events.
func evtxexport(t *testing.T, path, mode string) []xEvent {
	t.Helper()
	bin, err := exec.LookPath("evtxexport")
	if err != nil {
		t.Fatalf("evtxexport (libevtx-utils) is required as the independent oracle: %v", err)
	}
	cmd := exec.Command(bin, "-f", "xml", "-m", mode, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("evtxexport %s: %v\n%s", path, err, stderr.String())
	}
	// evtxexport writes CR bytes raw; XML parsers turn them into LF, so
	// escape them to keep values byte-exact.
	out = bytes.ReplaceAll(out, []byte("\r"), []byte("&#xD;"))
	// Skip the banner line ("evtxexport 20181227").
	if i := bytes.Index(out, []byte("<Event")); i >= 0 {
		out = out[i:]
	} else {
		return nil
	}
	dec := xml.NewDecoder(bytes.NewReader(out))
	var evs []xEvent
	for {
		var ev xEvent
		err := dec.Decode(&ev)
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatalf("evtxexport %s: decode event %d: %v", path, len(evs), err)
		}
		evs = append(evs, ev)
	}
}

// want is an input event with its record identifier resolved.
type want struct {
	evtxtest.Event
	id uint64
}

// withIDs resolves record identifiers the way the writer documents it:
// 0 means the previous identifier plus one, starting at first.
func withIDs(evs []evtxtest.Event, first uint64) []want {
	out := make([]want, len(evs))
	next := first
	for i, ev := range evs {
		id := ev.RecordID
		if id == 0 {
			id = next
		}
		next = id + 1
		out[i] = want{ev, id}
	}
	return out
}

// diffExport compares one evtxexport event with the input, field by field,
// and returns the differences.
func diffExport(w want, g xEvent) []string {
	var d []string
	cmp := func(field, got, want string) {
		if got != want {
			d = append(d, fmt.Sprintf("%s = %q, want %q", field, got, want))
		}
	}
	s := g.System
	cmp("Provider", s.Provider.Name, w.Provider)
	cmp("Provider/@Guid", strings.ToUpper(s.Provider.GUID), strings.ToUpper(w.ProviderGUID))
	cmp("EventID", s.EventID, strconv.Itoa(w.EventID))
	cmp("Version", s.Version, strconv.Itoa(w.Version))
	cmp("Level", s.Level, strconv.Itoa(w.Level))
	cmp("Task", s.Task, strconv.Itoa(w.Task))
	cmp("Opcode", s.Opcode, strconv.Itoa(w.Opcode))
	cmp("Keywords", s.Keywords, fmt.Sprintf("0x%016x", w.Keywords))
	// libevtx prints nine fraction digits; FILETIME keeps 100 ns.
	cmp("TimeCreated", s.TimeCreated.SystemTime, w.Time.UTC().Truncate(100*time.Nanosecond).Format("2006-01-02T15:04:05.000000000Z"))
	cmp("EventRecordID", s.EventRecordID, strconv.FormatUint(w.id, 10))
	cmp("ProcessID", s.Execution.ProcessID, strconv.FormatUint(uint64(w.ProcessID), 10))
	cmp("ThreadID", s.Execution.ThreadID, strconv.FormatUint(uint64(w.ThreadID), 10))
	cmp("Channel", s.Channel, w.Channel)
	cmp("Computer", s.Computer, w.Computer)
	cmp("Security/@UserID", s.Security.UserID, w.UserSID)
	if len(g.EventData.Data) != len(w.Data) {
		d = append(d, fmt.Sprintf("%d Data elements, want %d", len(g.EventData.Data), len(w.Data)))
		return d
	}
	for i, f := range w.Data {
		cmp(fmt.Sprintf("Data[%d]/@Name", i), g.EventData.Data[i].Name, f.Name)
		cmp(fmt.Sprintf("Data[%d] %s", i, f.Name), g.EventData.Data[i].Value, f.Value)
	}
	return d
}

// checkExport asserts that evtxexport read exactly the wanted events, in order.
func checkExport(t *testing.T, got []xEvent, ws []want) {
	t.Helper()
	if len(got) != len(ws) {
		t.Errorf("evtxexport read %d events, want %d", len(got), len(ws))
	}
	for i := 0; i < len(got) && i < len(ws); i++ {
		for _, d := range diffExport(ws[i], got[i]) {
			t.Errorf("evtxexport record %d: %s", ws[i].id, short(d))
		}
	}
}

// short keeps failure messages readable for very long values.
func short(s string) string {
	if len(s) > 400 {
		return s[:200] + fmt.Sprintf("...(%d bytes)...", len(s)-400) + s[len(s)-200:]
	}
	return s
}
