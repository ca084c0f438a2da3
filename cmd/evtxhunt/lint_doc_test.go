package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// lineOf returns the 1-based line of the first line of text containing sub.
func lineOf(t *testing.T, text, sub string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	t.Fatalf("%q not found", sub)
	return 0
}

// TestLintHuntDocument lints the built-in seed document: the findings point
// at the document's own lines.
func TestLintHuntDocument(t *testing.T) {
	path := filepath.Join(evtxtest.RepoRoot(t), "hunt", "builtin", "seed-batch-from-archive-webdav.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	code, out, _ := runCmd(t, "lint", path)
	if code != 1 {
		t.Errorf("exit %d, want 1 (warnings)", code)
	}
	for _, want := range []string{
		fmt.Sprintf("%s:%d:", path, lineOf(t, doc, `or action_process_image_name contains ".bat"`)),
		fmt.Sprintf("%s:%d:", path, lineOf(t, doc, `action_process_image_path contains "/temp/"`)),
		fmt.Sprintf("%s:%d:", path, lineOf(t, doc, `causality_actor_process_image_name = "7z.exe"`)),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no finding at %s in:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "[forward-slash-path]"); n != 3 {
		t.Errorf("%d forward-slash findings, want 3", n)
	}
}

// TestLintHuntDocumentOtherLanguage: a CQL document is reported skipped, not failed.
func TestLintHuntDocumentOtherLanguage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cql.md")
	doc := "# CQL hunt\n\n## Hunt Query Syntax\n\n**Query Language:** CrowdStrike Query Language (CQL)\n\n```cql\n#event_simpleName=ProcessRollup2\n```\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "lint", path)
	if code != 0 || !strings.Contains(out, "skipped: language CrowdStrike Query Language (CQL) not supported") {
		t.Errorf("exit %d, output %q", code, out)
	}
}
