package normalize

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx"
)

// recBuilder makes evtx records of one host as the reader would deliver them.
type recBuilder struct {
	host string
	src  *evtx.Source
	next uint64
}

func newRecBuilder(host, file string) *recBuilder {
	return &recBuilder{host: host, src: &evtx.Source{Path: file, SHA256: "sha-" + file}, next: 100}
}

// at parses "15:04:05.000" on 2024-03-05 (UTC).
func at(t *testing.T, hms string) time.Time {
	t.Helper()
	tm, err := time.Parse("2006-01-02 15:04:05.000", "2024-03-05 "+hms)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// sysmon1 is a Sysmon EID 1 record with ParentUser.
func (b *recBuilder) sysmon1(tm time.Time, guid string, pid int, image, cmd, user, pguid string, ppid int, pimage, pcmd, puser string) *evtx.Record {
	b.next++
	d := map[string]string{
		"UtcTime": tm.Format("2006-01-02 15:04:05.000"), "ProcessGuid": guid, "ProcessId": strconv.Itoa(pid),
		"Image": image, "CommandLine": cmd, "User": user, "IntegrityLevel": "Medium", "LogonId": "0x3e7",
		"Hashes":            "SHA256=" + strings.Repeat("a", 64) + ",MD5=" + strings.Repeat("b", 32),
		"ParentProcessGuid": pguid, "ParentProcessId": strconv.Itoa(ppid), "ParentImage": pimage,
		"ParentCommandLine": pcmd, "ParentUser": puser,
	}
	return &evtx.Record{Source: b.src, RecordID: b.next, Time: tm.Add(3 * time.Millisecond), Channel: SysmonChannel,
		Provider: SysmonProvider, Computer: b.host, EventID: 1, Version: 5, Data: d}
}

// sysmon5 is a Sysmon EID 5 record.
func (b *recBuilder) sysmon5(tm time.Time, guid string, pid int, image string) *evtx.Record {
	b.next++
	d := map[string]string{"UtcTime": tm.Format("2006-01-02 15:04:05.000"), "ProcessGuid": guid, "ProcessId": strconv.Itoa(pid), "Image": image}
	return &evtx.Record{Source: b.src, RecordID: b.next, Time: tm, Channel: SysmonChannel,
		Provider: SysmonProvider, Computer: b.host, EventID: 5, Version: 3, Data: d}
}

// sec4688 is a Security 4688 v2 record (hex PIDs, no parent command line).
func (b *recBuilder) sec4688(tm time.Time, pid int, image, cmd string, ppid int, pimage string) *evtx.Record {
	b.next++
	d := map[string]string{
		"SubjectUserSid": "S-1-5-21-1-2-3-1001", "SubjectUserName": "bob", "SubjectDomainName": "WS01", "SubjectLogonId": "0x1a2b3",
		"NewProcessId": fmt.Sprintf("0x%x", pid), "NewProcessName": image, "TokenElevationType": "%%1938",
		"ProcessId": fmt.Sprintf("0x%x", ppid), "CommandLine": cmd, "TargetUserSid": "S-1-0-0", "TargetUserName": "-",
		"TargetDomainName": "-", "TargetLogonId": "0x0", "ParentProcessName": pimage, "MandatoryLabel": "S-1-16-8192",
	}
	return &evtx.Record{Source: b.src, RecordID: b.next, Time: tm, Channel: SecurityChannel,
		Provider: SecurityProvider, Computer: b.host, EventID: 4688, Version: 2, Data: d}
}

// sec4689 is a Security 4689 record.
func (b *recBuilder) sec4689(tm time.Time, pid int, image string) *evtx.Record {
	b.next++
	d := map[string]string{"SubjectUserSid": "S-1-5-21-1-2-3-1001", "SubjectUserName": "bob", "SubjectDomainName": "WS01",
		"SubjectLogonId": "0x1a2b3", "Status": "0x0", "ProcessId": fmt.Sprintf("0x%x", pid), "ProcessName": image}
	return &evtx.Record{Source: b.src, RecordID: b.next, Time: tm, Channel: SecurityChannel,
		Provider: SecurityProvider, Computer: b.host, EventID: 4689, Version: 0, Data: d}
}

// openTestStore opens a fresh store in a temporary directory.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ingestRecords maps and inserts records.
func ingestRecords(t *testing.T, s *Store, recs ...*evtx.Record) {
	t.Helper()
	evs := make([]Event, 0, len(recs))
	for _, r := range recs {
		ev, err := FromRecord(r, MapOptions{})
		if err != nil {
			t.Fatalf("record %d: %v", r.RecordID, err)
		}
		evs = append(evs, ev)
	}
	if _, err := s.Insert(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// rebuild runs RebuildAncestry with options and fails the test on error.
func rebuild(t *testing.T, s *Store, opt AncestryOptions) AncestryStats {
	t.Helper()
	st, err := s.RebuildAncestry(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startRow returns the named columns of the PROCESS_START row of a host and
// PID (decimal), as text ("NULL" for NULL).
func startRow(t *testing.T, db *sql.DB, host string, pid int, cols ...string) map[string]string {
	t.Helper()
	return startRowOf(t, db, host, pid, "", cols...)
}

// startRowOf is startRow for the process with that image name (PID reuse).
func startRowOf(t *testing.T, db *sql.DB, host string, pid int, name string, cols ...string) map[string]string {
	t.Helper()
	q := "SELECT " + strings.Join(cols, ", ") + " FROM xdr_data WHERE agent_hostname = ? AND action_process_os_pid = ? AND event_sub_type = 1 AND (? = '' OR action_process_image_name = ?)"
	rows, err := db.Query(q, host, pid, name, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no start row for %s pid %d", host, pid)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Fatalf("more than one start row for %s pid %d", host, pid)
	}
	out := map[string]string{}
	for i, c := range cols {
		switch v := vals[i].(type) {
		case nil:
			out[c] = "NULL"
		case []byte:
			out[c] = string(v)
		default:
			out[c] = fmt.Sprint(v)
		}
	}
	return out
}

// expectCols compares a row against hand-written values.
func expectCols(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestRebuildAncestryFillsColumns(t *testing.T) {
	s := openTestStore(t)
	b := newRecBuilder("WS01.corp.example", `C:\logs\Sysmon.evtx`)
	ingestRecords(t, s,
		b.sysmon1(at(t, "09:00:01.000"), "{00000000-0000-0000-0000-0000000000A1}", 600, pUserinit, `C:\Windows\system32\userinit.exe`, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A0}", 500, pWinlogon, "winlogon.exe", `NT AUTHORITY\SYSTEM`),
		b.sysmon1(at(t, "09:00:02.000"), "{00000000-0000-0000-0000-0000000000A2}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A1}", 600, pUserinit, `C:\Windows\system32\userinit.exe`, `WS01\bob`),
		b.sysmon1(at(t, "09:00:03.000"), "{00000000-0000-0000-0000-0000000000A3}", 5120, pCmd, batCmd, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A2}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, `WS01\bob`),
		b.sysmon1(at(t, "09:00:04.000"), "{00000000-0000-0000-0000-0000000000A4}", 6100, pNet, `net  use`, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A3}", 5120, pCmd, batCmd, `WS01\bob`),
	)
	st := rebuild(t, s, AncestryOptions{})
	if st.Hosts != 1 || st.Starts != 4 || st.LinkedGUID != 3 || st.LinkedSynthetic != 1 || st.Synthetic != 1 || st.Nodes != 5 {
		t.Errorf("stats = %+v", st)
	}
	if st.SysmonStarts != 4 || st.SysmonParentPresent != 3 || st.SysmonParentLinked != 3 {
		t.Errorf("sysmon link stats = %+v", st)
	}
	// Computed outside Go: base64(BE64 FILETIME || BE32 pid || 0000).
	explorerID := "Adpu24ISlQAAAA+sAAAAAA==" // FILETIME 133541028020000000, pid 4012
	cmdID := "Adpu24KrK4AAABQAAAAAAA=="      // FILETIME 133541028030000000, pid 5120
	cols := []string{"actor_process_image_name", "actor_process_image_path", "actor_process_command_line",
		"actor_process_image_command_line", "actor_process_os_pid", "actor_process_instance_id", "actor_process_execution_time",
		"actor_effective_username", "actor_process_integrity_level", "actor_process_image_sha256",
		"causality_actor_process_image_name", "causality_actor_process_command_line", "causality_actor_process_os_pid",
		"causality_actor_process_instance_id", "causality_actor_process_execution_time", "causality_actor_causality_id",
		"os_actor_process_image_name", "os_actor_process_instance_id",
		"action_process_is_causality_root", "action_process_causality_id", "actor_causality_id", "actor_process_causality_id",
		"causality_actor_process_causality_id", "os_actor_process_causality_id",
		"x_ancestry", "x_cgo_rule", "x_parent_synthetic"}
	t.Run("explorer starts cmd", func(t *testing.T) {
		expectCols(t, startRow(t, s.DB(), "WS01", 5120, cols...), map[string]string{
			"actor_process_image_name": "explorer.exe", "actor_process_image_path": pExplorer,
			"actor_process_command_line": `C:\Windows\Explorer.EXE`, "actor_process_image_command_line": `C:\Windows\Explorer.EXE`,
			"actor_process_os_pid": "4012", "actor_process_instance_id": explorerID, "actor_process_execution_time": "1709629202000",
			"actor_effective_username": `WS01\bob`, "actor_process_integrity_level": "8192",
			"actor_process_image_sha256":         strings.Repeat("a", 64),
			"causality_actor_process_image_name": "explorer.exe", "causality_actor_process_command_line": `C:\Windows\Explorer.EXE`,
			"causality_actor_process_os_pid": "4012", "causality_actor_process_instance_id": explorerID,
			"causality_actor_process_execution_time": "1709629202000", "causality_actor_causality_id": explorerID,
			"os_actor_process_image_name": "explorer.exe", "os_actor_process_instance_id": explorerID,
			"action_process_is_causality_root": "1", "action_process_causality_id": cmdID,
			"actor_causality_id": explorerID, "actor_process_causality_id": explorerID,
			"causality_actor_process_causality_id": explorerID, "os_actor_process_causality_id": explorerID,
			"x_ancestry": "userinit.exe[600] > explorer.exe[4012] > cmd.exe[5120]", "x_cgo_rule": RuleSpawnerSelf, "x_parent_synthetic": "0",
		})
	})
	t.Run("cmd starts net", func(t *testing.T) {
		expectCols(t, startRow(t, s.DB(), "WS01", 6100, cols...), map[string]string{
			"actor_process_image_name": "cmd.exe", "actor_process_command_line": batCmd, "actor_process_instance_id": cmdID,
			"causality_actor_process_image_name": "cmd.exe", "causality_actor_process_command_line": batCmd,
			"causality_actor_process_instance_id": cmdID, "causality_actor_causality_id": cmdID,
			"action_process_is_causality_root": "0", "action_process_causality_id": cmdID, "actor_causality_id": cmdID,
			"x_ancestry": "explorer.exe[4012] > cmd.exe[5120] > net.exe[6100]", "x_cgo_rule": RuleChildOfSpawner,
		})
	})
	t.Run("userinit's parent is synthetic", func(t *testing.T) {
		expectCols(t, startRow(t, s.DB(), "WS01", 600, cols...), map[string]string{
			"actor_process_image_name": "winlogon.exe", "actor_process_command_line": "winlogon.exe", "actor_process_os_pid": "500",
			"actor_effective_username": `NT AUTHORITY\SYSTEM`, "actor_process_execution_time": "NULL",
			"x_parent_synthetic": "1", "x_ancestry": "winlogon.exe[500](synthetic) > userinit.exe[600]",
		})
		var n int
		if err := s.DB().QueryRow("SELECT count(*) FROM process_nodes WHERE synthetic = 1 AND name = 'winlogon.exe' AND pid = 500 AND xdr_rowid IS NULL").Scan(&n); err != nil || n != 1 {
			t.Errorf("synthetic winlogon nodes = %d (%v), want 1", n, err)
		}
	})
}

// dumpAncestry returns every ancestry-owned value of xdr_data, keyed by
// record, so that two databases (or two runs) can be compared.
func dumpAncestry(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	sc, err := loadAncSchema(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	cols := append([]string{}, sc.outCols...)
	cols = append(cols, "x_merged_record_ids", "x_sources", "action_process_instance_id", "action_process_user_sid")
	q := "SELECT x_channel || '#' || x_record_id, " + strings.Join(cols, ", ") + " FROM xdr_data"
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var key string
		vals := make([]any, len(cols))
		ptrs := []any{&key}
		for i := range vals {
			ptrs = append(ptrs, &vals[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, c := range cols {
			v := sqlValue(vals[i])
			if c == "x_merged_record_ids" && v != nil {
				// The merged copy's rowid differs between databases.
				v = strings.Split(fmt.Sprint(v), `"row"`)[0]
			}
			fmt.Fprintf(&b, "%s=%v\n", c, v)
		}
		out[key] = b.String()
	}
	return out
}

// scenarioRecords is a mixed Sysmon + Security day on one host, split into a
// first and a second delivery: the second holds the parent the first lacks.
func scenarioRecords(t *testing.T) (first, second []*evtx.Record) {
	sy := newRecBuilder("WS01", `C:\logs\Sysmon.evtx`)
	se := newRecBuilder("WS01", `C:\logs\Security.evtx`)
	se.next = 5000
	first = []*evtx.Record{
		// cmd logged by both: merged.
		sy.sysmon1(at(t, "10:00:03.000"), "{00000000-0000-0000-0000-0000000000C3}", 5120, pCmd, batCmd, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000C2}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, ""),
		se.sec4688(at(t, "10:00:03.400"), 5120, `\Device\HarddiskVolume2\Windows\System32\cmd.exe`, batCmd, 4012, pExplorer),
		// net seen only by 4688; its creator pid 5120 is the merged cmd.
		se.sec4688(at(t, "10:00:04.000"), 6100, pNet, "net use", 5120, pCmd),
		se.sec4689(at(t, "10:00:05.000"), 6100, pNet),
		// pid 6100 reused by whoami after net ended; the child of 6100 is whoami's.
		se.sec4688(at(t, "10:00:06.000"), 6100, `C:\Windows\System32\whoami.exe`, "whoami /all", 5120, pCmd),
		se.sec4688(at(t, "10:00:07.000"), 7000, `C:\Windows\System32\conhost.exe`, "conhost.exe 0xffffffff", 6100, `C:\Windows\System32\whoami.exe`),
		sy.sysmon5(at(t, "10:00:09.000"), "{00000000-0000-0000-0000-0000000000C3}", 5120, pCmd),
	}
	second = []*evtx.Record{
		sy.sysmon1(at(t, "10:00:02.000"), "{00000000-0000-0000-0000-0000000000C2}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000C1}", 600, pUserinit, "userinit.exe", `WS01\bob`),
	}
	return first, second
}

func TestRebuildAncestryMergeAndPIDReuse(t *testing.T) {
	s := openTestStore(t)
	first, second := scenarioRecords(t)
	ingestRecords(t, s, append(first, second...)...)
	st := rebuild(t, s, AncestryOptions{})
	if st.Merged != 1 || st.Starts != 5 || st.Stops != 2 || st.LinkedPID != 3 || st.LinkedGUID != 1 || st.LinkedSynthetic != 1 {
		t.Errorf("stats = %+v", st)
	}
	var starts, merged int
	if err := s.DB().QueryRow("SELECT count(*) FROM xdr_data WHERE event_sub_type = 1 AND action_process_os_pid = 5120").Scan(&starts); err != nil {
		t.Fatal(err)
	}
	if starts != 1 {
		t.Errorf("cmd start rows = %d, want 1 (Sysmon and 4688 merged)", starts)
	}
	var into, sysmonRow int64
	if err := s.DB().QueryRow("SELECT count(*), max(merged_into) FROM xdr_data_merged WHERE x_event_id = 4688 AND action_process_os_pid = 5120").Scan(&merged, &into); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow("SELECT rowid FROM xdr_data WHERE event_sub_type = 1 AND action_process_os_pid = 5120").Scan(&sysmonRow); err != nil {
		t.Fatal(err)
	}
	if merged != 1 || into != sysmonRow {
		t.Errorf("merged copies %d into %d, want 1 into %d", merged, into, sysmonRow)
	}
	cmd := startRow(t, s.DB(), "WS01", 5120, "x_event_id", "x_merged_record_ids", "x_sources", "action_process_user_sid", "action_process_token")
	expectCols(t, cmd, map[string]string{"x_event_id": "1", "action_process_user_sid": "S-1-5-21-1-2-3-1001", "action_process_token": `{"elevation_type":3}`})
	if !strings.Contains(cmd["x_merged_record_ids"], `"record_id":5001`) || !strings.Contains(cmd["x_merged_record_ids"], `"channel":"Security"`) {
		t.Errorf("x_merged_record_ids = %s", cmd["x_merged_record_ids"])
	}
	if !strings.Contains(cmd["x_sources"], "Sysmon.evtx") || !strings.Contains(cmd["x_sources"], "Security.evtx") {
		t.Errorf("x_sources = %s", cmd["x_sources"])
	}
	// net's 4688 says its creator's logon id is 0x1a2b3 (Subject); cmd's own
	// Sysmon record says 0x3e7 (999), and the parent's record wins.
	net := startRowOf(t, s.DB(), "WS01", 6100, "net.exe", "actor_process_image_name", "actor_process_command_line",
		"causality_actor_process_image_name", "x_cgo_rule", "x_ancestry", "actor_process_logon_id", "os_actor_process_logon_id",
		"actor_effective_username", "actor_effective_user_sid")
	expectCols(t, net, map[string]string{"actor_process_logon_id": "999", "os_actor_process_logon_id": "999",
		"actor_effective_username": `WS01\bob`, "actor_effective_user_sid": "S-1-5-21-1-2-3-1001",
		"actor_process_image_name": "cmd.exe", "actor_process_command_line": batCmd,
		"causality_actor_process_image_name": "cmd.exe", "x_cgo_rule": RuleChildOfSpawner,
		"x_ancestry": "explorer.exe[4012] > cmd.exe[5120] > net.exe[6100]"})
	conhost := startRow(t, s.DB(), "WS01", 7000, "actor_process_image_name", "actor_process_command_line", "causality_actor_process_image_name", "x_ancestry")
	expectCols(t, conhost, map[string]string{"actor_process_image_name": "whoami.exe", "actor_process_command_line": "whoami /all",
		"causality_actor_process_image_name": "cmd.exe", "x_ancestry": "explorer.exe[4012] > cmd.exe[5120] > whoami.exe[6100] > conhost.exe[7000]"})
	var stopAnc string
	if err := s.DB().QueryRow("SELECT x_ancestry FROM xdr_data WHERE event_sub_type = 2 AND x_event_id = 5").Scan(&stopAnc); err != nil {
		t.Fatal(err)
	}
	if stopAnc != "explorer.exe[4012] > cmd.exe[5120]" {
		t.Errorf("stop row x_ancestry = %q", stopAnc)
	}
	// A re-ingest of the same records adds the 4688 again (the store's dedup
	// does not see xdr_data_merged); the rebuild folds it without a second copy.
	ingestRecords(t, s, first...)
	before := dumpAncestry(t, s.DB())
	rebuild(t, s, AncestryOptions{})
	if err := s.DB().QueryRow("SELECT count(*) FROM xdr_data_merged").Scan(&merged); err != nil || merged != 1 {
		t.Errorf("merged copies after re-ingest = %d (%v), want 1", merged, err)
	}
	after := dumpAncestry(t, s.DB())
	for k, v := range after {
		if b, ok := before[k]; ok && b != v && !strings.HasPrefix(k, "Security#") {
			t.Errorf("row %s changed by the re-ingest:\n%s\nvs\n%s", k, b, v)
		}
	}
}

func TestRebuildAncestryIncrementalIdempotent(t *testing.T) {
	first, second := scenarioRecords(t)
	// Incremental: the parent arrives in a second ingest.
	inc := openTestStore(t)
	ingestRecords(t, inc, first...)
	rebuild(t, inc, AncestryOptions{})
	row := startRow(t, inc.DB(), "WS01", 5120, "x_parent_synthetic", "actor_process_execution_time", "x_ancestry", "actor_effective_username")
	expectCols(t, row, map[string]string{"x_parent_synthetic": "1", "actor_process_execution_time": "NULL",
		"x_ancestry": "explorer.exe[4012](synthetic) > cmd.exe[5120]", "actor_effective_username": `WS01\bob`})
	ingestRecords(t, inc, second...)
	rebuild(t, inc, AncestryOptions{})
	row = startRow(t, inc.DB(), "WS01", 5120, "x_parent_synthetic", "actor_process_execution_time", "x_ancestry", "x_actor_user_approx")
	expectCols(t, row, map[string]string{"x_parent_synthetic": "0", "actor_process_execution_time": "1709632802000",
		"x_ancestry": "userinit.exe[600](synthetic) > explorer.exe[4012] > cmd.exe[5120]", "x_actor_user_approx": "0"})
	incDump := dumpAncestry(t, inc.DB())
	// Idempotent: a second rebuild changes nothing.
	if st := rebuild(t, inc, AncestryOptions{}); st.Updated != 0 {
		t.Errorf("second rebuild rewrote %d rows", st.Updated)
	}
	again := dumpAncestry(t, inc.DB())
	// All at once gives the same values.
	once := openTestStore(t)
	ingestRecords(t, once, append(first, second...)...)
	rebuild(t, once, AncestryOptions{})
	onceDump := dumpAncestry(t, once.DB())
	if len(incDump) != len(onceDump) || len(incDump) != 7 {
		t.Errorf("rows: incremental %d, single %d, want 7", len(incDump), len(onceDump))
	}
	for k, v := range onceDump {
		if incDump[k] != v {
			t.Errorf("row %s differs:\nincremental:\n%s\nsingle:\n%s", k, incDump[k], v)
		}
		if again[k] != incDump[k] {
			t.Errorf("row %s changed on a second rebuild", k)
		}
	}
}

func TestRebuildAncestryHostsAndOptions(t *testing.T) {
	s := openTestStore(t)
	a := newRecBuilder("HOSTA", `a.evtx`)
	b := newRecBuilder("HOSTB", `b.evtx`)
	ingestRecords(t, s,
		a.sysmon1(at(t, "11:00:00.000"), "{A1}", 100, pCmd, "cmd", `A\u`, "", 4012, pExplorer, "explorer", `A\u`),
		b.sysmon1(at(t, "11:00:00.000"), "{B1}", 100, pCmd, "cmd", `B\u`, "", 4012, pExplorer, "explorer", `B\u`),
	)
	st := rebuild(t, s, AncestryOptions{Hosts: []string{"hosta"}})
	if st.Hosts != 1 {
		t.Errorf("hosts = %d, want 1", st.Hosts)
	}
	if got := startRow(t, s.DB(), "HOSTB", 100, "x_ancestry")["x_ancestry"]; got != "NULL" {
		t.Errorf("HOSTB rebuilt although not asked: %q", got)
	}
	rebuild(t, s, AncestryOptions{StartRowCausality: ChildGroup})
	expectCols(t, startRow(t, s.DB(), "HOSTB", 100, "causality_actor_process_image_name", "x_cgo_rule"),
		map[string]string{"causality_actor_process_image_name": "cmd.exe", "x_cgo_rule": RuleChildOfSpawner})
	if _, err := s.RebuildAncestry(context.Background(), AncestryOptions{StartRowCausality: "x"}); err == nil {
		t.Errorf("bad option accepted")
	}
}
