package evtxtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SharedDir returns the absolute path of the read-only ../shared folder that
// sits beside the checkout (corpus, docs, queries). When it is absent the test
// is skipped with a clear message, except under CI (CI=true), where it fails.
func SharedDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("evtxtest: cannot locate source file")
	}
	// file is <repo>/evtx/evtxtest/shared.go; shared is <repo>/../shared.
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	if env := os.Getenv("EVTXHUNT_SHARED"); env != "" {
		dir = env
	}
	dir, _ = filepath.Abs(dir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("evtxtest: %s is missing; under CI the shared corpus must be present", dir)
		}
		t.Skipf("evtxtest: %s not found: tests over the shared corpus need ../shared beside the checkout", dir)
	}
	return dir
}

// RepoRoot returns the absolute path of the repository root.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("evtxtest: cannot locate source file")
	}
	dir, _ := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	return dir
}
