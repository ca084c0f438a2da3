package evtxtest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
)

// scanScenario reads every file of a scenario directory with evtx.Scan and
// returns the records and the stats of the EVTX files, keyed by file name.
func scanScenario(t *testing.T, dir string) (map[string][]*evtx.Record, map[string]evtx.FileStats) {
	t.Helper()
	recs := map[string][]*evtx.Record{}
	stats := map[string]evtx.FileStats{}
	err := evtx.Scan(context.Background(), []string{dir}, evtx.Options{}, evtx.Handler{
		Record: func(r *evtx.Record) error {
			name := filepath.Base(r.Source.Path)
			recs[name] = append(recs[name], r)
			return nil
		},
		FileDone: func(st evtx.FileStats) error {
			if strings.HasSuffix(st.Path, ".evtx") {
				stats[filepath.Base(st.Path)] = st
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return recs, stats
}

// expectedUser spells the account of p the way Sysmon's User field does.
func expectedUser(s *evtxtest.Scenario, p *evtxtest.Process) string {
	if p.User != "" {
		return p.User
	}
	return s.Domain + `\` + s.User
}

func isService(user string) bool {
	return strings.HasPrefix(strings.ToUpper(user), `NT AUTHORITY\`)
}

func expectedIntegrity(s *evtxtest.Scenario, p *evtxtest.Process) string {
	if p.Integrity != "" {
		return p.Integrity
	}
	if isService(expectedUser(s, p)) {
		return "System"
	}
	return "Medium"
}

func mup(image string) string {
	if rest, ok := strings.CutPrefix(image, `\\`); ok {
		return `\Device\Mup\` + rest
	}
	return image
}

func hexPID(v string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32)
	return uint32(n), err
}

// near reports whether a record time lies in [want, want+1ms): the writer
// stamps records a fraction of a millisecond after the process event.
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return d >= 0 && d < time.Millisecond
}

// TestScenarioEVTX reads each scenario's committed EVTX files with the
// project's reader and checks every record against the spec: the accounting
// per file, one start record per logged process (image, command line, pids,
// parent fields, user, time) and one stop record per stop offset.
func TestScenarioEVTX(t *testing.T) {
	for _, s := range loadAll(t) {
		t.Run(s.Name, func(t *testing.T) {
			recs, stats := scanScenario(t, s.Dir)
			wantFiles := map[string]bool{}
			if s.HasSysmon() {
				wantFiles[evtxtest.SysmonFile] = true
			}
			if s.HasSecurity() {
				wantFiles[evtxtest.SecurityFile] = true
			}
			if len(stats) != len(wantFiles) {
				t.Errorf("EVTX files %v, want %v", keys(stats), wantFiles)
			}
			starts, stops := 0, 0
			for _, p := range s.Processes {
				if p.Unlogged {
					continue
				}
				starts++
				if p.Stop != nil {
					stops++
				}
			}
			for name := range wantFiles {
				st, ok := stats[name]
				if !ok {
					t.Errorf("%s missing", name)
					continue
				}
				if st.Status != evtx.StatusOK || st.RecordsFailed != 0 || st.ChunksBad != 0 || st.RecordsRecovered != 0 {
					t.Errorf("%s: status %s, failed %d, bad chunks %d, recovered %d", name, st.Status, st.RecordsFailed, st.ChunksBad, st.RecordsRecovered)
				}
				if st.Records != starts+stops || len(recs[name]) != starts+stops {
					t.Errorf("%s: %d records (%d delivered), want %d starts + %d stops", name, st.Records, len(recs[name]), starts, stops)
				}
				checkRecordOrder(t, s, name, recs[name])
			}
			if s.HasSysmon() {
				checkSysmon(t, s, recs[evtxtest.SysmonFile])
			}
			if s.HasSecurity() {
				checkSecurity(t, s, recs[evtxtest.SecurityFile])
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func checkRecordOrder(t *testing.T, s *evtxtest.Scenario, name string, rs []*evtx.Record) {
	t.Helper()
	for i, r := range rs {
		if want := s.FirstRecordID + uint64(i); r.RecordID != want {
			t.Errorf("%s record %d: EventRecordID %d, want %d", name, i, r.RecordID, want)
		}
		if i > 0 && r.Time.Before(rs[i-1].Time) {
			t.Errorf("%s record %d: time %v before the previous record", name, i, r.Time)
		}
		if r.Computer != s.Host {
			t.Errorf("%s record %d: Computer %q, want %q", name, i, r.Computer, s.Host)
		}
	}
}

// field compares one Data value and reports a mismatch.
func field(t *testing.T, id string, r *evtx.Record, name, want string) {
	t.Helper()
	if got, ok := r.Data[name]; !ok || got != want {
		t.Errorf("%s: %s = %q (present %v), want %q", id, name, got, ok, want)
	}
}

func checkSysmon(t *testing.T, s *evtxtest.Scenario, rs []*evtx.Record) {
	t.Helper()
	created := map[string]*evtx.Record{}
	stopped := map[string]*evtx.Record{}
	for _, r := range rs {
		if r.Channel != evtxtest.SysmonChannel || r.Provider != evtxtest.SysmonProvider {
			t.Errorf("record %d: channel %q provider %q", r.RecordID, r.Channel, r.Provider)
			continue
		}
		pid, err := strconv.ParseUint(r.Data["ProcessId"], 10, 32)
		if err != nil {
			t.Errorf("record %d: ProcessId %q", r.RecordID, r.Data["ProcessId"])
			continue
		}
		p := findByPIDImage(s, uint32(pid), r.Data["Image"], r.Data["UtcTime"], r.EventID == 5)
		if p == nil {
			t.Errorf("record %d (EID %d): no spec process with pid %d image %q at %s", r.RecordID, r.EventID, pid, r.Data["Image"], r.Data["UtcTime"])
			continue
		}
		switch r.EventID {
		case 1:
			if created[p.ID] != nil {
				t.Errorf("%s: two EID 1 records", p.ID)
			}
			created[p.ID] = r
		case 5:
			if stopped[p.ID] != nil {
				t.Errorf("%s: two EID 5 records", p.ID)
			}
			stopped[p.ID] = r
		default:
			t.Errorf("record %d: unexpected Sysmon event id %d", r.RecordID, r.EventID)
		}
	}
	guids := map[string]string{}
	for _, p := range s.Processes {
		if p.Unlogged {
			continue
		}
		r := created[p.ID]
		if r == nil {
			t.Errorf("%s: no Sysmon EID 1", p.ID)
			continue
		}
		par := s.ParentOf(p)
		if r.Version != 5 {
			t.Errorf("%s: EID 1 version %d, want 5", p.ID, r.Version)
		}
		if !near(r.Time, s.StartTime(p)) {
			t.Errorf("%s: TimeCreated %v, want just after %v", p.ID, r.Time, s.StartTime(p))
		}
		field(t, p.ID, r, "CommandLine", p.CommandLine)
		cwd := p.CWD
		if cwd == "" {
			cwd = `C:\Windows\system32\`
		}
		field(t, p.ID, r, "CurrentDirectory", cwd)
		field(t, p.ID, r, "User", expectedUser(s, p))
		field(t, p.ID, r, "IntegrityLevel", expectedIntegrity(s, p))
		field(t, p.ID, r, "ParentProcessId", strconv.FormatUint(uint64(par.PID), 10))
		field(t, p.ID, r, "ParentImage", par.Image)
		field(t, p.ID, r, "ParentCommandLine", par.CommandLine)
		field(t, p.ID, r, "ParentUser", expectedUser(s, par))
		if h := r.Data["Hashes"]; !strings.HasPrefix(h, "SHA1=") || !strings.Contains(h, ",MD5=") || !strings.Contains(h, ",SHA256=") || !strings.Contains(h, ",IMPHASH=") {
			t.Errorf("%s: Hashes %q", p.ID, h)
		}
		if lid := r.Data["LogonId"]; !strings.HasPrefix(lid, "0x") {
			t.Errorf("%s: LogonId %q is not hex", p.ID, lid)
		}
		for _, name := range []string{"RuleName", "ProcessGuid", "FileVersion", "Description", "Product", "Company", "OriginalFileName", "LogonGuid", "TerminalSessionId", "ParentProcessGuid"} {
			if r.Data[name] == "" {
				t.Errorf("%s: %s is empty", p.ID, name)
			}
		}
		g := r.Data["ProcessGuid"]
		if other, dup := guids[g]; dup {
			t.Errorf("%s and %s share ProcessGuid %s", other, p.ID, g)
		}
		guids[g] = p.ID
	}
	for _, p := range s.Processes {
		if p.Unlogged {
			continue
		}
		r := created[p.ID]
		if r == nil {
			continue
		}
		// A logged parent's ProcessGuid is the child's ParentProcessGuid.
		if par := s.ParentOf(p); !par.Unlogged && created[par.ID] != nil {
			if got, want := r.Data["ParentProcessGuid"], created[par.ID].Data["ProcessGuid"]; got != want {
				t.Errorf("%s: ParentProcessGuid %s, parent %s has %s", p.ID, got, par.ID, want)
			}
		}
		stop, hasStop := s.StopTime(p)
		sr := stopped[p.ID]
		if hasStop != (sr != nil) {
			t.Errorf("%s: stop in spec %v, EID 5 present %v", p.ID, hasStop, sr != nil)
			continue
		}
		if sr == nil {
			continue
		}
		if !near(sr.Time, stop) {
			t.Errorf("%s: EID 5 at %v, want just after %v", p.ID, sr.Time, stop)
		}
		field(t, p.ID, sr, "ProcessGuid", r.Data["ProcessGuid"])
		field(t, p.ID, sr, "User", expectedUser(s, p))
	}
}

func findByPIDImage(s *evtxtest.Scenario, pid uint32, image, utc string, stop bool) *evtxtest.Process {
	for _, p := range s.Processes {
		if p.Unlogged || p.PID != pid || p.Image != image {
			continue
		}
		at := s.StartTime(p)
		if stop {
			st, ok := s.StopTime(p)
			if !ok {
				continue
			}
			at = st
		}
		if at.Format(evtxtest.SysmonTimeLayout) == utc {
			return p
		}
	}
	return nil
}

func checkSecurity(t *testing.T, s *evtxtest.Scenario, rs []*evtx.Record) {
	t.Helper()
	created := map[string]*evtx.Record{}
	exited := map[string]*evtx.Record{}
	for _, r := range rs {
		if r.Channel != evtxtest.SecurityChannel || r.Provider != evtxtest.SecurityProvider {
			t.Errorf("record %d: channel %q provider %q", r.RecordID, r.Channel, r.Provider)
			continue
		}
		var pidField, imageField string
		switch r.EventID {
		case 4688:
			pidField, imageField = "NewProcessId", "NewProcessName"
		case 4689:
			pidField, imageField = "ProcessId", "ProcessName"
		default:
			t.Errorf("record %d: unexpected Security event id %d", r.RecordID, r.EventID)
			continue
		}
		pid, err := hexPID(r.Data[pidField])
		if err != nil || !strings.HasPrefix(r.Data[pidField], "0x") {
			t.Errorf("record %d: %s %q is not a hex pid", r.RecordID, pidField, r.Data[pidField])
			continue
		}
		var match *evtxtest.Process
		for _, p := range s.Processes {
			if p.Unlogged || p.PID != pid || mup(p.Image) != r.Data[imageField] {
				continue
			}
			at := s.StartTime(p)
			if r.EventID == 4689 {
				st, ok := s.StopTime(p)
				if !ok {
					continue
				}
				at = st
			}
			if near(r.Time, at) {
				match = p
			}
		}
		if match == nil {
			t.Errorf("record %d (%d): no spec process with pid %d image %q at %v", r.RecordID, r.EventID, pid, r.Data[imageField], r.Time)
			continue
		}
		m := created
		if r.EventID == 4689 {
			m = exited
		}
		if m[match.ID] != nil {
			t.Errorf("%s: two %d records", match.ID, r.EventID)
		}
		m[match.ID] = r
	}
	for _, p := range s.Processes {
		if p.Unlogged {
			continue
		}
		r := created[p.ID]
		if r == nil {
			t.Errorf("%s: no 4688", p.ID)
			continue
		}
		par := s.ParentOf(p)
		if r.Version != 2 {
			t.Errorf("%s: 4688 version %d, want 2", p.ID, r.Version)
		}
		cmd := p.CommandLine
		if !s.SecurityCommandLine() {
			cmd = ""
		}
		field(t, p.ID, r, "CommandLine", cmd)
		field(t, p.ID, r, "ProcessId", fmt.Sprintf("0x%x", par.PID))
		field(t, p.ID, r, "ParentProcessName", mup(par.Image))
		label := map[string]string{"Low": "S-1-16-4096", "Medium": "S-1-16-8192", "High": "S-1-16-12288", "System": "S-1-16-16384"}[expectedIntegrity(s, p)]
		field(t, p.ID, r, "MandatoryLabel", label)
		user, puser := expectedUser(s, p), expectedUser(s, par)
		if !strings.EqualFold(user, puser) {
			// The new process runs as another account than its creator.
			_, name, _ := strings.Cut(user, `\`)
			field(t, p.ID, r, "TargetUserName", name)
		} else {
			field(t, p.ID, r, "TargetUserSid", "S-1-0-0")
		}
		if _, name, _ := strings.Cut(puser, `\`); !isService(puser) {
			field(t, p.ID, r, "SubjectUserName", name)
		} else if strings.EqualFold(puser, `NT AUTHORITY\SYSTEM`) {
			field(t, p.ID, r, "SubjectUserSid", "S-1-5-18")
		}
		_, hasStop := s.StopTime(p)
		if hasStop != (exited[p.ID] != nil) {
			t.Errorf("%s: stop in spec %v, 4689 present %v", p.ID, hasStop, exited[p.ID] != nil)
		}
		if e := exited[p.ID]; e != nil {
			field(t, p.ID, e, "Status", "0x0")
		}
	}
}

// TestScenarioRegenerate rewrites every scenario from its spec into a
// temporary directory and compares the bytes with the committed files:
// generation is deterministic and the committed evidence is up to date
// (run go generate ./evtx/evtxtest after editing a spec).
func TestScenarioRegenerate(t *testing.T) {
	for _, s := range loadAll(t) {
		t.Run(s.Name, func(t *testing.T) {
			tmp := t.TempDir()
			if err := s.WriteEVTX(tmp); err != nil {
				t.Fatal(err)
			}
			again := t.TempDir()
			if err := s.WriteEVTX(again); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{evtxtest.SysmonFile, evtxtest.SecurityFile} {
				fresh, ferr := os.ReadFile(filepath.Join(tmp, name))
				second, _ := os.ReadFile(filepath.Join(again, name))
				committed, cerr := os.ReadFile(filepath.Join(s.Dir, name))
				if (ferr == nil) != (cerr == nil) {
					t.Errorf("%s: generated %v, committed %v", name, ferr == nil, cerr == nil)
					continue
				}
				if ferr != nil {
					continue
				}
				if !bytes.Equal(fresh, second) {
					t.Errorf("%s: two generations differ", name)
				}
				if !bytes.Equal(fresh, committed) {
					t.Errorf("%s: committed file is stale; run go generate ./evtx/evtxtest", name)
				}
			}
		})
	}
}
