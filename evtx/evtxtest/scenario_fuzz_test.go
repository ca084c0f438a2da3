package evtxtest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseScenario feeds arbitrary bytes to the spec parser and, when a
// spec is accepted, converts it to events and parses an expect file against
// it: nothing may panic, and an accepted spec always converts.
func FuzzParseScenario(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "scenarios", "*"))
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, SpecFile)); err == nil {
			f.Add(b, []byte(nil))
		}
		if b, err := os.ReadFile(filepath.Join(d, ExpectFile)); err == nil {
			f.Add([]byte(nil), b)
		}
	}
	f.Add([]byte("name: x\nprocesses:\n  -\n"), []byte("hunts: {a: 1}\nancestry: [~]\n"))
	f.Add([]byte("name: x\nhost: h\ndomain: d\nuser: u\nlogging: both\nbase_time: 2025-01-01T00:00:00Z\nprocesses:\n  - {id: p, image: i, pid: 4, unlogged: true}\n  - {id: c, parent: p, image: 'x\\y.exe', pid: 8, start: 1ms, stop: 2ms, user: 'NT AUTHORITY\\SYSTEM'}\n"),
		[]byte("scenario: x\nhunts: {}\n"))
	f.Fuzz(func(t *testing.T, spec, expect []byte) {
		s, err := parseScenario(spec, "x")
		if err != nil {
			return
		}
		sy, se := s.Events()
		if len(sy)+len(se) == 0 {
			for _, p := range s.Processes {
				if !p.Unlogged {
					t.Fatalf("logged process %q produced no event", p.ID)
				}
			}
		}
		_, _ = parseExpect(expect, s)
	})
}
