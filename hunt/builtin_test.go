package hunt

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

func TestBuiltinPackMetadata(t *testing.T) {
	hunts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// The pack named in the hunt-pack issue and the scenario expect files.
	want := []string{
		"EVTXHUNT-BatchFromArchive-WebDAV-Fixed", "EVTXHUNT-DavSetCookie-External",
		"EVTXHUNT-Notepad-From-Python", "EVTXHUNT-Python-Contacts-Staging",
		"EVTXHUNT-Rundll32-Staged-DLL", "EVTXHUNT-ScriptHost-Temp-WebDAV",
		"EVTXHUNT-Startup-Script", "EVTXHUNT-WebDAV-Tunnel-Mount",
		"HuntQuery-Windows-BatchFromArchive-WebDAV",
	}
	if len(hunts) != len(want) {
		t.Fatalf("builtin pack has %d hunts, want %d", len(hunts), len(want))
	}
	severities := map[string]bool{"Low": true, "Medium": true, "High": true, "Critical": true}
	technique := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	for i, h := range hunts {
		if h.ID != want[i] {
			t.Errorf("hunt %d: ID %q, want %q", i, h.ID, want[i])
		}
		if !severities[h.Severity] || h.RiskScore <= 0 || h.RiskScore > 100 {
			t.Errorf("%s: severity %q risk %d", h.ID, h.Severity, h.RiskScore)
		}
		if len(h.Attack) == 0 || len(h.FalsePositives) == 0 || len(h.ResponseActions) == 0 || h.Description == "" {
			t.Errorf("%s: attack %d, false positives %d, response actions %d, description %d bytes",
				h.ID, len(h.Attack), len(h.FalsePositives), len(h.ResponseActions), len(h.Description))
		}
		for _, a := range h.Attack {
			if !technique.MatchString(a.ID) {
				t.Errorf("%s: technique id %q", h.ID, a.ID)
			}
		}
		if !h.IsXQL() || len(h.XQLQueries()) != 1 {
			t.Errorf("%s: want exactly one XQL query", h.ID)
		}
	}
}

// TestBuiltinSeedVerbatim checks that the pack's seed hunt runs the published
// query byte for byte.
func TestBuiltinSeedVerbatim(t *testing.T) {
	shared := evtxtest.SharedDir(t)
	src, err := os.ReadFile(filepath.Join(shared, "docs", "seed-hunt-batch-from-archive-webdav.md"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := ParseHunt("seed", src)
	if err != nil {
		t.Fatal(err)
	}
	hunts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hunts {
		if h.ID != seed.ID {
			continue
		}
		if h.Queries[0].Text != seed.Queries[0].Text {
			t.Errorf("builtin seed query differs from the published one:\n%s\n---\n%s", h.Queries[0].Text, seed.Queries[0].Text)
		}
		if len(h.Versions) == 0 || h.Versions[0].Version != "1.0" {
			t.Errorf("builtin seed versions = %+v, want 1.0", h.Versions)
		}
		return
	}
	t.Fatalf("builtin pack has no hunt %s", seed.ID)
}
