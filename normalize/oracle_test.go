package normalize_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/evtx/evtxtest"
	"evtxhunt/normalize"
)

// oracleLine is one line of ../shared/corpus/oracle.jsonl (libevtx's decoding).
type oracleLine = evtxtest.OracleRecord

// readOracle loads every oracle record.
func readOracle(t *testing.T) []oracleLine { return evtxtest.Oracle(t) }

// oracleRecord builds the evtx.Record the reader would deliver for l.
func oracleRecord(t *testing.T, l oracleLine) *evtx.Record {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		t.Fatalf("oracle time %q: %v", l.Time, err)
	}
	ch := "Security"
	if l.Provider == "Microsoft-Windows-Sysmon" {
		ch = "Microsoft-Windows-Sysmon/Operational"
	}
	return &evtx.Record{
		Source:   &evtx.Source{Path: l.Path, SHA256: "0000"},
		RecordID: l.RecordID, Time: tm.UTC(), Channel: ch, Provider: l.Provider,
		Computer: l.Computer, EventID: l.EID, Version: l.Version, Data: l.Data,
	}
}

// The expectation helpers below restate xdr-model.md §1.4/§1.5 by hand; they
// deliberately do not call the production mapping.

// hexOrDec parses "0x1a2c" (hex) or "6112" (decimal).
func hexOrDec(t *testing.T, s string) int64 {
	t.Helper()
	if strings.HasPrefix(s, "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			t.Fatalf("hex %q: %v", s, err)
		}
		return int64(v)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("int %q: %v", s, err)
	}
	return v
}

// wantInstanceID is base64(BE64 FILETIME ‖ BE32 pid ‖ 4 zero bytes).
func wantInstanceID(filetime int64, pid int64) string {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(filetime))
	binary.BigEndian.PutUint32(b[8:], uint32(pid))
	return base64.StdEncoding.EncodeToString(b)
}

// wellKnown is the doc's table of service-account SIDs.
var wellKnown = map[string]string{
	"S-1-5-18": `NT AUTHORITY\SYSTEM`,
	"S-1-5-19": `NT AUTHORITY\LOCAL SERVICE`,
	"S-1-5-20": `NT AUTHORITY\NETWORK SERVICE`,
}

// sidOf is the reverse of wellKnown ("" for other accounts).
func sidOf(name string) string {
	for sid, n := range wellKnown {
		if strings.EqualFold(n, name) {
			return sid
		}
	}
	return ""
}

