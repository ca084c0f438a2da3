package evtxtest_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx/evtxtest"
)

// wantScenarios is the set scenarios.md §8 asks for, plus the host that logs
// both channels (A-both) and the mixed host.
var wantScenarios = []string{
	"A", "A-4688", "A-4688-nocmd", "A-both",
	"B-explorer", "B-7zip", "B-winrar", "B-downloads",
	"C-vbs", "C-cmdstart",
	"D-netuse-exec", "D-polyglot", "D-rundll32-loader",
	"N01-gpo-logon", "N02-ad-scriptpath", "N03-sharepoint-webdav", "N04-other-webdav",
	"N05-installer-temp-bat", "N06-7zip-python-launcher", "N07-winrar-game-launcher", "N08-portable-zip",
	"N09-it-robocopy", "N10-dev-quick-tunnel", "N11-office-internal-webdav", "N12-it-wsf",
	"M-gpo-logon-then-A",
}

func scenarioRoot(t *testing.T) string {
	t.Helper()
	return filepath.Join(evtxtest.RepoRoot(t), "testdata", "scenarios")
}

func loadAll(t *testing.T) []*evtxtest.Scenario {
	t.Helper()
	scs, err := evtxtest.LoadScenarios(scenarioRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return scs
}

func TestScenarioSetComplete(t *testing.T) {
	scs := loadAll(t)
	var got []string
	for _, s := range scs {
		got = append(got, s.Name)
	}
	want := slices.Clone(wantScenarios)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("scenarios = %v\nwant %v", got, want)
	}
	hosts := map[string]string{}
	var logging = map[string]bool{}
	for _, s := range scs {
		// One host per scenario: the demo ingests them all into one database.
		if prev, dup := hosts[strings.ToLower(s.ShortHost())]; dup {
			t.Errorf("%s and %s share host %s", prev, s.Name, s.ShortHost())
		}
		hosts[strings.ToLower(s.ShortHost())] = s.Name
		logging[s.Logging] = true
	}
	for _, l := range []string{evtxtest.LoggingSysmon, evtxtest.LoggingSecurity, evtxtest.LoggingSecurityNoCmd, evtxtest.LoggingBoth} {
		if !logging[l] {
			t.Errorf("no scenario logs %q", l)
		}
	}
}

func TestScenarioExpectFiles(t *testing.T) {
	for _, s := range loadAll(t) {
		t.Run(s.Name, func(t *testing.T) {
			e, err := evtxtest.LoadExpect(s.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Hunts) != len(evtxtest.HuntIDs) {
				t.Errorf("%d hunts, want %d", len(e.Hunts), len(evtxtest.HuntIDs))
			}
			if want := !strings.HasPrefix(s.Name, "N"); e.Positive != want {
				t.Errorf("positive = %v, want %v from the name", e.Positive, want)
			}
			// The seed query, run verbatim, matches nothing anywhere.
			if m := e.Hunts["HuntQuery-Windows-BatchFromArchive-WebDAV"].Match; len(m) != 0 {
				t.Errorf("seed query must match nothing, expect lists %v", m)
			}
			matched := 0
			for _, h := range e.Hunts {
				matched += len(h.Match)
			}
			if e.Positive && matched == 0 {
				t.Error("a positive scenario must have at least one expected match")
			}
			if !e.Positive && len(e.Hunts["EVTXHUNT-BatchFromArchive-WebDAV-Fixed"].Match) != 0 {
				t.Error("look-alikes must not be matched by the fixed seed query")
			}
		})
	}
}

