package normalize_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"evtxhunt/normalize"
)

// benchRecordData is a 23-field Sysmon EID 1 EventData.
var benchRecordData = map[string]string{
	"RuleName": "-", "UtcTime": "2024-10-21 11:04:43.683", "ProcessGuid": "{DBF410B3-354B-6716-B100-000000003900}",
	"ProcessId": "6112", "Image": `C:\Windows\System32\wevtutil.exe`, "FileVersion": "10.0.19041.3636",
	"Description": "Eventing Command Line Utility", "Product": "Microsoft Windows", "Company": "Microsoft Corporation",
	"OriginalFileName": "wevtutil.exe", "CommandLine": `"C:\Windows\system32\wevtutil.exe" cl Security`,
	"CurrentDirectory": `C:\Users\admin\`, "User": `SERVER002\admin`, "LogonGuid": "{DBF410B3-354A-6716-81EF-090000000000}",
	"LogonId": "0x9ef81", "TerminalSessionId": "0", "IntegrityLevel": "High",
	"Hashes":            "SHA256=5293A95BE8F320A3AF6D8C1D5E937F13D0EE2925B9B13538487DEC0181EF5432",
	"ParentProcessGuid": "{DBF410B3-354A-6716-AB00-000000003900}", "ParentProcessId": "5616",
	"ParentImage": `C:\Windows\System32\wsmprovhost.exe`, "ParentCommandLine": `C:\Windows\system32\wsmprovhost.exe -Embedding`,
	"ParentUser": `SERVER002\admin`,
}

// BenchmarkFromRecord measures the mapping of one Sysmon EID 1 record.
func BenchmarkFromRecord(b *testing.B) {
	r := rec(sysmonProv, sysmonCh, 1, 5, benchRecordData)
	for b.Loop() {
		if _, err := normalize.FromRecord(r, normalize.MapOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsert measures storing new rows in batches of 5,000.
func BenchmarkInsert(b *testing.B) {
	ctx := context.Background()
	st, err := normalize.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r := rec(sysmonProv, sysmonCh, 1, 5, benchRecordData)
	batch := make([]normalize.Event, 0, normalize.DefaultBatchSize)
	n := uint64(0)
	flush := func() {
		if _, err := st.Insert(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for b.Loop() {
		n++
		r.RecordID = n
		ev, err := normalize.FromRecord(r, normalize.MapOptions{})
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, ev)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkIngestCorpus measures a whole ingest of the shared corpus (without
// the ancestry pass) into a fresh database.
func BenchmarkIngestCorpus(b *testing.B) {
	dir := corpusDir(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		st, err := normalize.Open(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("c%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Ingest(ctx, []string{dir}, normalize.IngestOptions{SkipAncestry: true}); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}
