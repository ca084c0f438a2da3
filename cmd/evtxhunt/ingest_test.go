package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx/evtxtest"
	"evtxhunt/normalize"
)

// runIngest runs the ingest command in-process and returns its stdout.
func runIngest(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := &IngestCommand{env: Env{Stdout: &out, Stderr: &errOut}}
	if err := cmd.Run(context.Background(), args); err != nil {
		t.Fatalf("ingest %v: %v\nstderr: %s", args, err, errOut.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("ingest wrote to stderr without a terminal: %q", errOut.String())
	}
	return out.String()
}

// rowCount opens a database read-only and counts xdr_data rows.
func rowCount(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM xdr_data").Scan(&n); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

// TestIngestCommandUsage checks the usage errors.
func TestIngestCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no db", []string{"x.evtx"}},
		{"no input", []string{"--db", "x.db"}},
		{"bad from", []string{"--db", "x.db", "--from", "yesterday", "x"}},
		{"to before from", []string{"--db", "x.db", "--from", "2024-10-22", "--to", "2024-10-21T00:00:00Z", "x"}},
		{"bad batch", []string{"--db", "x.db", "--batch", "0", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := (&IngestCommand{env: Env{Stdout: &out, Stderr: &errOut}}).Run(context.Background(), tc.args)
			if !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

// TestIngestCommandReadableInSQLiteShell ingests the corpus with the command
// and reads the result with the sqlite3 shell: the readable view must show
// the ENUM names of the integers stored in xdr_data.
func TestIngestCommandReadableInSQLiteShell(t *testing.T) {
	corpus := filepath.Join(evtxtest.SharedDir(t), "corpus", "evtx")
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatalf("the sqlite3 shell is required (apt-get install sqlite3): %v", err)
	}
	dbPath := filepath.Join(t.TempDir(), "case.db")
	out := runIngest(t, "--db", dbPath, "--quiet", corpus)
	for _, want := range []string{"PROCESS ROWS ADDED", "DUPLICATES"} {
		if !strings.Contains(strings.ToUpper(out), want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	query := func(q string) []string {
		t.Helper()
		b, err := exec.Command(shell, "-readonly", "-batch", dbPath, q).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %q: %v\n%s", q, err, b)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		sort.Strings(lines)
		return lines
	}
	if again := runIngest(t, "--db", dbPath, "--quiet", corpus); !strings.Contains(again, "nothing new") {
		t.Errorf("a second ingest of the same evidence does not say that nothing is new:\n%s", again)
	}
	if got := query("PRAGMA integrity_check"); len(got) != 1 || got[0] != "ok" {
		t.Errorf("integrity_check: %v", got)
	}
	// Names written by hand from xdr-model.md §1.3.
	names := map[string]map[string]string{
		"event_type":     {"1": "PROCESS"},
		"event_sub_type": {"1": "PROCESS_START", "2": "PROCESS_STOP"},
		"agent_os_type":  {"1": "AGENT_OS_WINDOWS"},
		"actor_type":     {"1": "LOCAL", "": ""},
		"action_process_integrity_level": {"0": "UNTRUSTED", "4096": "LOW", "8192": "MEDIUM", "12288": "HIGH",
			"16384": "SYSTEM", "": ""},
	}
	for col, m := range names {
		t.Run(col, func(t *testing.T) {
			raw := query("SELECT DISTINCT " + col + " FROM xdr_data")
			var want []string
			for _, v := range raw {
				n, ok := m[v]
				if !ok {
					t.Fatalf("xdr_data.%s holds %q, not in the doc's table", col, v)
				}
				want = append(want, n)
			}
			sort.Strings(want)
			got := query("SELECT DISTINCT " + col + " FROM xdr_data_readable")
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("xdr_data_readable.%s = %v, want %v", col, got, want)
			}
		})
	}
	if got := query("SELECT _time FROM xdr_data_readable WHERE x_computer = 'Server002' AND x_record_id = 17921 AND x_event_id = 1"); len(got) != 1 || got[0] != "2024-10-21T11:04:43.683Z" {
		t.Errorf("readable _time = %v, want the record's UtcTime 2024-10-21T11:04:43.683Z", got)
	}
}

// TestIngestSurvivesSIGKILL kills an ingest with SIGKILL at several points;
// each database must open, pass integrity_check, and a re-run must end with
// the row count of an uninterrupted run.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and ingests the corpus several times")
	}
	corpus := filepath.Join(evtxtest.SharedDir(t), "corpus", "evtx")
	tmp := t.TempDir()
	ref := filepath.Join(tmp, "ref.db")
	runIngest(t, "--db", ref, "--quiet", corpus)
	want := rowCount(t, ref)
	if want == 0 {
		t.Fatal("the corpus gave no rows")
	}

	bin := filepath.Join(tmp, "evtxhunt")
	build := exec.Command("go", "build", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	killedMidway := 0
	for i, delay := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 1200 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			dbPath := filepath.Join(tmp, "kill"+string(rune('a'+i))+".db")
			cmd := exec.Command(bin, "ingest", "--db", dbPath, "--quiet", "--batch", "25", corpus)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			_ = cmd.Process.Kill() // SIGKILL
			err := cmd.Wait()
			if err == nil {
				t.Logf("the ingest finished before the kill at %v", delay)
			} else if ws := cmd.ProcessState; ws != nil && !ws.Exited() {
				killedMidway++
			}
			if _, err := os.Stat(dbPath); err == nil {
				db, err := sql.Open("sqlite3", dbPath)
				if err != nil {
					t.Fatal(err)
				}
				var res string
				if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
					t.Errorf("integrity_check after kill: %q %v", res, err)
				}
				var rows int64
				if db.QueryRow("SELECT count(*) FROM xdr_data").Scan(&rows) == nil {
					t.Logf("killed at %v with %d of %d rows stored", delay, rows, want)
				}
				db.Close()
			}
			st, err := normalize.Open(context.Background(), dbPath)
			if err != nil {
				t.Fatalf("open after kill: %v", err)
			}
			st.Close()
			runIngest(t, "--db", dbPath, "--quiet", corpus)
			if got := rowCount(t, dbPath); got != want {
				t.Errorf("after kill at %v and a re-run: %d rows, uninterrupted run: %d", delay, got, want)
			}
		})
	}
	if killedMidway == 0 {
		t.Error("no ingest was killed before it finished; the test proved nothing")
	}
}
