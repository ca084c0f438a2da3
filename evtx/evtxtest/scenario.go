package evtxtest

//go:generate go run ./internal/genscenarios -dir ../../testdata/scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// SpecFile and ExpectFile are the file names of a scenario's readable
// specification and its hand-written hunt expectations.
const (
	SpecFile   = "spec.yaml"
	ExpectFile = "expect.yaml"
)

// SysmonFile and SecurityFile are the names of the EVTX files a scenario
// generates, spelled as Windows names the channel files on disk.
const (
	SysmonFile   = "Microsoft-Windows-Sysmon%4Operational.evtx"
	SecurityFile = "Security.evtx"
)

// Logging values say which channels a scenario's host recorded.
const (
	LoggingSysmon        = "sysmon"         // Sysmon EID 1/5 only
	LoggingSecurity      = "security"       // Security 4688/4689 with the command-line audit policy on
	LoggingSecurityNoCmd = "security-nocmd" // Security 4688/4689 with an empty CommandLine
	LoggingBoth          = "both"           // Sysmon and Security (command line on) for the same processes
	LoggingBothNoCmd     = "both-nocmd"     // Sysmon and Security (command line off)
)

// ErrSpec is wrapped by every validation error of a scenario or expect file.
var ErrSpec = errors.New("invalid scenario")

// Scenario is one synthetic host log described in a scenario's spec.yaml:
// the host, the logged-on user, which channels were recorded and the list
// of processes with their ancestry.
type Scenario struct {
	// Name is the scenario name; it must equal the directory name.
	Name string `yaml:"name"`
	// Description says in one or two sentences what the scenario shows.
	Description string `yaml:"description"`
	// Host is the fully qualified computer name written to System/Computer.
	Host string `yaml:"host"`
	// Domain is the NetBIOS domain (or the host name for a local account).
	Domain string `yaml:"domain"`
	// User is the logged-on user's account name, without the domain.
	User string `yaml:"user"`
	// UserSID is the user's SID; derived from domain and user when empty.
	UserSID string `yaml:"user_sid"`
	// LogonID is the user's logon session id in hex ("0x5a3c1f"); derived when empty.
	LogonID string `yaml:"logon_id"`
	// Logging is one of the Logging* constants.
	Logging string `yaml:"logging"`
	// BaseTime is the moment all process offsets are relative to (UTC).
	BaseTime time.Time `yaml:"base_time"`
	// FirstRecordID is the EventRecordID of the first record in each channel (default 1).
	FirstRecordID uint64 `yaml:"first_record_id"`
	// Processes lists every process of the scenario, logged or not.
	Processes []*Process `yaml:"processes"`

	// Dir is the directory the spec was loaded from.
	Dir  string `yaml:"-"`
	byID map[string]*Process
}

// Process is one process instance of a scenario.
type Process struct {
	// ID is the stable name the expect file uses (e.g. "cmd_bat").
	ID string `yaml:"id"`
	// Parent is the ID of the creating process; empty only for unlogged processes.
	Parent string `yaml:"parent"`
	// Unlogged marks a process that has no record of its own (it started
	// before the log began); it exists so that children can name it.
	Unlogged bool `yaml:"unlogged"`
	// Image is the full image path.
	Image string `yaml:"image"`
	// CommandLine is the command line exactly as Windows records it.
	CommandLine string `yaml:"cmdline"`
	// CWD is the current directory (Sysmon only); defaults to C:\Windows\system32\.
	CWD string `yaml:"cwd"`
	// PID is the process id.
	PID uint32 `yaml:"pid"`
	// Start is the offset of the process start from the scenario's base time.
	Start Offset `yaml:"start"`
	// Stop is the optional offset of the process exit (Sysmon EID 5 / Security 4689).
	Stop *Offset `yaml:"stop"`
	// Integrity is Low, Medium, High or System; defaults to Medium for the
	// user and System for service accounts.
	Integrity string `yaml:"integrity"`
	// User overrides the account ("NT AUTHORITY\SYSTEM", "CORP\svc_backup").
	User string `yaml:"user"`
	// Hashes overrides the Sysmon Hashes value; derived from the image path when empty.
	Hashes string `yaml:"hashes"`
	// Session overrides the terminal session id (default 1 for the user, 0 for services).
	Session *int `yaml:"session"`
	// PE overrides the version metadata Sysmon records for the image.
	PE *PEInfo `yaml:"pe"`
}

// PEInfo is the version-resource metadata Sysmon records for an image.
type PEInfo struct {
	// FileVersion, Description, Product, Company and OriginalFileName are
	// the Sysmon field values ("-" when the image has none).
	FileVersion      string `yaml:"file_version"`
	Description      string `yaml:"description"`
	Product          string `yaml:"product"`
	Company          string `yaml:"company"`
	OriginalFileName string `yaml:"original_file_name"`
}

