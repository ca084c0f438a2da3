package evtx_test

import (
	"context"
	"fmt"

	"evtxhunt/evtx"
)

// ExampleScan reads a KAPE collection and a log folder, keeping Sysmon
// process creations and Security 4688 records, and prints each file's accounting.
func ExampleScan() {
	opt := evtx.Options{Want: []evtx.Want{
		{Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1},
		{Channel: "Security", EventID: 4688},
	}}
	h := evtx.Handler{
		Record: func(r *evtx.Record) error {
			fmt.Println(r.Time.Format("2006-01-02T15:04:05.0000000Z"), r.Computer, r.EventID, r.Data["CommandLine"], r.Recovered)
			return nil
		},
		FileDone: func(st evtx.FileStats) error {
			fmt.Printf("%s %s: %s, %d live records (%d failed), %d recovered, %d wanted\n",
				st.Path, st.Member, st.Status, st.Records, st.RecordsFailed, st.RecordsRecovered, st.Wanted)
			return nil
		},
	}
	if err := evtx.Scan(context.Background(), []string{"collection.zip", "logs/"}, opt, h); err != nil {
		fmt.Println(err)
	}
}
