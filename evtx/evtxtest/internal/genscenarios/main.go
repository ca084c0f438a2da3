// Command genscenarios regenerates the EVTX files of every scenario under
// a directory from its spec.yaml. It runs through go generate in
// evtx/evtxtest; the output is deterministic.
package main

import (
	"flag"
	"fmt"
	"os"

	"evtxhunt/evtx/evtxtest"
)

func main() {
	dir := flag.String("dir", "testdata/scenarios", "directory holding one folder per scenario")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "genscenarios:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	scs, err := evtxtest.LoadScenarios(dir)
	if err != nil {
		return err
	}
	if len(scs) == 0 {
		return fmt.Errorf("no scenarios under %s", dir)
	}
	for _, s := range scs {
		if err := s.WriteEVTX(s.Dir); err != nil {
			return err
		}
		sy, se := s.Events()
		fmt.Printf("%-28s %-14s sysmon=%d security=%d\n", s.Name, s.Logging, len(sy), len(se))
	}
	return nil
}
