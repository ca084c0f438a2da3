package hunt

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestNativeDifferential runs =, !=, contains, not contains, in and ~=
// against literals over values chosen to break ASCII-only folding (K, İ,
// ſ, Ç, NUL, LIKE's % _ \, invalid UTF-8) and compares the rows with the
// Go reference: matchOne (xql_match) and the regexp package.
func TestNativeDifferential(t *testing.T) {
	values := []string{
		"kill.exe", "KILL.EXE", "\u212aill.exe", "k\u0130ll.exe", "\u212a\u0130LL.EXE", "net use x",
		"NET\x00 use", "50%_off", `a\b`, "\u017fys", "ÇMD.EXE", "\xff\xfeabc", "", "x\u212a",
	}
	var rows []beTestRow
	for i, v := range values {
		rows = append(rows, beTestRow{"_time": int64(1000 * (i + 1)), "event_type": int64(1),
			"action_process_image_command_line": v})
	}
	rows = append(rows, beTestRow{"_time": int64(99000), "event_type": int64(1)}) // NULL value
	db, _ := beNewTestDB(t, rows)
	labels := func(keep func(v string) bool) string {
		var ls []string
		for i, v := range values {
			if keep(v) {
				ls = append(ls, fmt.Sprintf("r%d", i+1))
			}
		}
		sort.Strings(ls)
		return strings.Join(ls, " ")
	}
	type check struct{ query, want string }
	var checks []check
	patterns := []string{"kill.exe", "KI", "ill", "use", "%", "_", `\`, "net", "sys", "md.exe", "", "abc", "k", "i", "X" + "\u212a"}
	for _, ci := range []bool{true, false} {
		cfg := "config case_sensitive = true | "
		var fold int64
		if ci {
			cfg, fold = "", matchFold
		}
		for _, p := range patterns {
			eq := func(v string) bool { return matchOne(v, p, fold) }
			has := func(v string) bool { return matchOne(v, p, fold|matchContains) }
			c := "action_process_image_command_line"
			checks = append(checks,
				check{fmt.Sprintf(`%sfilter %s = "%s"`, cfg, c, p), labels(eq)},
				check{fmt.Sprintf(`%sfilter %s != "%s"`, cfg, c, p), labels(func(v string) bool { return !eq(v) })},
				check{fmt.Sprintf(`%sfilter %s contains "%s"`, cfg, c, p), labels(has)},
				check{fmt.Sprintf(`%sfilter %s not contains "%s"`, cfg, c, p), labels(func(v string) bool { return !has(v) })},
				check{fmt.Sprintf(`%sfilter %s in ("%s", "net use x")`, cfg, c, p),
					labels(func(v string) bool { return eq(v) || matchOne(v, "net use x", fold) })},
				check{fmt.Sprintf(`%sfilter %s not in ("%s", "KILL.exe")`, cfg, c, p),
					labels(func(v string) bool { return !eq(v) && !matchOne(v, "KILL.exe", fold) })},
			)
		}
		for _, p := range []string{"kill", `use\s`, "(ill|sys)", "net.use", "s$", "^x.$", "(ab|sy)", "off$"} {
			re, err := compileRegex(p, ci)
			if err != nil {
				t.Fatal(err)
			}
			checks = append(checks,
				check{fmt.Sprintf(`%sfilter action_process_image_command_line ~= "%s"`, cfg, p), labels(re.MatchString)},
				check{fmt.Sprintf(`%sfilter action_process_image_command_line !~= "%s"`, cfg, p),
					labels(func(v string) bool { return !re.MatchString(v) })},
			)
		}
	}
	for _, tc := range checks {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.query, err)
		}
		res, err := Run(context.Background(), db, q, RunOptions{})
		if err != nil {
			t.Fatalf("Run(%q): %v", tc.query, err)
		}
		if got := beRowLabels(t, res); got != tc.want {
			t.Errorf("%s\n got [%s]\nwant [%s]", tc.query, got, tc.want)
		}
	}
}
