package hunt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"evtxhunt/normalize"
)

// benchDB writes n process-start rows (one in 50 shaped like the seed
// hunt's target) into a fresh database.
func benchDB(b *testing.B, n int) string {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	st, err := normalize.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO xdr_data (_time, event_type, event_sub_type, agent_os_type, agent_hostname,
		action_process_image_name, action_process_image_path, action_process_image_command_line, causality_actor_process_image_name)
		VALUES (?, 1, 1, 1, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		name, path, cmd, cgo := "svchost.exe", `C:\Windows\System32\svchost.exe`, "svchost.exe -k netsvcs", "services.exe"
		if i%50 == 0 {
			name, path, cmd, cgo = "cmd.exe", `C:\Users\u\AppData\Local\Temp\x\cmd.exe`, `cmd /c net use \\h\s`, "explorer.exe"
		}
		if _, err := ins.ExecContext(ctx, int64(1700000000000+i), fmt.Sprintf("host%d", i%20), name, path, cmd, cgo); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkRunSeed runs the seed hunt (faithful and path-sep modes) on
// 20,000 rows.
func BenchmarkRunSeed(b *testing.B) {
	path := benchDB(b, 20000)
	db, err := OpenDB(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	q, err := Parse(seedXQL(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, ps := range []bool{false, true} {
		b.Run(fmt.Sprintf("path-sep=%v", ps), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res, err := Run(context.Background(), db, q, RunOptions{PathSepInsensitive: ps})
				if err != nil {
					b.Fatal(err)
				}
				if want := map[bool]int{false: 0, true: 400}[ps]; len(res.Rows) != want {
					b.Fatalf("%d rows, want %d", len(res.Rows), want)
				}
			}
		})
	}
}
