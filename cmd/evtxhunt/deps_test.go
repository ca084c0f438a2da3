package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection checks that packages depend one way only:
// cmd -> report -> hunt -> normalize -> evtx.
func TestDependencyDirection(t *testing.T) {
	forbidden := map[string][]string{
		"evtxhunt/evtx":      {"evtxhunt/normalize", "evtxhunt/hunt", "evtxhunt/report", "evtxhunt/cmd"},
		"evtxhunt/normalize": {"evtxhunt/hunt", "evtxhunt/report", "evtxhunt/cmd"},
		"evtxhunt/hunt":      {"evtxhunt/report", "evtxhunt/cmd"},
		"evtxhunt/report":    {"evtxhunt/cmd"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s: dependencies must point cmd -> report -> hunt -> normalize -> evtx", pkg, dep)
				}
			}
		}
	}
}
