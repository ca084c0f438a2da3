package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := CSV(&buf, scenarioB7zip()); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if !strings.HasPrefix(raw, "\ufeff") {
		t.Fatalf("CSV must start with a UTF-8 BOM: %q", raw[:min(10, len(raw))])
	}
	// RFC 4180 quoting of the cmd.exe line, written out by hand.
	wantQuoted := `"C:\Windows\system32\cmd.exe /c """"C:\Users\a.novak\AppData\Local\Temp\7zO8A3C21F0\Invoice_0923.bat"" """`
	if !strings.Contains(raw, wantQuoted) {
		t.Errorf("CSV lacks the RFC 4180 quoted command line %s\n%s", wantQuoted, raw)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"HuntID", "Severity", "Datetime", "Host", "User", "Process", "CommandLine", "Parent", "CausalityActor", "Source"},
		{"HuntQuery-Windows-WebDAV-NetUse-Tunnel", "High", "2025-06-30T09:14:05.402000+00:00", "WS-FIN-0231", `CORP\a.novak`, "net.exe",
			`net  use \\ledger-harbor-quietly-summit.trycloudflare.com@SSL\DavWWWRoot`, "cmd.exe", "explorer.exe",
			`WS-FIN-0231.zip!Logs/Microsoft-Windows-Sysmon%4Operational.evtx record 48233`},
		{"HuntQuery-Windows-WebDAV-NetUse-Tunnel", "High", "2025-06-30T09:14:05.431000+00:00", "WS-FIN-0231", `CORP\a.novak`, "net1.exe",
			`C:\Windows\system32\net1  use \\ledger-harbor-quietly-summit.trycloudflare.com@SSL\DavWWWRoot`, "net.exe", "explorer.exe",
			`WS-FIN-0231.zip!Logs/Microsoft-Windows-Sysmon%4Operational.evtx record 48235`},
		{"HuntQuery-Windows-BatchFromArchiveTemp", "Medium", "2025-06-30T09:14:05.318000+00:00", "WS-FIN-0231", `CORP\a.novak`, "cmd.exe",
			`C:\Windows\system32\cmd.exe /c ""C:\Users\a.novak\AppData\Local\Temp\7zO8A3C21F0\Invoice_0923.bat" "`, "7zFM.exe", "explorer.exe",
			`WS-FIN-0231.zip!Logs/Microsoft-Windows-Sysmon%4Operational.evtx record 48230`},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%s", len(rows), len(want), raw)
	}
	for i := range want {
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d column %s = %q, want %q", i, want[0][j], rows[i][j], want[i][j])
			}
		}
	}
}

func TestCSVKeepsMultilineAndDefusesFormulas(t *testing.T) {
	r := &Report{Hunts: []HuntResult{{ID: "H", Severity: "low", Matches: []Match{
		{Time: at("2025-06-30 09:14:05.402"), Host: "=HYPERLINK(\"http://x\")", User: "-", Process: "+1", CommandLine: "line1\nline2\rend", Parent: "@SUM(A1)", CausalityActor: "-2+3"},
	}}}}
	var buf bytes.Buffer
	if err := CSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\"line1\nline2\rend\"") {
		t.Errorf("multi-line command line not kept byte for byte: %q", buf.String())
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := rows[1]
	want := map[string]string{"Host": `'=HYPERLINK("http://x")`, "User": "-", "Process": "'+1", "Parent": "'@SUM(A1)", "CausalityActor": "'-2+3"}
	for j, name := range CSVHeader {
		if w, ok := want[name]; ok && got[j] != w {
			t.Errorf("%s = %q, want %q", name, got[j], w)
		}
	}
}

func TestJSONL(t *testing.T) {
	var buf bytes.Buffer
	if err := JSONL(&buf, scenarioB7zip()); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", len(lines)+1, err, sc.Text())
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (one per match)", len(lines))
	}
	for i, l := range lines {
		for _, k := range []string{"message", "datetime", "timestamp_desc", "hunt_id", "severity", "fields"} {
			if _, ok := l[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
	}
	first := lines[0]
	checks := map[string]any{
		"message":        `[high] HuntQuery-Windows-WebDAV-NetUse-Tunnel: net.exe net  use \\ledger-harbor-quietly-summit.trycloudflare.com@SSL\DavWWWRoot (WS-FIN-0231, CORP\a.novak)`,
		"datetime":       "2025-06-30T09:14:05.402000+00:00",
		"timestamp":      float64(time.Date(2025, 6, 30, 9, 14, 5, 402e6, time.UTC).UnixMicro()),
		"timestamp_desc": TimesketchTimestampDesc,
		"hunt_id":        "HuntQuery-Windows-WebDAV-NetUse-Tunnel",
		"severity":       "High",
		"risk_score":     float64(75),
		"host":           "WS-FIN-0231",
	}
	for k, want := range checks {
		if first[k] != want {
			t.Errorf("%s = %#v, want %#v", k, first[k], want)
		}
	}
	if f, _ := first["fields"].(map[string]any); f["actor_process_image_name"] != "cmd.exe" {
		t.Errorf("fields = %#v, want the hunt's columns", first["fields"])
	}
	if lines[2]["path_sep_only"] != true {
		t.Errorf("third match should carry path_sep_only: %#v", lines[2])
	}
}

func TestJSONHasEverythingInUTC(t *testing.T) {
	r := scenarioB7zip()
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	r.TZ = prague
	r.Hunts[0].Matches[0].Time = r.Hunts[0].Matches[0].Time.In(prague) // the caller's location must not leak
	var buf bytes.Buffer
	if err := JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Report
		DisplayTZ string `json:"display_tz"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.DisplayTZ != "Europe/Prague" {
		t.Errorf("display_tz = %q", back.DisplayTZ)
	}
	if !strings.Contains(buf.String(), `"time": "2025-06-30T09:14:05.402Z"`) {
		t.Errorf("match time not written in UTC:\n%s", buf.String())
	}
	if len(back.Hunts) != 4 || len(back.Hunts[0].Matches) != 2 || back.Hunts[3].Skipped == "" {
		t.Fatalf("hunts did not round-trip: %+v", back.Hunts)
	}
	// Walk the tree of the first match: explorer → 7zFM → cmd → net (match) → net1.
	var names []string
	for n := back.Hunts[0].Matches[0].Tree; n != nil; {
		name := n.Name
		if n.IsMatch {
			name += "*"
		}
		if n.CausalityRoot {
			name = "^" + name
		}
		names = append(names, name)
		if len(n.Children) == 0 {
			break
		}
		n = n.Children[0]
	}
	if got, want := strings.Join(names, " > "), "^explorer.exe > 7zFM.exe > cmd.exe > net.exe* > net1.exe"; got != want {
		t.Errorf("tree = %s, want %s", got, want)
	}
	if back.Health.RecordsFailed["bad checksum"] != 3 || back.Evidence.Records != 18344 || back.Lint[0].Code != "no-query" {
		t.Errorf("health/evidence/lint did not round-trip: %+v %+v %+v", back.Health, back.Evidence, back.Lint)
	}
	if back.Hunts[2].Matches == nil {
		t.Errorf(`a hunt without matches must write "matches": [], not null`)
	}
}
