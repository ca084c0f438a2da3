package hunt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

func TestParseHuntSeed(t *testing.T) {
	shared := evtxtest.SharedDir(t)
	path := filepath.Join(shared, "docs", "seed-hunt-batch-from-archive-webdav.md")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHunt(path, src)
	if err != nil {
		t.Fatalf("ParseHunt: %v", err)
	}
	// Expectations written from reading the seed document.
	checks := []struct{ name, got, want string }{
		{"title", h.Title, "Detection of Batch Files Executed from ZIP Archives with WebDAV Activity"},
		{"id", h.ID, "HuntQuery-Windows-BatchFromArchive-WebDAV"},
		{"severity", h.Severity, "High"},
		{"fp rate", h.FalsePositiveRate, "Medium"},
		{"language", h.Language, "XQL (Cortex Query Language)"},
		{"platform", h.Platform, "Polo Alto Cortex XSIAM"},
		{"os", strings.Join(h.OperatingSystems, ","), "WindowsEndpoint,WindowsServer"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if h.RiskScore != 80 {
		t.Errorf("risk score = %d, want 80", h.RiskScore)
	}
	if len(h.Attack) != 4 || h.Attack[1].ID != "T1059.003" || h.Attack[3].Tactic != "TA0008 - Lateral Movement" {
		t.Errorf("attack mapping = %+v", h.Attack)
	}
	if len(h.Queries) != 1 || h.Queries[0].Language != "xql" {
		t.Fatalf("queries = %+v", h.Queries)
	}
	// The query is taken byte for byte: it is the text between the fences.
	start := strings.Index(string(src), "```xql\n") + len("```xql\n")
	end := strings.Index(string(src)[start:], "```") + start
	if h.Queries[0].Text != string(src)[start:end] {
		t.Errorf("query text differs from the fenced bytes")
	}
	if want := strings.Count(string(src)[:start], "\n") + 1; h.Queries[0].Line != want {
		t.Errorf("query line = %d, want %d", h.Queries[0].Line, want)
	}
	if len(h.FalsePositives) != 2 || !strings.HasPrefix(h.FalsePositives[0], "Users legitimately extract") {
		t.Errorf("false positives = %q", h.FalsePositives)
	}
	if len(h.ResponseActions) != 5 || !strings.HasPrefix(h.ResponseActions[4], "Block or monitor access") {
		t.Errorf("response actions = %q", h.ResponseActions)
	}
	if len(h.References) != 5 || h.References[4].URL != "https://www.securonix.com/blog/analyzing_serpentinecloud-threat-actors-abuse-cloudflare-tunnels-threat-research/" {
		t.Errorf("references = %+v", h.References)
	}
	if len(h.Versions) != 1 || h.Versions[0].Version != "1.0" || h.Versions[0].Date != "2025-06-30" {
		t.Errorf("versions = %+v", h.Versions)
	}
	if !strings.HasPrefix(h.Description, "This hunt detects the execution of batch") {
		t.Errorf("description = %.60q", h.Description)
	}
	if !h.IsXQL() || h.SkipReason() != "" {
		t.Errorf("IsXQL = %v, SkipReason = %q", h.IsXQL(), h.SkipReason())
	}
}

func TestParseHuntVariants(t *testing.T) {
	tests := []struct {
		name, src  string
		skip       string
		nQueries   int
		wantErrNoQ bool
	}{
		{"cql document is skipped with its language", "# T\n\n**Query Language:** CrowdStrike Query Language (CQL)\n\n```cql\n#event_simpleName=ProcessRollup2\n```\n", "language CrowdStrike Query Language (CQL) not supported", 1, false},
		{"fence language only", "# T\n\n## Hunt Query Syntax\n\n```xql\ndataset = xdr_data\n```\n", "", 1, false},
		{"two queries", "# T\n\n**Query Language:** XQL (Cortex Query Language)\n\n```xql\ndataset = xdr_data\n```\n\n## Hunt Query Logic (Query 2)\n\n```\ndataset = xdr_data | limit 1\n```\n", "", 2, false},
		{"no query", "# T\n\n## Hunt Analytics\n\ntext\n", "no fenced query", 0, true},
		{"unknown fence language", "# T\n\n```\nfoo\n```\n", "language unknown not supported", 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHunt("x.md", []byte(tc.src))
			if (err == ErrNoQuery) != tc.wantErrNoQ {
				t.Fatalf("err = %v, want ErrNoQuery %v", err, tc.wantErrNoQ)
			}
			if len(h.Queries) != tc.nQueries {
				t.Errorf("queries = %d, want %d", len(h.Queries), tc.nQueries)
			}
			if got := h.SkipReason(); got != tc.skip {
				t.Errorf("SkipReason = %q, want %q", got, tc.skip)
			}
		})
	}
}

func TestLoadSharedHuntDocs(t *testing.T) {
	dir := filepath.Join(evtxtest.SharedDir(t), "huntdocs")
	hunts, errs := LoadHunts([]string{dir})
	for _, err := range errs {
		t.Errorf("load: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	nmd := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			nmd++
		}
	}
	if len(hunts) != nmd {
		t.Errorf("loaded %d hunts from %d documents", len(hunts), nmd)
	}
	var xql, skipped int
	for _, h := range hunts {
		if h.Title == "" {
			t.Errorf("%s: no title", h.Path)
		}
		if h.SkipReason() != "" {
			skipped++
			continue
		}
		xql++
	}
	t.Logf("%d hunt documents: %d XQL, %d skipped (other languages)", len(hunts), xql, skipped)
	if xql == 0 {
		t.Errorf("no XQL hunt documents found")
	}
}

func TestParseHuntDeepHeadings(t *testing.T) {
	src := "# Title\n\n#### Severity or Impact of the Detected Behavior\n- **Risk Score:** 100\n- **Severity:** Critical\n\n" +
		"#### Hunt Analytics Metadata\n\n- **ID:** `HuntQuery-X`\n\n#### ATT&CK Mapping\n\n| Tactic | Technique | Subtechnique | Technique Name |\n|---|---|---|---|\n| TA0005 - Defense Evasion | T1490 | - | Inhibit System Recovery |\n\n" +
		"#### False Positives\n\n- a\n- b\n\n##### Exclusions\n\n- c\n\n#### Hunt Query Syntax\n\n```xql\ndataset = xdr_data\n```\n"
	h, err := ParseHunt("deep.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if h.RiskScore != 100 || h.Severity != "Critical" || h.ID != "HuntQuery-X" {
		t.Errorf("metadata = %d %q %q", h.RiskScore, h.Severity, h.ID)
	}
	if len(h.Attack) != 1 || h.Attack[0].ID != "T1490" || h.Attack[0].Name != "Inhibit System Recovery" {
		t.Errorf("attack = %+v", h.Attack)
	}
	if strings.Join(h.FalsePositives, ",") != "a,b,c" {
		t.Errorf("false positives = %q", h.FalsePositives)
	}
}

func TestParseHuntFenceOutsideQuerySection(t *testing.T) {
	src := "# T\n\n## Hunt Analytics\n\n```\nHKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\n```\n\n" +
		"## Hunt Query Syntax\n\n**Query Language:** XQL (Cortex Query Language)\n\n```xql\ndataset = xdr_data\n```\n"
	h, err := ParseHunt("x.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Queries) != 1 || h.Queries[0].Text != "dataset = xdr_data\n" {
		t.Errorf("queries = %+v, want only the fenced query of the query section", h.Queries)
	}
}

// TestSharedHuntDocsXQLParses: every XQL query of the public hunt documents parses.
func TestSharedHuntDocsXQLParses(t *testing.T) {
	hunts, errs := LoadHunts([]string{filepath.Join(evtxtest.SharedDir(t), "huntdocs")})
	for _, err := range errs {
		t.Errorf("load: %v", err)
	}
	n := 0
	for _, h := range hunts {
		for _, q := range h.XQLQueries() {
			n++
			if _, err := Parse(q.Text); err != nil {
				t.Errorf("%s (line %d): %v", filepath.Base(h.Path), q.Line, err)
			}
		}
	}
	t.Logf("%d XQL queries in the public hunt documents parse", n)
	if n == 0 {
		t.Error("no XQL queries found")
	}
}
