package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// JSON writes the whole report as one indented JSON document: every field
// of the model (see model.go for the names), all times in UTC (RFC 3339),
// plus "display_tz", the zone the human-readable outputs used.
func JSON(w io.Writer, r *Report) error {
	doc := struct {
		*Report
		DisplayTZ string `json:"display_tz"`
	}{utcReport(r), zoneName(r.displayZone())}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}

// TimesketchTimestampDesc is the timestamp_desc of every JSONL line: the
// time is that of the matched event.
const TimesketchTimestampDesc = "Event Time (evtxhunt match)"

// timesketchEvent is one JSONL line. message, datetime and timestamp_desc
// are the fields Timesketch requires; timestamp (microseconds since the
// Unix epoch) saves it from parsing datetime.
type timesketchEvent struct {
	Message        string            `json:"message"`
	Datetime       string            `json:"datetime"`
	Timestamp      int64             `json:"timestamp"`
	TimestampDesc  string            `json:"timestamp_desc"`
	DataType       string            `json:"data_type"`
	HuntID         string            `json:"hunt_id"`
	HuntTitle      string            `json:"hunt_title"`
	Severity       string            `json:"severity"`
	RiskScore      int               `json:"risk_score"`
	Host           string            `json:"host"`
	User           string            `json:"user"`
	Process        string            `json:"process"`
	CommandLine    string            `json:"command_line"`
	Parent         string            `json:"parent"`
	CausalityActor string            `json:"causality_actor"`
	Source         string            `json:"source"`
	PathSepOnly    bool              `json:"path_sep_only"`
	Fields         map[string]string `json:"fields,omitempty"`
}

// JSONL writes one JSON object per match, one per line, in the form
// Timesketch imports as is: message ("[severity] hunt: process command
// line (host, user)"), datetime (ISO 8601 UTC with microseconds and
// +00:00), timestamp (µs since the epoch), timestamp_desc
// (TimesketchTimestampDesc) and data_type "evtxhunt:match", then the hunt
// id, title, severity, risk score, the match's fields and, under "fields",
// every column of the hunt's row. Strings are exact (JSON-escaped, not
// neutralised). Hunts without matches write nothing.
func JSONL(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	for i := range r.Hunts {
		h := &r.Hunts[i]
		for j := range h.Matches {
			m := &h.Matches[j]
			ev := timesketchEvent{
				Message:        jsonlMessage(h, m),
				Datetime:       isoUTC(m.Time),
				TimestampDesc:  TimesketchTimestampDesc,
				DataType:       "evtxhunt:match",
				HuntID:         h.ID,
				HuntTitle:      h.Title,
				Severity:       h.Severity,
				RiskScore:      h.RiskScore,
				Host:           m.Host,
				User:           m.User,
				Process:        m.Process,
				CommandLine:    m.CommandLine,
				Parent:         m.Parent,
				CausalityActor: m.CausalityActor,
				Source:         m.Source,
				PathSepOnly:    m.PathSepOnly,
				Fields:         m.Values,
			}
			if !m.Time.IsZero() {
				ev.Timestamp = m.Time.UnixMicro()
			}
			if err := enc.Encode(ev); err != nil {
				return fmt.Errorf("report: jsonl %s: %w", h.ID, err)
			}
		}
	}
	return nil
}

func jsonlMessage(h *HuntResult, m *Match) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s", strings.ToLower(h.Severity), h.ID, m.Process)
	if m.CommandLine != "" {
		b.WriteString(" ")
		b.WriteString(m.CommandLine)
	}
	fmt.Fprintf(&b, " (%s, %s)", m.Host, m.User)
	return b.String()
}

// CSVHeader is the header row CSV writes.
var CSVHeader = []string{"HuntID", "Severity", "Datetime", "Host", "User", "Process", "CommandLine", "Parent", "CausalityActor", "Source"}

// CSV writes one row per match for Timeline Explorer (and spreadsheets):
//
//   - UTF-8 with a byte-order mark, so Excel and Timeline Explorer read
//     non-ASCII user and file names correctly (tools that choke on a BOM
//     can read the JSONL instead);
//   - the CSVHeader row, then RFC 4180 quoting (fields holding a comma,
//     quote, CR or LF are quoted, quotes doubled); records end in LF, and
//     CR/LF inside a field are kept byte for byte;
//   - Datetime is ISO 8601 UTC with microseconds, so rows sort as text;
//   - to keep spreadsheets from running evidence as a formula, a field
//     that starts with '=', '+', '@', TAB or CR, or with '-' followed by
//     more text, gets a leading apostrophe; that is the one change made to
//     evidence text (JSON and JSONL stay exact).
func CSV(w io.Writer, r *Report) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	for i := range r.Hunts {
		h := &r.Hunts[i]
		for j := range h.Matches {
			m := &h.Matches[j]
			row := []string{h.ID, h.Severity, isoUTC(m.Time), m.Host, m.User, m.Process, m.CommandLine, m.Parent, m.CausalityActor, m.Source}
			for k := range row {
				row[k] = defuseFormula(row[k])
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("report: csv %s: %w", h.ID, err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

// defuseFormula prefixes an apostrophe to a cell a spreadsheet would read
// as a formula. A lone "-" (how Security 4688 writes "no value") is left alone.
func defuseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if len(s) > 1 {
			return "'" + s
		}
	}
	return s
}

// utcReport returns a copy of r whose times are all in UTC, so JSON writes
// them with a Z offset whatever location the caller used.
func utcReport(r *Report) *Report {
	c := *r
	c.Generated = utcTime(r.Generated)
	c.Evidence.First = utcTime(r.Evidence.First)
	c.Evidence.Last = utcTime(r.Evidence.Last)
	c.Hunts = make([]HuntResult, len(r.Hunts))
	for i, h := range r.Hunts {
		h.Matches = append([]Match(nil), h.Matches...)
		for j := range h.Matches {
			h.Matches[j].Time = utcTime(h.Matches[j].Time)
			h.Matches[j].Tree = utcTree(h.Matches[j].Tree)
		}
		if h.Matches == nil {
			h.Matches = []Match{}
		}
		c.Hunts[i] = h
	}
	return &c
}

func utcTree(n *TreeNode) *TreeNode {
	if n == nil {
		return nil
	}
	c := *n
	c.Start = utcTime(n.Start)
	c.Children = make([]*TreeNode, len(n.Children))
	for i, ch := range n.Children {
		c.Children[i] = utcTree(ch)
	}
	return &c
}

func utcTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
