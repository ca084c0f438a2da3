package hunt

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// beSemRows are the rows of the semantics table; row i has rowid i+1 and is
// called "r<i+1>" in the expectations.
var beSemRows = []beTestRow{
	{ // r1
		"_time": int64(1000), "event_type": int64(1), "event_sub_type": int64(1), "agent_os_type": int64(1),
		"agent_hostname": "h1", "action_process_image_name": "cmd.exe",
		"action_process_image_path":         `C:\Windows\System32\cmd.exe`,
		"action_process_image_command_line": `cmd.exe /c "C:\Users\u\AppData\Local\Temp\x.bat"`,
		"actor_effective_username":          `NT AUTHORITY\SYSTEM`,
		"action_process_signature_status":   int64(1), "action_process_os_pid": int64(100),
		"action_process_is_native": int64(1), "agent_ip_addresses": "10.1.2.3",
		"action_process_token": `{"a":{"b":"X"},"list":[1,2]}`,
	},
	{ // r2
		"_time": int64(2000), "event_type": int64(1), "event_sub_type": int64(2), "agent_os_type": int64(1),
		"agent_hostname": "H2", "action_process_image_name": "CMD.EXE",
		"action_process_image_path":         `C:\Users\u\Downloads\CMD.EXE`,
		"action_process_image_command_line": `net use \\host\share`,
		"actor_effective_username":          "alice",
		"action_process_signature_status":   int64(6), "action_process_os_pid": int64(200),
		"action_process_is_native": int64(0), "agent_ip_addresses": "192.168.1.5",
	},
	{ // r3: nulls and the empty string
		"_time": int64(3000), "event_type": int64(1), "event_sub_type": int64(1), "agent_os_type": int64(4),
		"agent_hostname": "h3", "actor_effective_username": "",
	},
	{ // r4
		"_time": int64(4000), "event_type": int64(3), "event_sub_type": int64(1), "agent_os_type": int64(2),
		"agent_hostname": "h4", "action_process_image_name": "powershell.exe",
		"action_process_image_path":         "/usr/bin/pwsh",
		"action_process_image_command_line": `pwsh -c Get-Item HKCU:\Software\RunMRU`,
		"actor_effective_username":          "Bob",
		"action_process_signature_status":   int64(3), "action_process_os_pid": int64(4000),
		"agent_ip_addresses": "8.8.8.8",
	},
}