// TestFixedHuntCoversChainB checks the hand-written expectations against
// the scenario doc's requirement: every chain B variant is caught.
func TestFixedHuntCoversChainB(t *testing.T) {
	for _, name := range []string{"B-explorer", "B-7zip", "B-winrar", "B-downloads"} {
		e, err := evtxtest.LoadExpect(filepath.Join(scenarioRoot(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Hunts["EVTXHUNT-BatchFromArchive-WebDAV-Fixed"].Match; !slices.Contains(got, "cmd_bat") {
			t.Errorf("%s: fixed hunt must match cmd_bat, expect lists %v", name, got)
		}
	}
}

func TestScenarioValidation(t *testing.T) {
	const good = `name: x
host: H1.corp.example
domain: CORP
user: u
logging: sysmon
base_time: 2025-01-01T00:00:00Z
processes:
  - {id: explorer, unlogged: true, image: 'C:\Windows\explorer.exe', pid: 100, start: -1h}
  - {id: cmd, parent: explorer, image: 'C:\Windows\System32\cmd.exe', pid: 200, start: 1s, stop: 2s}
`
	const goodExpect = `scenario: x
positive: true
hunts:
  HuntQuery-Windows-BatchFromArchive-WebDAV: {match: [], not_match: [cmd]}
  EVTXHUNT-BatchFromArchive-WebDAV-Fixed: {match: [cmd], not_match: []}
  EVTXHUNT-WebDAV-Tunnel-Mount: {match: [], not_match: []}
  EVTXHUNT-ScriptHost-Temp-WebDAV: {match: [], not_match: []}
  EVTXHUNT-Python-Contacts-Staging: {match: [], not_match: []}
  EVTXHUNT-Notepad-From-Python: {match: [], not_match: []}
  EVTXHUNT-DavSetCookie-External: {match: [], not_match: []}
  EVTXHUNT-Startup-Script: {match: [], not_match: []}
  EVTXHUNT-Rundll32-Staged-DLL: {match: [], not_match: []}
ancestry:
  - {process: cmd, causality_actor: explorer.exe, actor: explorer.exe, is_causality_root: true}
`
	tests := []struct {
		name         string
		spec, expect string
		wantErr      bool
	}{
		{"good", good, goodExpect, false},
		{"name differs from dir", strings.Replace(good, "name: x", "name: y", 1), goodExpect, true},
		{"unknown key", good + "colour: red\n", goodExpect, true},
		{"bad logging", strings.Replace(good, "sysmon", "etw", 1), goodExpect, true},
		{"unknown parent", strings.Replace(good, "parent: explorer", "parent: nobody", 1), goodExpect, true},
		{"logged without parent", strings.Replace(good, "parent: explorer, ", "", 1), goodExpect, true},
		{"child before parent", strings.Replace(good, "start: -1h", "start: 5s", 1), goodExpect, true},
		{"stop before start", strings.Replace(good, "stop: 2s", "stop: 500ms", 1), goodExpect, true},
		{"pid not multiple of 4", strings.Replace(good, "pid: 200", "pid: 201", 1), goodExpect, true},
		{"pid clash while alive", strings.Replace(good, "pid: 200", "pid: 100", 1), goodExpect, true},
		{"sub-millisecond offset", strings.Replace(good, "start: 1s", "start: 1.0001s", 1), goodExpect, true},
		{"bad offset", strings.Replace(good, "start: 1s", "start: soon", 1), goodExpect, true},
		{"hunt missing", good, strings.Replace(goodExpect, "  EVTXHUNT-Startup-Script: {match: [], not_match: []}\n", "", 1), true},
		{"unknown hunt", good, strings.Replace(goodExpect, "ancestry:", "  EVTXHUNT-Nope: {match: [], not_match: []}\nancestry:", 1), true},
		{"unknown process", good, strings.Replace(goodExpect, "match: [cmd], not_match: []", "match: [cmdx], not_match: []", 1), true},
		{"unlogged process in hunt", good, strings.Replace(goodExpect, "match: [cmd], not_match: []", "match: [explorer], not_match: []", 1), true},
		{"match and not_match", good, strings.Replace(goodExpect, "match: [cmd], not_match: []", "match: [cmd], not_match: [cmd]", 1), true},
		{"no ancestry", good, goodExpect[:strings.Index(goodExpect, "ancestry:")], true},
		{"ancestry without root flag", good, strings.Replace(goodExpect, ", is_causality_root: true", "", 1), true},
		{"wrong scenario", good, strings.Replace(goodExpect, "scenario: x", "scenario: y", 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "x")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, evtxtest.SpecFile), []byte(tc.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, evtxtest.ExpectFile), []byte(tc.expect), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := evtxtest.LoadExpect(dir)
			if tc.wantErr != (err != nil) {
				t.Fatalf("LoadExpect error = %v, want error %v", err, tc.wantErr)
			}
			// Structural problems are ErrSpec; YAML syntax and type errors are not.
			if err != nil && tc.name != "unknown key" && tc.name != "bad offset" && !errors.Is(err, evtxtest.ErrSpec) {
				t.Errorf("error %v is not ErrSpec", err)
			}
		})
	}
}

func TestScenarioFind(t *testing.T) {
	s, err := evtxtest.LoadScenario(filepath.Join(scenarioRoot(t), "M-gpo-logon-then-A"))
	if err != nil {
		t.Fatal(err)
	}
	base := s.BaseTime
	tests := []struct {
		name  string
		host  string
		pid   int64
		image string
		t     time.Time
		want  string // "" = no match
	}{
		{"chain A cmd by short host and name", "WS-FIN-0235", 6132, "cmd.exe", base.Add(200 * time.Millisecond), "cmd_lnk"},
		{"same pid at 08:58 is the logon script", "ws-fin-0235.corp.example", 6132, `C:\Windows\System32\cmd.exe`, base.Add(-15*time.Minute - 57500*time.Millisecond), "cmd_logon"},
		{"pid reuse across images", "WS-FIN-0235", 7144, "Robocopy.exe", base.Add(400 * time.Millisecond), "robocopy"},
		{"pid reuse, old image", "WS-FIN-0235", 7144, "net.exe", base.Add(-15*time.Minute - 57*time.Second), "net_h"},
		{"within 2 s", "WS-FIN-0235", 7460, "cscript.exe", base.Add(4 * time.Second), "cscript_tank"},
		{"too far in time", "WS-FIN-0235", 7460, "cscript.exe", base.Add(6 * time.Second), ""},
		{"wrong host", "WS-FIN-0231", 7460, "cscript.exe", base.Add(3 * time.Second), ""},
		{"wrong image", "WS-FIN-0235", 7460, "wscript.exe", base.Add(3 * time.Second), ""},
		{"unlogged processes are never rows", "WS-FIN-0235", 612, "winlogon.exe", base.Add(-20 * time.Minute), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := s.Find(tc.host, tc.pid, tc.image, tc.t)
			got := ""
			if ok {
				got = p.ID
			}
			if got != tc.want {
				t.Errorf("Find = %q, want %q", got, tc.want)
			}
		})
	}

	d, err := evtxtest.LoadScenario(filepath.Join(scenarioRoot(t), "D-netuse-exec"))
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := d.Process("invoice_exe")
	for _, img := range []string{`\\198.51.100.23\DavWWWRoot\invoice.exe`, `\Device\Mup\198.51.100.23\DavWWWRoot\invoice.exe`, "invoice.exe"} {
		sc, p, ok := evtxtest.FindIn([]*evtxtest.Scenario{s, d}, "WS-ACC-0107", int64(inv.PID), img, d.StartTime(inv))
		if !ok || sc != d || p != inv {
			t.Errorf("FindIn(%s) = %v, %v, %v", img, sc, p, ok)
		}
	}
}