// acct is DOMAIN\user with well-known SIDs normalised and "-" parts dropped.
func acct(sid, dom, user string) string {
	if n, ok := wellKnown[sid]; ok {
		return n
	}
	if user == "-" || user == "" {
		return ""
	}
	if dom == "-" || dom == "" {
		return user
	}
	return dom + `\` + user
}

// ilText is the doc's IntegrityLevel text -> RID table.
var ilText = map[string]int64{"Untrusted": 0, "Low": 4096, "AppContainer": 4096, "Medium": 8192, "High": 12288, "System": 16384}

// guidValue compares GUIDs by value (libevtx and golang-evtx differ in braces and case).
func guidValue(s string) string {
	return strings.ToUpper(strings.Trim(s, "{}"))
}

// expectRow returns the full expected row of an oracle record (every column
// not listed must be NULL).
func expectRow(t *testing.T, l oracleLine, pathPrefix string, insertMs int64) map[string]any {
	t.Helper()
	d := l.Data
	w := map[string]any{}
	set := func(k string, v any) {
		if s, ok := v.(string); ok && s == "" {
			return
		}
		w[k] = v
	}
	rt, _ := time.Parse(time.RFC3339Nano, l.Time)
	timeMs := rt.UnixMilli()
	sysmon := l.EID == 1
	var filetime int64
	if sysmon {
		ut, err := time.Parse("2006-01-02 15:04:05.000", d["UtcTime"])
		if err != nil {
			t.Fatalf("UtcTime %q: %v", d["UtcTime"], err)
		}
		timeMs = ut.UnixMilli()
		filetime = timeMs*10000 + 116444736000000000
	} else {
		filetime = rt.UnixNano()/100 + 116444736000000000
	}
	host, domain, _ := strings.Cut(l.Computer, ".")
	sum := md5.Sum([]byte(strings.ToLower(host)))
	agentID := hex.EncodeToString(sum[:])
	eid := make([]byte, 16)
	binary.BigEndian.PutUint64(eid, uint64(timeMs))
	copy(eid[8:12], sum[:4])
	binary.BigEndian.PutUint32(eid[12:], uint32(l.RecordID))

	set("_time", timeMs)
	set("event_timestamp", timeMs)
	if insertMs == 0 {
		insertMs = timeMs
	}
	set("_insert_time", insertMs)
	set("insert_timestamp", insertMs)
	set("_vendor", "PANW")
	set("_product", "XDR agent")
	set("event_id", base64.StdEncoding.EncodeToString(eid))
	set("event_type", int64(1))
	set("event_sub_type", int64(1))
	set("event_is_replay", int64(0))
	set("action_process_is_replay", int64(0))
	set("agent_hostname", host)
	set("agent_id", agentID)
	set("agent_os_type", int64(1))
	set("host_metadata_hostname", l.Computer)
	set("host_metadata_domain", domain)
	set("action_process_instance_execution_time", timeMs)

	set("x_source_path", filepath.Join(pathPrefix, l.Path))
	set("x_source_sha256", "0000")
	set("x_chunk", int64(0))
	set("x_offset", int64(0))
	set("x_record_id", int64(l.RecordID))
	set("x_provider", l.Provider)
	set("x_event_id", int64(l.EID))
	set("x_event_version", int64(l.Version))
	set("x_computer", l.Computer)
	set("x_time_100ns", rt.UnixNano()/100)
	set("x_recovered", int64(0))

	actor := func(path, cmd string, pid int64, user, sid, logon string) {
		for _, p := range []string{"actor_", "os_actor_"} {
			if path != "" {
				set(p+"process_image_path", path)
				set(p+"process_image_name", path[strings.LastIndex(path, `\`)+1:])
			}
			set(p+"process_command_line", cmd)
			set(p+"process_image_command_line", cmd)
			set(p+"process_os_pid", pid)
			set(p+"effective_username", user)
			set(p+"primary_username", user)
			set(p+"effective_user_sid", sid)
			set(p+"primary_user_sid", sid)
			set(p+"process_logon_id", logon)
			set(p+"process_auth_id", logon)
			set(p+"type", int64(1))
		}
	}
	luid := func(s string) string { return strconv.FormatInt(hexOrDec(t, s), 10) }
	mup := func(p string) string {
		if strings.HasPrefix(p, `\Device\Mup\`) {
			return `\\` + strings.TrimPrefix(p, `\Device\Mup\`)
		}
		return p
	}

	if sysmon {
		set("x_channel", "Microsoft-Windows-Sysmon/Operational")
		img := d["Image"]
		set("action_process_image_path", img)
		set("action_process_image_name", img[strings.LastIndex(img, `\`)+1:])
		set("action_process_image_command_line", d["CommandLine"])
		pid := hexOrDec(t, d["ProcessId"])
		set("action_process_os_pid", pid)
		set("action_process_instance_id", wantInstanceID(filetime, pid))
		set("action_process_username", d["User"])
		set("action_process_user_sid", sidOf(d["User"]))
		il, ok := ilText[d["IntegrityLevel"]]
		if !ok {
			t.Fatalf("integrity %q not in the doc's table", d["IntegrityLevel"])
		}
		set("action_process_integrity_level", il)
		for _, kv := range strings.Split(d["Hashes"], ",") {
			k, v, _ := strings.Cut(kv, "=")
			col := map[string]string{"SHA256": "action_process_image_sha256", "MD5": "action_process_image_md5",
				"SHA1": "x_image_sha1", "IMPHASH": "x_imphash"}[k]
			if col == "" {
				t.Fatalf("unexpected hash %q", k)
			}
			set(col, strings.ToLower(v))
		}
		set("action_process_cwd", d["CurrentDirectory"])
		fi := map[string]any{}
		for k, f := range map[string]string{"description": "Description", "product_name": "Product",
			"company": "Company", "original_name": "OriginalFileName", "file_version": "FileVersion"} {
			if v, ok := d[f]; ok {
				fi[k] = v
			}
		}
		if len(fi) > 0 {
			w["action_process_file_info"] = fi // compared as JSON
		}
		set("x_process_guid", guidValue(d["ProcessGuid"]))
		set("x_parent_process_guid", guidValue(d["ParentProcessGuid"]))
		set("x_logon_guid", guidValue(d["LogonGuid"]))
		set("x_logon_id", luid(d["LogonId"]))
		set("x_session_id", hexOrDec(t, d["TerminalSessionId"]))
		au, approx := d["ParentUser"], int64(0)
		if _, has := d["ParentUser"]; !has {
			au, approx = d["User"], 1
		}
		set("x_actor_user_approx", approx)
		actor(d["ParentImage"], d["ParentCommandLine"], hexOrDec(t, d["ParentProcessId"]), au, sidOf(au), luid(d["LogonId"]))
		return w
	}

	set("x_channel", "Security")
	img := mup(d["NewProcessName"])
	set("action_process_image_path", img)
	set("action_process_image_name", img[strings.LastIndex(img, `\`)+1:])
	set("action_process_image_command_line", d["CommandLine"]) // "" -> NULL
	pid := hexOrDec(t, d["NewProcessId"])
	set("action_process_os_pid", pid)
	set("action_process_instance_id", wantInstanceID(filetime, pid))
	subj := acct(d["SubjectUserSid"], d["SubjectDomainName"], d["SubjectUserName"])
	if ts, ok := d["TargetUserSid"]; ok && ts != "S-1-0-0" {
		set("action_process_username", acct(ts, d["TargetDomainName"], d["TargetUserName"]))
		set("action_process_user_sid", ts)
		set("x_logon_id", luid(d["TargetLogonId"]))
	} else {
		set("action_process_username", subj)
		set("action_process_user_sid", d["SubjectUserSid"])
		set("x_logon_id", luid(d["SubjectLogonId"]))
	}
	if ml, ok := d["MandatoryLabel"]; ok {
		set("action_process_integrity_level", hexOrDec(t, strings.TrimPrefix(ml, "S-1-16-")))
	}
	et := map[string]int{"%%1936": 1, "%%1937": 2, "%%1938": 3}[d["TokenElevationType"]]
	if et == 0 {
		t.Fatalf("elevation %q", d["TokenElevationType"])
	}
	w["action_process_token"] = map[string]any{"elevation_type": float64(et)}
	actor(mup(d["ParentProcessName"]), "", hexOrDec(t, d["ProcessId"]), subj, d["SubjectUserSid"], luid(d["SubjectLogonId"]))
	return w
}

// jsonColumns are compared as decoded JSON rather than as text.
var jsonColumns = map[string]bool{"action_process_file_info": true, "action_process_token": true}

// guidColumns are compared by value.
var guidColumns = map[string]bool{"x_process_guid": true, "x_parent_process_guid": true, "x_logon_guid": true}

// TestOracleRows maps every oracle record, inserts the rows and checks every
// column of every row against expectations derived from the oracle fields.
func TestOracleRows(t *testing.T) {
	lines := readOracle(t)
	ctx := context.Background()
	st, err := normalize.Open(ctx, filepath.Join(t.TempDir(), "oracle.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := make([]normalize.Event, 0, len(lines))
	for _, l := range lines {
		ev, err := normalize.FromRecord(oracleRecord(t, l), normalize.MapOptions{})
		if err != nil {
			t.Fatalf("%s #%d: %v", l.Path, l.RecordID, err)
		}
		evs = append(evs, ev)
	}
	res, err := st.Insert(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != int64(len(lines)) || res.Duplicates != 0 {
		t.Fatalf("Insert = %+v, want %d new rows", res, len(lines))
	}
	checkOracleRows(t, st.DB(), lines, "", 0)
}

// checkOracleRows compares the stored row of every oracle line (found by
// source path and record id) with expectRow. pathPrefix is prepended to the
// oracle path to find the row's x_source_path; insertMs is the expected
// _insert_time (0: the row's _time).
func checkOracleRows(t *testing.T, db *sql.DB, lines []oracleLine, pathPrefix string, insertMs int64) {
	t.Helper()
	var colNames []string
	rows, err := db.Query("SELECT name FROM pragma_table_info('xdr_data')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		colNames = append(colNames, n)
	}
	rows.Close()
	// Provenance columns whose value depends on how the record was read.
	skip := map[string]bool{"x_event_data": true, "x_sources": true, "x_chunk": true, "x_offset": true,
		"x_source_sha256": true, "x_zip_member": true}
	// The dedup key (computer, channel, record id, 100 ns time, event id) is indexed.
	q := `SELECT * FROM xdr_data WHERE x_computer = ? AND x_channel = ? AND x_record_id = ?
		AND x_time_100ns = ? AND x_event_id = ?`
	bad := 0
	for _, l := range lines {
		name := fmt.Sprintf("%s#%d", filepath.Base(l.Path), l.RecordID)
		want := expectRow(t, l, pathPrefix, insertMs)
		vals := make([]any, len(colNames))
		ptrs := make([]any, len(colNames))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rt, _ := time.Parse(time.RFC3339Nano, l.Time)
		ch := "Security"
		if l.EID == 1 {
			ch = "Microsoft-Windows-Sysmon/Operational"
		}
		if err := db.QueryRow(q, l.Computer, ch, l.RecordID, rt.UnixNano()/100, l.EID).Scan(ptrs...); err != nil {
			t.Errorf("%s: row: %v", name, err)
			bad++
			continue
		}
		got := map[string]any{}
		for i, c := range colNames {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			if vals[i] != nil {
				got[c] = vals[i]
			}
		}
		var ed map[string]string
		if err := json.Unmarshal([]byte(fmt.Sprint(got["x_event_data"])), &ed); err != nil || !sameEventData(ed, l.Data) {
			t.Errorf("%s: x_event_data = %v, want the record's EventData", name, got["x_event_data"])
		}
		var srcs []struct {
			Path      string
			Recovered bool
		}
		if err := json.Unmarshal([]byte(fmt.Sprint(got["x_sources"])), &srcs); err != nil {
			t.Errorf("%s: x_sources = %v: %v", name, got["x_sources"], err)
		}
		live := 0
		for _, src := range srcs {
			if src.Path == filepath.Join(pathPrefix, l.Path) && !src.Recovered {
				live++
			}
		}
		if live != 1 {
			t.Errorf("%s: x_sources = %v: %d live entries for the oracle's file, want 1", name, got["x_sources"], live)
		}
		for _, c := range colNames {
			if skip[c] {
				continue
			}
			g, w := got[c], want[c]
			switch {
			case jsonColumns[c] && g != nil:
				var dec map[string]any
				if err := json.Unmarshal([]byte(g.(string)), &dec); err != nil {
					t.Errorf("%s: %s = %q: %v", name, c, g, err)
				}
				g = dec
			case guidColumns[c] && g != nil:
				g = guidValue(g.(string))
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: %s = %#v, want %#v", name, c, g, w)
				bad++
			}
		}
		if bad > 40 {
			t.Fatal("too many differences")
		}
	}
}

// sameEventData compares EventData maps; GUIDs and hex integers are compared
// by value, since libevtx and golang-evtx write them differently.
func sameEventData(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if g == w || guidValue(g) == guidValue(w) && len(strings.Trim(w, "{}")) == 36 {
			continue
		}
		if strings.HasPrefix(g, "0x") && strings.HasPrefix(w, "0x") {
			gv, gerr := strconv.ParseUint(g[2:], 16, 64)
			wv, werr := strconv.ParseUint(w[2:], 16, 64)
			if gerr == nil && werr == nil && gv == wv {
				continue
			}
		}
		return false
	}
	return true
}
