package evtxtest_test

import (
	"path/filepath"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// TestScenarioOracle decodes every committed scenario file with libevtx's
// evtxexport (the independent oracle) and checks that it holds exactly the
// events the spec converts to, and that the project's reader returns the
// same EventData values as the oracle, record by record.
func TestScenarioOracle(t *testing.T) {
	for _, s := range loadAll(t) {
		t.Run(s.Name, func(t *testing.T) {
			sysmon, security := s.Events()
			recs, _ := scanScenario(t, s.Dir)
			for _, f := range []struct {
				name   string
				events []evtxtest.Event
			}{{evtxtest.SysmonFile, sysmon}, {evtxtest.SecurityFile, security}} {
				if f.events == nil {
					continue
				}
				ex := evtxexport(t, filepath.Join(s.Dir, f.name), "items")
				checkExport(t, ex, withIDs(f.events, s.FirstRecordID))
				got := recs[f.name]
				if len(got) != len(ex) {
					t.Errorf("%s: reader returned %d records, evtxexport %d", f.name, len(got), len(ex))
					continue
				}
				for i, r := range got {
					data := ex[i].EventData.Data
					if len(r.Data) != len(data) {
						t.Errorf("%s record %d: reader has %d Data fields, evtxexport %d", f.name, r.RecordID, len(r.Data), len(data))
					}
					for _, d := range data {
						if v, ok := r.Data[d.Name]; !ok || v != d.Value {
							t.Errorf("%s record %d: reader %s = %q, evtxexport %q", f.name, r.RecordID, d.Name, v, d.Value)
						}
					}
				}
			}
		})
	}
}