// beSemCases are written from xql.md §3.1–§3.3, not from our output.
var beSemCases = []struct {
	name, query string
	want        string // space-separated row labels, sorted
}{
	// = and case sensitivity
	{"eq default case-insensitive", `filter action_process_image_name = "cmd.exe"`, "r1 r2"},
	{"eq case_sensitive true", `config case_sensitive = true | filter action_process_image_name = "cmd.exe"`, "r1"},
	{"eq case_sensitive false explicit", `config case_sensitive=false | dataset=xdr_data | filter action_process_image_name = "CMD.exe"`, "r1 r2"},
	// raw strings: no escape processing
	{"doubled backslash is two backslashes", `filter actor_effective_username = "NT AUTHORITY\\SYSTEM"`, ""},
	{"single backslash matches", `filter actor_effective_username = "NT AUTHORITY\SYSTEM"`, "r1"},
	{"triple-quoted no wildcard", `filter action_process_image_name = """cmd*"""`, ""},
	{"triple-quoted equality", `filter action_process_image_name = """cmd.exe"""`, "r1 r2"},
	// null
	{"ne drops null rows", `filter action_process_image_name != "cmd.exe"`, "r4"},
	{"eq null is IS NULL", `filter action_process_image_name = null`, "r3"},
	{"ne null is IS NOT NULL", `filter action_process_image_name != null`, "r1 r2 r4"},
	{"empty string is not null", `filter actor_effective_username = ""`, "r3"},
	{"empty string row is not null", `filter actor_effective_username = null`, ""},
	{"not of unknown stays unknown", `filter not action_process_image_name = "cmd.exe"`, "r4"},
	{"precedence not > and > or", `filter not action_process_image_name = "cmd.exe" or agent_hostname = "h3"`, "r3 r4"},
	{"and binds tighter than or", `filter agent_hostname = "h1" or agent_hostname = "h4" and event_type = ENUM.PROCESS`, "r1"},
	// wildcards in =
	{"glob suffix", `filter action_process_image_command_line = "*RunMRU"`, "r4"},
	{"glob case-insensitive", `filter action_process_image_command_line = "*runmru"`, "r4"},
	{"glob case-sensitive", `config case_sensitive = true | filter action_process_image_command_line = "*runmru"`, ""},
	{"glob is a full-string match", `filter action_process_image_name = "md*"`, ""},
	{"glob prefix", `filter action_process_image_name = "cmd*"`, "r1 r2"},
	{"glob ne", `filter action_process_image_name != "cmd*"`, "r4"},
	// contains
	{"contains case-insensitive", `filter action_process_image_command_line contains "NET USE"`, "r2"},
	{"contains case-sensitive", `config case_sensitive = true | filter action_process_image_command_line contains "NET USE"`, ""},
	{"contains star means non-empty", `filter actor_effective_username contains "*"`, "r1 r2 r4"},
	{"contains with wildcard", `filter action_process_image_path contains "users*downloads"`, "r2"},
	{"not contains drops null", `filter action_process_image_name not contains "cmd"`, "r4"},
	{"contains forward slash is faithful", `filter action_process_image_path contains "/downloads/"`, ""},
	{"contains on an array is membership", `alter parts = split(action_process_image_command_line, " ") | filter parts contains "use"`, "r2"},
	{"array membership is not substring", `alter parts = split(action_process_image_command_line, " ") | filter parts contains "us"`, ""},
	// regex
	{"regex unanchored", `filter action_process_image_path ~= "System32"`, "r1"},
	{"regex case-insensitive by default", `filter action_process_image_name ~= "MD\.EX"`, "r1 r2"},
	{"regex case-sensitive", `config case_sensitive = true | filter action_process_image_name ~= "MD\.EX"`, "r2"},
	{"regex anchored", `filter action_process_image_name ~= "^cmd\.exe$"`, "r1 r2"},
	{"regex negated drops null", `filter action_process_image_name !~= "cmd"`, "r4"},
	{"regex raw backslash class", `filter action_process_image_path ~= "C:\\Users\\"`, "r2"},
	// in
	{"in with ENUM and null", `filter action_process_signature_status in (null, ENUM.SIGNED)`, "r1 r3"},
	{"not in with null and ENUM", `filter action_process_signature_status not in (null, ENUM.UNSUPPORTED)`, "r1 r4"},
	{"in strings case-insensitive", `filter action_process_image_name in ("CMD.exe", "x")`, "r1 r2"},
	{"in with wildcard", `filter action_process_image_name in ("power*", "x")`, "r4"},
	{"not in drops null", `filter action_process_image_name not in ("cmd.exe")`, "r4"},
	{"in numbers", `filter action_process_os_pid in (100, 4000)`, "r1 r4"},
	{"in case-sensitive", `config case_sensitive = true | filter action_process_image_name in ("CMD.exe")`, ""},
	{"in case-sensitive with glob", `config case_sensitive = true | filter action_process_image_name in ("CMD.EXE", "cmd*")`, "r1 r2"},
	{"not in case-sensitive drops null", `config case_sensitive = true | filter action_process_image_name not in ("cmd.exe")`, "r2 r4"},
	{"ne case-sensitive", `config case_sensitive = true | filter action_process_image_name != "cmd.exe"`, "r2 r4"},
	{"ne glob case-sensitive", `config case_sensitive = true | filter action_process_image_name != "CMD*"`, "r1 r4"},
	{"contains case-sensitive upper", `config case_sensitive = true | filter action_process_image_name contains "MD"`, "r2"},
	{"contains drops null", `filter action_process_image_name contains ""`, "r1 r2 r4"},
	{"eq both spellings under case-insensitivity", `filter action_process_image_name = "cmd.exe" and action_process_image_name = "CMD.EXE"`, "r1 r2"},
	{"gt drops null", `filter action_process_os_pid > 0`, "r1 r2 r4"},
	{"not gt drops null", `filter not action_process_os_pid > 150`, "r1"},
	{"regex drops null", `filter action_process_image_name ~= ".*"`, "r1 r2 r4"},
	{"not regex drops null", `filter not (action_process_image_name ~= "cmd")`, "r4"},
	{"incidr drops null", `filter agent_ip_addresses incidr "0.0.0.0/0"`, "r1 r2 r4"},
	{"field compared with field, case-insensitive", `filter agent_hostname = lowercase(agent_hostname)`, "r1 r2 r3 r4"},
	{"field compared with field, case-sensitive", `config case_sensitive = true | filter agent_hostname = lowercase(agent_hostname)`, "r1 r3 r4"},
	{"null compared with null field", `filter action_process_image_name = action_process_image_path`, ""},
	// ENUM forms
	{"ENUM dotted", `filter event_type = ENUM.FILE`, "r4"},
	{"ENUM bare", `filter event_type = FILE`, "r4"},
	{"ENUM integer", `filter event_type = 3`, "r4"},
	{"ENUM sub type", `filter event_sub_type = PROCESS_STOP`, "r2"},
	{"ENUM agent os", `filter agent_os_type = ENUM.AGENT_OS_LINUX`, "r3"},
	{"ENUM on the left", `filter ENUM.AGENT_OS_MAC = agent_os_type`, "r4"},
	{"ENUM unknown number matches nothing", `filter event_sub_type = ENUM.FILE_WRITE`, ""},
	{"ENUM unknown number ne", `filter event_type = FILE and event_sub_type != ENUM.FILE_WRITE`, "r4"},
	// numbers, booleans
	{"number gt", `filter action_process_os_pid > 150`, "r2 r4"},
	{"number le", `filter action_process_os_pid <= 100`, "r1"},
	{"bool true", `filter action_process_is_native = true`, "r1"},
	{"bool false", `filter action_process_is_native = false`, "r2"},
	{"arithmetic", `filter action_process_os_pid * 2 = 400`, "r2"},
	// incidr
	{"incidr list", `filter agent_ip_addresses incidr "10.0.0.0/8, 192.168.0.0/16"`, "r1 r2"},
	{"not incidr", `filter agent_ip_addresses not incidr "10.0.0.0/8"`, "r2 r4"},
	// JSON
	{"json arrow", `filter action_process_token -> a.b = "x"`, "r1"},
	{"json_extract_scalar", `filter json_extract_scalar(action_process_token, "$.a.b") = "X"`, "r1"},
	{"json array index", `filter json_extract_scalar(action_process_token, "$.list[1]") = "2"`, "r1"},
	// functions
	{"lowercase", `config case_sensitive = true | filter lowercase(action_process_image_name) = "cmd.exe"`, "r1 r2"},
	{"uppercase", `config case_sensitive = true | filter uppercase(agent_hostname) = "H2"`, "r2"},
	{"coalesce", `filter coalesce(action_process_image_name, agent_hostname) = "h3"`, "r3"},
	{"if", `filter if(action_process_os_pid > 150, "big", "small") = "big"`, "r2 r4"},
	{"concat", `filter concat(agent_hostname, "-", action_process_image_name) = "h1-cmd.exe"`, "r1"},
	{"regextract arrayindex", `filter arrayindex(regextract(action_process_image_path, "\\([^\\]+)\\[^\\]+$"), 0) = "System32"`, "r1"},
	{"arrayindex negative", `filter arrayindex(split(action_process_image_command_line, " "), -1) = "\\host\share"`, "r2"},
	{"len", `filter len(agent_hostname) = 2`, "r1 r2 r3 r4"},
	{"replace", `filter replace(action_process_image_path, "\", "/") contains "/windows/"`, "r1"},
	{"to_integer to_string", `filter to_integer(to_string(action_process_os_pid)) = 200`, "r2"},
	{"current_time is --now", `filter timestamp_diff(current_time(), _time, "SECOND") >= 2`, "r1 r2"},
	{"to_epoch", `filter to_epoch(_time, "MILLIS") = 3000`, "r3"},
	{"to_timestamp", `filter _time >= to_timestamp(3, "SECONDS")`, "r3 r4"},
	{"trim", `filter trim("  h1 ") = agent_hostname`, "r1"},
	// time frames resolve against max(_time) = 4000 ms
	{"timeframe relative", `config timeframe = 2s | filter event_type = PROCESS`, "r2 r3"},
	{"timeframe between", `config timeframe between "1970-01-01 00:00:01 +0000" and "1970-01-01 00:00:02 +0000"`, "r1 r2"},
	// fields evtxhunt never fills are NULL
	{"unfilled field is null", `filter action_registry_key_name = null and agent_hostname = "h1"`, "r1"},
	{"unfilled field never equals", `filter action_registry_key_name = "x"`, ""},
	// preset
	{"preset xdr_process", `preset = xdr_process | filter agent_os_type != ENUM.AGENT_OS_LINUX`, "r1 r2"},
	{"no dataset defaults to xdr_data", `filter agent_hostname in ("H1", "h4")`, "r1 r4"},
}

// beRowLabels runs a query and returns the sorted labels of its rows.
func beRowLabels(t *testing.T, res *Result) string {
	t.Helper()
	if res.RowIDs == nil {
		t.Fatalf("no row identity in result")
	}
	var ls []string
	for _, id := range res.RowIDs {
		ls = append(ls, fmt.Sprintf("r%d", id))
	}
	sort.Strings(ls)
	return strings.Join(ls, " ")
}

func TestSemantics(t *testing.T) {
	db, _ := beNewTestDB(t, beSemRows)
	for _, tc := range beSemCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.query, err)
			}
			res, err := Run(context.Background(), db, q, RunOptions{})
			if err != nil {
				t.Fatalf("Run(%q): %v", tc.query, err)
			}
			if got := beRowLabels(t, res); got != tc.want {
				t.Errorf("%s\n got rows [%s]\nwant rows [%s]\nSQL: %.600s", tc.query, got, tc.want, res.SQL)
			}
		})
	}
}
