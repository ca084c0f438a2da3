package hunt

import (
	"context"
	"strings"
	"testing"
)

// foldRows hold non-ASCII text where SQLite's ASCII-only folding and Go's
// strings.ToLower (the reference of case-insensitive XQL comparison in
// evtxhunt) differ. U+212A KELVIN SIGN lower-cases to "k" and U+0130 LATIN
// CAPITAL LETTER I WITH DOT ABOVE to "i" in Go (unicode.ToLower); Ç to ç.
var foldRows = []beTestRow{
	{ // r1
		"_time": int64(1000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h1",
		"action_process_image_name":         "\u212aILL.exe",
		"action_process_image_command_line": "run \u0130NVOKE now",
	},
	{ // r2
		"_time": int64(2000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h2",
		"action_process_image_name":         "kill.exe",
		"action_process_image_command_line": "invoke",
	},
	{ // r3
		"_time": int64(3000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h3",
		"action_process_image_name":         "ÇMD.EXE",
		"action_process_image_command_line": "a\u212ab",
	},
	{ // r4: nulls
		"_time": int64(4000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h4",
	},
	{ // r5
		"_time": int64(5000), "event_type": int64(1), "event_sub_type": int64(1), "agent_hostname": "h5",
		"action_process_image_name": "KILL.EXE",
	},
}

// foldCases are written by hand from Go's case mapping (see foldRows).
// sql, when set, must occur in the compiled SQL: it shows which path (native
// or xql_match) the comparison took, so both are covered.
var foldCases = []struct {
	name, query, want, sql string
}{
	{"eq kelvin folds to k", `filter action_process_image_name = "kill.exe"`, "r1 r2 r5", "COLLATE NOCASE"},
	{"ne kelvin drops null", `filter action_process_image_name != "kill.exe"`, "r3", "COLLATE NOCASE"},
	{"eq upper literal", `filter action_process_image_name = "KILL.EXE"`, "r1 r2 r5", "COLLATE NOCASE"},
	{"eq ascii literal vs non-ascii upper", `filter action_process_image_name = "Çmd.exe"`, "r3", "xql_match"},
	{"eq kelvin literal", "filter action_process_image_name = \"\u212aill.exe\"", "r1 r2 r5", "xql_match"},
	{"eq near miss", `filter action_process_image_name = "ill.exe"`, "", "COLLATE NOCASE"},
	{"in kelvin", `filter action_process_image_name in ("kill.exe", "x")`, "r1 r2 r5", "COLLATE NOCASE IN"},
	{"not in kelvin drops null", `filter action_process_image_name not in ("kill.exe", "x")`, "r3", "COLLATE NOCASE IN"},
	{"in mixed with glob and non-ascii", `filter action_process_image_name in ("kill.exe", "çmd*")`, "r1 r2 r3 r5", "COLLATE NOCASE"},
	{"in mixed with null", `filter action_process_image_name in (null, "kill.exe", "y")`, "r1 r2 r4 r5", "COLLATE NOCASE IN"},
	{"contains dotted I folds to i", `filter action_process_image_command_line contains "invoke"`, "r1 r2", "instr(lower("},
	{"contains kelvin inside", `filter action_process_image_command_line contains "AKB"`, "r3", "instr(lower("},
	{"not contains drops null", `filter action_process_image_command_line not contains "invoke"`, "r3", "instr(lower("},
	{"contains empty is non-null", `filter action_process_image_command_line contains ""`, "r1 r2 r3", "instr(lower("},
	{"cs eq", `config case_sensitive = true | filter action_process_image_name = "kill.exe"`, "r2", ""},
	{"cs ne", `config case_sensitive = true | filter action_process_image_name != "kill.exe"`, "r1 r3 r5", ""},
	{"cs in", `config case_sensitive = true | filter action_process_image_name in ("KILL.EXE", "kill.exe")`, "r2 r5", " IN ("},
	{"cs not in", `config case_sensitive = true | filter action_process_image_name not in ("KILL.EXE", "kill.exe")`, "r1 r3", " IN ("},
	{"cs contains", `config case_sensitive = true | filter action_process_image_command_line contains "NVOKE"`, "r1", "instr("},
	{"cs contains non-ascii", "config case_sensitive = true | filter action_process_image_command_line contains \"\u212a\"", "r3", "instr("},
	{"cs not contains", `config case_sensitive = true | filter action_process_image_command_line not contains "nvoke"`, "r1 r3", "instr("},
	{"alter value stays on xql_match", `alter n = concat(action_process_image_name, "") | filter n = "kill.exe"`, "r1 r2 r5", "xql_match"},
}

func TestSemanticsFolding(t *testing.T) {
	db, _ := beNewTestDB(t, foldRows)
	for _, tc := range foldCases {
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
			if !strings.Contains(res.SQL, tc.sql) {
				t.Errorf("%s: SQL lacks %q:\n%.800s", tc.query, tc.sql, res.SQL)
			}
		})
	}
}
