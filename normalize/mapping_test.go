package normalize_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"evtxhunt/evtx"
	"evtxhunt/normalize"
)

// rec builds a record for the mapping tests.
func rec(provider, channel string, eid, version int, data map[string]string) *evtx.Record {
	return &evtx.Record{
		Source:   &evtx.Source{Path: `C:\case\x.evtx`, SHA256: "ab"},
		RecordID: 77, Time: time.Date(2024, 10, 21, 11, 4, 45, 123456700, time.UTC),
		Channel: channel, Provider: provider, Computer: "WS01.corp.example", EventID: eid, Version: version,
		Data: data,
	}
}

const (
	sysmonProv = "Microsoft-Windows-Sysmon"
	sysmonCh   = "Microsoft-Windows-Sysmon/Operational"
	secProv    = "Microsoft-Windows-Security-Auditing"
)

// TestFromRecordCases checks hand-worked examples of the rules in
// xdr-model.md §1.4 that the corpus oracle does not exercise (stop events,
// 4688 v0, \Device\Mup\ paths, forwarded channels, options).
func TestFromRecordCases(t *testing.T) {
	recMs := time.Date(2024, 10, 21, 11, 4, 45, 123000000, time.UTC).UnixMilli()
	for _, tc := range []struct {
		name string
		r    *evtx.Record
		opt  normalize.MapOptions
		want map[string]any // nil value: the column must be NULL
	}{
		{
			name: "sysmon 5 stop",
			r: rec(sysmonProv, sysmonCh, 5, 3, map[string]string{"RuleName": "-", "UtcTime": "2024-10-21 11:04:45.100",
				"ProcessGuid": "dbf410b3-354b-6716-b100-000000003900", "ProcessId": "6112",
				"Image": `C:\Windows\System32\wevtutil.exe`, "User": `NT AUTHORITY\SYSTEM`}),
			want: map[string]any{"event_type": int64(1), "event_sub_type": int64(2), "_time": int64(1729508685100),
				"action_process_image_path": `C:\Windows\System32\wevtutil.exe`, "action_process_image_name": "wevtutil.exe",
				"action_process_os_pid": int64(6112), "action_process_termination_date": int64(1729508685100),
				"action_process_username": `NT AUTHORITY\SYSTEM`, "action_process_user_sid": "S-1-5-18",
				"x_process_guid": "{DBF410B3-354B-6716-B100-000000003900}", "actor_type": nil, "actor_process_image_path": nil,
				"action_process_instance_id": nil},
		},
		{
			name: "4689 stop with a network image",
			r: rec(secProv, "Security", 4689, 0, map[string]string{"SubjectUserSid": "S-1-5-18", "SubjectUserName": "WS01$",
				"SubjectDomainName": "WORKGROUP", "SubjectLogonId": "0x3e7", "Status": "0x1", "ProcessId": "0x1a2c",
				"ProcessName": `\Device\Mup\srv\share\tool.exe`}),
			want: map[string]any{"event_sub_type": int64(2), "_time": recMs,
				"action_process_image_path": `\\srv\share\tool.exe`, "action_process_image_name": "tool.exe",
				"action_process_os_pid": int64(6700), "action_process_termination_code": int64(1),
				"action_process_username": `NT AUTHORITY\SYSTEM`, "action_process_user_sid": "S-1-5-18",
				"x_logon_id": "999", "action_process_termination_date": recMs},
		},
		{
			name: "4688 v0 without CommandLine",
			r: rec(secProv, "Security", 4688, 0, map[string]string{"SubjectUserSid": "S-1-5-21-1-2-3-1000",
				"SubjectUserName": "alice", "SubjectDomainName": "CORP", "SubjectLogonId": "0x16e3db3",
				"NewProcessId": "0x00000f50", "NewProcessName": `C:\Windows\System32\cmd.exe`,
				"TokenElevationType": "%%1938", "ProcessId": "0x5ec"}),
			want: map[string]any{"event_sub_type": int64(1), "action_process_image_command_line": nil,
				"action_process_os_pid": int64(3920), "action_process_username": `CORP\alice`,
				"action_process_user_sid": "S-1-5-21-1-2-3-1000", "action_process_token": `{"elevation_type":3}`,
				"actor_process_os_pid": int64(1516), "os_actor_process_os_pid": int64(1516),
				"actor_effective_username": `CORP\alice`, "actor_process_logon_id": "24001971",
				"actor_process_image_path": nil, "action_process_integrity_level": nil,
				"action_process_instance_id": wantID(time.Date(2024, 10, 21, 11, 4, 45, 123456700, time.UTC), 3920)},
		},
		{
			name: "4688 v2 empty command line, service target, UNC parent",
			r: rec(secProv, "Security", 4688, 2, map[string]string{"SubjectUserSid": "S-1-5-18", "SubjectUserName": "WS01$",
				"SubjectDomainName": "WORKGROUP", "SubjectLogonId": "0x3e7", "NewProcessId": "0x10", "NewProcessName": `C:\x\svc.exe`,
				"TokenElevationType": "%%1936", "ProcessId": "0x4", "CommandLine": "", "TargetUserSid": "S-1-5-19",
				"TargetUserName": "LOCAL SERVICE", "TargetDomainName": "NT AUTHORITY", "TargetLogonId": "0x3e5",
				"ParentProcessName": `\Device\Mup\VBoxSvr\share\p.exe`, "MandatoryLabel": "S-1-16-8192"}),
			want: map[string]any{"action_process_image_command_line": nil, "action_process_username": `NT AUTHORITY\LOCAL SERVICE`,
				"action_process_user_sid": "S-1-5-19", "x_logon_id": "997", "action_process_integrity_level": int64(8192),
				"actor_process_image_path": `\\VBoxSvr\share\p.exe`, "actor_process_image_name": "p.exe",
				"actor_effective_username": `NT AUTHORITY\SYSTEM`, "actor_effective_user_sid": "S-1-5-18",
				"actor_process_logon_id": "999", "actor_process_command_line": nil},
		},
		{
			name: "sysmon 1 legacy schema, forwarded, low integrity, bad UtcTime",
			r: rec(sysmonProv, "ForwardedEvents", 1, 3, map[string]string{"UtcTime": "garbage", "ProcessGuid": "{00000000-0000-0000-0000-000000000001}",
				"ProcessId": "42", "Image": `C:\a\b.exe`, "CommandLine": "b.exe /x", "CurrentDirectory": `C:\a\`,
				"User": `WS01\bob`, "LogonGuid": "{00000000-0000-0000-0000-000000000002}", "LogonId": "0x1F",
				"TerminalSessionId": "2", "IntegrityLevel": "Low", "Hashes": "SHA1=ABCDEF",
				"ParentProcessGuid": "{00000000-0000-0000-0000-000000000003}", "ParentProcessId": "7",
				"ParentImage": `C:\p.exe`, "ParentCommandLine": "p.exe"}),
			opt: normalize.MapOptions{Vendor: "evtxhunt", Product: "Sysmon"},
			want: map[string]any{"_time": recMs, "_vendor": "evtxhunt", "_product": "Sysmon", "x_channel": "ForwardedEvents",
				"action_process_integrity_level": int64(4096), "x_image_sha1": "abcdef", "action_process_image_sha256": nil,
				"action_process_file_info": nil, "x_logon_id": "31", "x_session_id": int64(2), "action_process_user_sid": nil,
				"actor_effective_username": `WS01\bob`, "x_actor_user_approx": int64(1), "actor_process_os_pid": int64(7),
				"actor_process_command_line": "p.exe", "os_actor_process_image_command_line": "p.exe",
				"agent_hostname": "WS01", "host_metadata_domain": "corp.example", "host_metadata_hostname": "WS01.corp.example"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := normalize.FromRecord(tc.r, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range tc.want {
				if g := ev.Get(k); g != w {
					t.Errorf("%s = %#v, want %#v", k, g, w)
				}
			}
		})
	}
}

// wantID is the instance id layout of xdr-model.md §1.5, restated.
func wantID(start time.Time, pid uint32) string {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(start.UnixNano()/100+116444736000000000))
	binary.BigEndian.PutUint32(b[8:], pid)
	return base64.StdEncoding.EncodeToString(b)
}

// TestInstanceIDMatchesXDRSamples rebuilds the public XDR instance ids quoted
// in xdr-model.md §1.5 from their decoded start time and PID.
func TestInstanceIDMatchesXDRSamples(t *testing.T) {
	for _, tc := range []struct {
		id  string
		pid int64
	}{
		{"AdkP08aY7RwAAAL0AAAAAA==", 756},
		{"AdgdeB26mNQAAAAEAAAAAA==", 4},
		{"AdklBdxb0K0AABcwAAAAAA==", 5936},
	} {
		t.Run(tc.id, func(t *testing.T) {
			b, err := base64.StdEncoding.DecodeString(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			ft := int64(binary.BigEndian.Uint64(b))
			start := time.Unix(0, (ft-116444736000000000)*100).UTC()
			if got := normalize.InstanceID(start, tc.pid); got != tc.id {
				t.Errorf("InstanceID(%v, %d) = %s, want %s", start, tc.pid, got, tc.id)
			}
		})
	}
}

// TestFromRecordNotProcess rejects other events with ErrNotProcessEvent.
func TestFromRecordNotProcess(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *evtx.Record
	}{
		{"nil", nil},
		{"security 4624", rec(secProv, "Security", 4624, 2, map[string]string{})},
		{"sysmon 3", rec(sysmonProv, sysmonCh, 3, 5, map[string]string{})},
		{"other provider eid 1", rec("Microsoft-Windows-Kernel-General", "System", 1, 0, map[string]string{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := normalize.FromRecord(tc.r, normalize.MapOptions{}); !errors.Is(err, normalize.ErrNotProcessEvent) {
				t.Errorf("err = %v, want ErrNotProcessEvent", err)
			}
		})
	}
}

// TestEnumNames checks the ENUM name tables against xdr-model.md §1.3.
func TestEnumNames(t *testing.T) {
	for _, tc := range []struct {
		col  string
		v    int64
		name string
	}{
		{"event_type", 1, "PROCESS"}, {"event_type", 23, "HOST_FIREWALL"}, {"event_sub_type", 2, "PROCESS_STOP"},
		{"agent_os_type", 4, "AGENT_OS_LINUX"}, {"causality_actor_type", 1, "LOCAL"},
		{"actor_process_signature_status", 4, "FAILED_TO_OBTAIN"}, {"action_process_integrity_level", 12288, "HIGH"},
	} {
		t.Run(tc.col+"="+tc.name, func(t *testing.T) {
			if n, ok := normalize.EnumName(tc.col, tc.v); !ok || n != tc.name {
				t.Errorf("EnumName = %q %v", n, ok)
			}
			if v, ok := normalize.EnumValue(tc.col, strings.ToLower(tc.name)); !ok || v != tc.v {
				t.Errorf("EnumValue = %d %v", v, ok)
			}
		})
	}
}

// fuzzKinds are the (provider, channel, event id) triples the fuzzer picks from.
var fuzzKinds = []struct {
	prov, ch string
	eid      int
	process  bool
}{
	{sysmonProv, sysmonCh, 1, true}, {sysmonProv, sysmonCh, 5, true}, {secProv, "Security", 4688, true},
	{secProv, "Security", 4689, true}, {secProv, "Security", 4624, false}, {"", sysmonCh, 1, true}, {"", "", 1, false},
}

// FuzzFromRecord maps arbitrary EventData ("Name=value" lines) for each kind
// of record: it must not fail for process events, must reject others with
// ErrNotProcessEvent, and must only set real columns to int64 or string.
func FuzzFromRecord(f *testing.F) {
	f.Add(uint8(0), "WS01", "UtcTime=2024-10-21 11:04:43.683\nProcessId=6112\nImage=C:\\Windows\\System32\\cmd.exe\nHashes=SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=01\nIntegrityLevel=High\nLogonId=0x9ef81\nParentProcessId=5616\nUser=NT AUTHORITY\\SYSTEM")
	f.Add(uint8(2), "fs03.offsec.lan", "SubjectUserSid=S-1-5-18\nSubjectLogonId=0x00000000000003e7\nNewProcessId=0x0000000000000058\nNewProcessName=\\Device\\Mup\\a\\b.exe\nProcessId=0x4\nCommandLine=\nTargetUserSid=S-1-0-0\nMandatoryLabel=S-1-16-16384\nTokenElevationType=%%1936")
	f.Add(uint8(1), "", "UtcTime=x\nProcessId=-1\nImage=")
	f.Add(uint8(3), "h.", "ProcessId=0xffffffffffffffffff\nStatus=0xZZ\nProcessName=\\")
	f.Add(uint8(4), "dc", "")
	valid := map[string]bool{}
	for _, c := range normalize.Columns() {
		valid[c.Name] = true
	}
	f.Fuzz(func(t *testing.T, kind uint8, computer, data string) {
		k := fuzzKinds[int(kind)%len(fuzzKinds)]
		d := map[string]string{}
		for _, line := range strings.Split(data, "\n") {
			name, v, _ := strings.Cut(line, "=")
			d[name] = v
		}
		r := rec(k.prov, k.ch, k.eid, 2, d)
		r.Computer = computer
		ev, err := normalize.FromRecord(r, normalize.MapOptions{})
		if !k.process {
			if !errors.Is(err, normalize.ErrNotProcessEvent) {
				t.Fatalf("non-process record: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("FromRecord: %v", err)
		}
		for name, v := range ev.Cols {
			if !valid[name] {
				t.Fatalf("%q is not a column", name)
			}
			switch v.(type) {
			case int64, string:
			default:
				t.Fatalf("%s has type %T", name, v)
			}
		}
		if st, _ := ev.Int("event_sub_type"); st != 1 && st != 2 {
			t.Fatalf("event_sub_type = %d", st)
		}
		allValid := utf8.ValidString(data)
		if allValid {
			var back map[string]string
			if err := json.Unmarshal([]byte(ev.Str("x_event_data")), &back); err != nil || len(back) != len(d) {
				t.Fatalf("x_event_data %q does not round-trip: %v", ev.Str("x_event_data"), err)
			}
			for k2, v2 := range d {
				if back[k2] != v2 {
					t.Fatalf("x_event_data[%q] = %q, want %q", k2, back[k2], v2)
				}
			}
		}
	})
}
