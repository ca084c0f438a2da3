package evtxtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteEVTX writes the scenario's EVTX files into dir (normally s.Dir):
// SysmonFile and/or SecurityFile as Logging says. The file of a channel
// the scenario does not log is removed, so a directory never holds stale
// evidence. The output depends only on the spec: the same spec gives the
// same bytes.
func (s *Scenario) WriteEVTX(dir string) error {
	sysmon, security := s.Events()
	for _, f := range []struct {
		name   string
		events []Event
	}{{SysmonFile, sysmon}, {SecurityFile, security}} {
		path := filepath.Join(dir, f.name)
		if f.events == nil {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("evtxtest: scenario %s: %w", s.Name, err)
			}
			continue
		}
		if err := WriteFile(path, f.events, Options{}); err != nil {
			return fmt.Errorf("evtxtest: scenario %s: %w", s.Name, err)
		}
	}
	return nil
}