// Offset is a signed duration written in the spec in Go syntax ("4.5s",
// "-2h", "350ms").
type Offset time.Duration

// UnmarshalYAML parses a Go duration string.
func (o *Offset) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: offset must be a duration such as 4.5s", n.Line)
	}
	v := strings.TrimSpace(n.Value)
	if v == "0" {
		*o = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("line %d: offset %q: %w", n.Line, v, err)
	}
	*o = Offset(d)
	return nil
}

// LoadScenario reads and validates dir/spec.yaml.
func LoadScenario(dir string) (*Scenario, error) {
	path := filepath.Join(dir, SpecFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evtxtest: read scenario: %w", err)
	}
	s, err := parseScenario(b, filepath.Base(dir))
	if err != nil {
		return nil, fmt.Errorf("evtxtest: %s: %w", path, err)
	}
	s.Dir = dir
	return s, nil
}

// parseScenario decodes and validates a spec whose directory is dirName.
func parseScenario(b []byte, dirName string) (*Scenario, error) {
	var s Scenario
	if err := yamlDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := s.validate(dirName); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadScenarios loads every scenario directory (one holding spec.yaml)
// directly under root, sorted by name.
func LoadScenarios(root string) ([]*Scenario, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("evtxtest: list scenarios: %w", err)
	}
	var out []*Scenario
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, SpecFile)); err != nil {
			continue
		}
		s, err := LoadScenario(dir)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Scenario) validate(dirName string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSpec, fmt.Sprintf(format, a...))
	}
	if s.Name != dirName {
		return bad("name %q does not match directory %q", s.Name, dirName)
	}
	if s.Host == "" || s.Domain == "" || s.User == "" {
		return bad("host, domain and user are required")
	}
	switch s.Logging {
	case LoggingSysmon, LoggingSecurity, LoggingSecurityNoCmd, LoggingBoth, LoggingBothNoCmd:
	default:
		return bad("logging %q is not one of sysmon, security, security-nocmd, both, both-nocmd", s.Logging)
	}
	if s.BaseTime.IsZero() {
		return bad("base_time is required")
	}
	if s.LogonID != "" {
		if _, err := parseHex(s.LogonID); err != nil {
			return bad("logon_id %q: %v", s.LogonID, err)
		}
	}
	if s.FirstRecordID == 0 {
		s.FirstRecordID = 1
	}
	s.byID = make(map[string]*Process, len(s.Processes))
	for i, p := range s.Processes {
		if p == nil {
			return bad("process %d is empty", i)
		}
		if p.ID == "" {
			return bad("process %d has no id", i)
		}
		if _, dup := s.byID[p.ID]; dup {
			return bad("duplicate process id %q", p.ID)
		}
		if p.Image == "" || p.PID == 0 {
			return bad("process %q needs image and pid", p.ID)
		}
		if p.PID%4 != 0 {
			return bad("process %q: Windows pids are multiples of 4, got %d", p.ID, p.PID)
		}
		if Duration(p.Start)%time.Millisecond != 0 || (p.Stop != nil && Duration(*p.Stop)%time.Millisecond != 0) {
			return bad("process %q: offsets must be whole milliseconds", p.ID)
		}
		if p.Stop != nil && *p.Stop <= p.Start {
			return bad("process %q stops before it starts", p.ID)
		}
		switch p.Integrity {
		case "", "Low", "Medium", "High", "System":
		default:
			return bad("process %q: integrity %q", p.ID, p.Integrity)
		}
		if p.User != "" && !strings.Contains(p.User, `\`) {
			return bad(`process %q: user %q must be DOMAIN\name`, p.ID, p.User)
		}
		s.byID[p.ID] = p
	}
	for _, p := range s.Processes {
		if p.Unlogged {
			if p.Parent != "" {
				return bad("unlogged process %q cannot name a parent: readers never see it", p.ID)
			}
			if p.Stop != nil {
				return bad("unlogged process %q cannot have a logged stop", p.ID)
			}
			continue
		}
		if p.Parent == "" {
			return bad("logged process %q needs a parent (add an unlogged process for one started before the log)", p.ID)
		}
		par, ok := s.byID[p.Parent]
		if !ok {
			return bad("process %q: unknown parent %q", p.ID, p.Parent)
		}
		if par.Start >= p.Start {
			return bad("process %q starts before its parent %q", p.ID, par.ID)
		}
		if par.Stop != nil && *par.Stop < p.Start {
			return bad("process %q starts after its parent %q stopped", p.ID, par.ID)
		}
	}
	// Two processes may share a pid only if one has stopped (in the log)
	// before the other starts: that is the PID-reuse case.
	for i, a := range s.Processes {
		for _, b := range s.Processes[i+1:] {
			if a.PID != b.PID {
				continue
			}
			first, second := a, b
			if second.Start < first.Start {
				first, second = second, first
			}
			if first.Stop == nil || *first.Stop >= second.Start {
				return bad("processes %q and %q share pid %d while both alive", first.ID, second.ID, a.PID)
			}
		}
	}
	return nil
}

// yamlDecoder returns a decoder that rejects unknown keys, so that a typo
// in a hand-written file fails loudly instead of being ignored.
func yamlDecoder(r io.Reader) *yaml.Decoder {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	return dec
}

// Duration returns o as a time.Duration.
func Duration(o Offset) time.Duration { return time.Duration(o) }

// Process returns the process with the given id.
func (s *Scenario) Process(id string) (*Process, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// ParentOf returns p's parent process, or nil for an unlogged process.
func (s *Scenario) ParentOf(p *Process) *Process {
	return s.byID[p.Parent]
}

// StartTime returns the absolute start time of p.
func (s *Scenario) StartTime(p *Process) time.Time {
	return s.BaseTime.UTC().Add(time.Duration(p.Start))
}

// StopTime returns the absolute exit time of p and whether it has one.
func (s *Scenario) StopTime(p *Process) (time.Time, bool) {
	if p.Stop == nil {
		return time.Time{}, false
	}
	return s.BaseTime.UTC().Add(time.Duration(*p.Stop)), true
}

// HasSysmon reports whether the scenario's host logged Sysmon events.
func (s *Scenario) HasSysmon() bool {
	return s.Logging == LoggingSysmon || s.Logging == LoggingBoth || s.Logging == LoggingBothNoCmd
}

// HasSecurity reports whether the scenario's host logged Security 4688/4689.
func (s *Scenario) HasSecurity() bool { return s.Logging != LoggingSysmon }

// SecurityCommandLine reports whether 4688 records carry the command line.
func (s *Scenario) SecurityCommandLine() bool {
	return s.Logging == LoggingSecurity || s.Logging == LoggingBoth
}

// ShortHost returns the first DNS label of the host name, as xdr_data's
// agent_hostname shows it.
func (s *Scenario) ShortHost() string {
	h, _, _ := strings.Cut(s.Host, ".")
	return h
}

// Find maps a hunt row back to a logged process of the scenario: host is
// the FQDN or its first label, pid the action process id, image the full
// path or the file name (4688 \Device\Mup\ paths match their UNC form),
// and t the row's time, which must be within 2 seconds of the process start.
// The nearest start wins when several processes fit.
func (s *Scenario) Find(host string, pid int64, image string, t time.Time) (*Process, bool) {
	if !strings.EqualFold(host, s.Host) && !strings.EqualFold(host, s.ShortHost()) {
		return nil, false
	}
	var best *Process
	var bestDelta time.Duration
	for _, p := range s.Processes {
		if p.Unlogged || int64(p.PID) != pid || !sameImage(p.Image, image) {
			continue
		}
		d := s.StartTime(p).Sub(t)
		if d < 0 {
			d = -d
		}
		if d > 2*time.Second {
			continue
		}
		if best == nil || d < bestDelta {
			best, bestDelta = p, d
		}
	}
	return best, best != nil
}

// ScenariosDir returns the absolute path of testdata/scenarios in the
// repository.
func ScenariosDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "testdata", "scenarios")
}

// FindIn searches every scenario in scs for a hunt row, as Scenario.Find does.
func FindIn(scs []*Scenario, host string, pid int64, image string, t time.Time) (*Scenario, *Process, bool) {
	for _, s := range scs {
		if p, ok := s.Find(host, pid, image, t); ok {
			return s, p, true
		}
	}
	return nil, nil, false
}

func sameImage(specImage, image string) bool {
	norm := func(v string) string {
		v = strings.ToLower(v)
		if rest, ok := strings.CutPrefix(v, `\device\mup\`); ok {
			v = `\\` + rest
		}
		return v
	}
	a, b := norm(specImage), norm(image)
	if !strings.ContainsAny(b, `\/`) {
		return baseName(a) == b
	}
	return a == b
}

func baseName(path string) string {
	if i := strings.LastIndexAny(path, `\/`); i >= 0 {
		return path[i+1:]
	}
	return path
}

func parseHex(v string) (uint64, error) {
	rest, ok := strings.CutPrefix(strings.ToLower(v), "0x")
	if !ok {
		return 0, fmt.Errorf("missing 0x prefix")
	}
	return strconv.ParseUint(rest, 16, 64)
}
