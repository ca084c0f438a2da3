package evtxtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// HuntIDs lists the built-in hunts every expect.yaml must cover: the eight
// of the scenario brief and the pack's rundll32 staged-DLL hunt.
var HuntIDs = []string{
	"HuntQuery-Windows-BatchFromArchive-WebDAV",
	"EVTXHUNT-BatchFromArchive-WebDAV-Fixed",
	"EVTXHUNT-WebDAV-Tunnel-Mount",
	"EVTXHUNT-ScriptHost-Temp-WebDAV",
	"EVTXHUNT-Python-Contacts-Staging",
	"EVTXHUNT-Notepad-From-Python",
	"EVTXHUNT-DavSetCookie-External",
	"EVTXHUNT-Startup-Script",
	"EVTXHUNT-Rundll32-Staged-DLL",
}

// Expect is a scenario's expect.yaml: written by hand from scenarios.md and
// xdr-model.md §2, never from the tool's output.
type Expect struct {
	// Scenario is the scenario name (the directory name).
	Scenario string `yaml:"scenario"`
	// Positive is true for attack scenarios and false for benign look-alikes.
	Positive bool `yaml:"positive"`
	// Hunts maps every built-in hunt id to the processes it must and must not match.
	Hunts map[string]HuntExpect `yaml:"hunts"`
	// Ancestry lists causality facts about named processes.
	Ancestry []AncestryFact `yaml:"ancestry"`
}

// HuntExpect lists process ids (action processes of hunt rows) that a hunt
// must match and must not match; processes not listed are "don't care".
type HuntExpect struct {
	// Match holds the ids that must appear as a row's action process.
	Match []string `yaml:"match"`
	// NotMatch holds the ids that must not appear as a row's action process.
	NotMatch []string `yaml:"not_match"`
}

// AncestryFact is the expected ancestry of the process-start row of one
// process under the default actor_group causality mode.
type AncestryFact struct {
	// Process is the process id the row is about.
	Process string `yaml:"process"`
	// CausalityActor is the expected causality_actor_process_image_name.
	CausalityActor string `yaml:"causality_actor"`
	// Actor is the expected actor_process_image_name.
	Actor string `yaml:"actor"`
	// IsCausalityRoot is the expected action_process_is_causality_root.
	IsCausalityRoot *bool `yaml:"is_causality_root"`
}

// LoadExpect reads dir/expect.yaml and checks it against dir/spec.yaml:
// every hunt id is present, every process id exists and is logged, no id is
// both matched and not matched, and there is at least one ancestry fact.
func LoadExpect(dir string) (*Expect, error) {
	path := filepath.Join(dir, ExpectFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evtxtest: read expect: %w", err)
	}
	s, err := LoadScenario(dir)
	if err != nil {
		return nil, err
	}
	e, err := parseExpect(b, s)
	if err != nil {
		return nil, fmt.Errorf("evtxtest: %s: %w", path, err)
	}
	return e, nil
}

// parseExpect decodes an expect file and checks it against its scenario.
func parseExpect(b []byte, s *Scenario) (*Expect, error) {
	var e Expect
	if err := yamlDecoder(bytes.NewReader(b)).Decode(&e); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := e.validate(s); err != nil {
		return nil, err
	}
	return &e, nil
}

func (e *Expect) validate(s *Scenario) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSpec, fmt.Sprintf(format, a...))
	}
	if e.Scenario != s.Name {
		return bad("scenario %q does not match spec name %q", e.Scenario, s.Name)
	}
	known := make(map[string]bool, len(HuntIDs))
	for _, id := range HuntIDs {
		known[id] = true
		if _, ok := e.Hunts[id]; !ok {
			return bad("hunt %s is missing", id)
		}
	}
	logged := func(id string) error {
		p, ok := s.Process(id)
		if !ok {
			return bad("unknown process %q", id)
		}
		if p.Unlogged {
			return bad("process %q is unlogged and can never be a hunt row", id)
		}
		return nil
	}
	for id, h := range e.Hunts {
		if !known[id] {
			return bad("unknown hunt %s", id)
		}
		in := map[string]bool{}
		for _, pid := range h.Match {
			if err := logged(pid); err != nil {
				return fmt.Errorf("%s match: %w", id, err)
			}
			in[pid] = true
		}
		for _, pid := range h.NotMatch {
			if err := logged(pid); err != nil {
				return fmt.Errorf("%s not_match: %w", id, err)
			}
			if in[pid] {
				return bad("%s lists %q in both match and not_match", id, pid)
			}
		}
	}
	if len(e.Ancestry) == 0 {
		return bad("at least one ancestry fact is required")
	}
	for _, a := range e.Ancestry {
		if err := logged(a.Process); err != nil {
			return fmt.Errorf("ancestry: %w", err)
		}
		if a.CausalityActor == "" || a.Actor == "" || a.IsCausalityRoot == nil {
			return bad("ancestry of %q needs causality_actor, actor and is_causality_root", a.Process)
		}
	}
	return nil
}
