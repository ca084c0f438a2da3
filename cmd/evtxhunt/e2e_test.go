package main

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"evtxhunt/evtx/evtxtest"
)

// TestREADMEMainCommand runs the README's main command on the demo
// evidence: it must write the HTML report and print a non-empty match table.
func TestREADMEMainCommand(t *testing.T) {
	root := evtxtest.RepoRoot(t)
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	code, out, errs := runCmd(t, "hunt", "--db", filepath.Join(dir, "demo.db"), "--html", html, filepath.Join(root, "testdata", "scenarios"))
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatalf("HTML report not written: %v", err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte("EVTXHUNT-BatchFromArchive-WebDAV-Fixed")) {
		t.Errorf("HTML report does not look like the report of the built-in pack")
	}
	// A match table row of the corrected seed hunt: the batch run from 7-Zip's
	// temporary folder in scenario B-7zip (scenarios.md §3 B).
	if !strings.Contains(out, `7zO8A3C21F0`) || !strings.Contains(out, "│") {
		t.Errorf("no match table with the B-7zip batch in the output:\n%.3000s", out)
	}
}

// checkAccounting compares ingest_files with the manifest: every file is
// accounted for with libevtx's live record count, size and hash. key maps
// an ingest_files (path, member) to the manifest's relative path.
func checkAccounting(t *testing.T, dbPath string, manifest []evtxtest.ManifestRow, key func(path, member string) string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT path, member, sha256, bytes, records, status FROM ingest_files`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type got struct {
		sha256, status string
		bytes, records int64
	}
	seen := map[string]got{}
	for rows.Next() {
		var path, member, sha, status string
		var b, r int64
		if err := rows.Scan(&path, &member, &sha, &b, &r, &status); err != nil {
			t.Fatal(err)
		}
		seen[key(path, member)] = got{sha, status, b, r}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(manifest) {
		t.Errorf("ingest_files has %d files, manifest %d", len(seen), len(manifest))
	}
	for _, m := range manifest {
		g, ok := seen[m.Path]
		if !ok {
			t.Errorf("%s: not in ingest_files", m.Path)
			continue
		}
		if g.sha256 != m.SHA256 || g.bytes != m.Bytes {
			t.Errorf("%s: sha256/bytes %s/%d, manifest %s/%d", m.Path, g.sha256, g.bytes, m.SHA256, m.Bytes)
		}
		if g.status == "duplicate" {
			continue // a byte-identical copy of a file accounted for under its first path
		}
		if g.records != m.Records {
			t.Errorf("%s: %d live records, libevtx %d (status %s)", m.Path, g.records, m.Records, g.status)
		}
	}
}

// TestHuntCorpus runs the main job on the shared corpus: it must finish,
// write the report, and account for every file as libevtx does.
func TestHuntCorpus(t *testing.T) {
	corpus, manifest := evtxtest.Manifest(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "corpus.db")
	html := filepath.Join(dir, "corpus.html")
	code, _, errs := runCmd(t, "hunt", "--db", dbPath, "--html", html, "--quiet", corpus)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	if st, err := os.Stat(html); err != nil || st.Size() == 0 {
		t.Fatalf("HTML report: %v", err)
	}
	checkAccounting(t, dbPath, manifest, func(path, member string) string {
		rel, err := filepath.Rel(corpus, path)
		if err != nil {
			return path
		}
		return filepath.ToSlash(rel)
	})
}

// TestHuntCorpusZip does the same with the corpus zipped into one archive,
// as a KAPE or Velociraptor collection arrives.
func TestHuntCorpusZip(t *testing.T) {
	corpus, manifest := evtxtest.Manifest(t)
	dir := t.TempDir()
	zpath := filepath.Join(dir, "collection.zip")
	zipDir(t, corpus, zpath)
	dbPath := filepath.Join(dir, "zip.db")
	code, _, errs := runCmd(t, "hunt", "--db", dbPath, "--html", filepath.Join(dir, "zip.html"), "--quiet", zpath)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	checkAccounting(t, dbPath, manifest, func(path, member string) string { return member })
}

// zipDir writes every file under dir into a zip archive with slash paths
// relative to dir.
func zipDir(t *testing.T, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHuntFailOn checks --fail-on: scenario B-7zip has high-severity matches
// (the corrected seed hunt) and no critical one (no notepad.exe under python.exe).
func TestHuntFailOn(t *testing.T) {
	dir := filepath.Join(evtxtest.RepoRoot(t), "testdata", "scenarios", "B-7zip")
	db := filepath.Join(t.TempDir(), "b.db")
	if code, _, errs := runCmd(t, "hunt", "--db", db, "--quiet", "--fail-on", "high", dir); code != 3 || !strings.Contains(errs, "--fail-on high") {
		t.Errorf("--fail-on high: exit %d, stderr %q; want 3", code, errs)
	}
	if code, _, errs := runCmd(t, "hunt", "--db", db, "--quiet", "--fail-on", "critical"); code != 0 {
		t.Errorf("--fail-on critical: exit %d, stderr %q; want 0", code, errs)
	}
	if code, _, _ := runCmd(t, "hunt", "--db", db, "--fail-on", "severe"); code != 2 {
		t.Errorf("--fail-on severe: exit %d, want 2 (usage)", code)
	}
}
