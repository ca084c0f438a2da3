package hunt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// seedXQL extracts the ```xql fence of the seed hunt document verbatim.
func seedXQL(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(evtxtest.SharedDir(t), "docs", "seed-hunt-batch-from-archive-webdav.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "```xql\n")
	if i < 0 {
		t.Fatal("seed document has no ```xql fence")
	}
	s = s[i+len("```xql\n"):]
	j := strings.Index(s, "```")
	if j < 0 {
		t.Fatal("unterminated ```xql fence")
	}
	return s[:j]
}

// beSeedRow is a process start that satisfies every condition of the seed
// query except, unless the path is given with '/', the separator.
func beSeedRow(host, path, cmd, cgo string) beTestRow {
	return beTestRow{
		"_time": int64(1700000000000), "event_type": int64(1), "event_sub_type": int64(1), "agent_os_type": int64(1),
		"agent_hostname": host, "action_process_image_name": "cmd.exe", "action_process_image_path": path,
		"action_process_image_command_line": cmd, "causality_actor_process_image_name": cgo,
		"actor_effective_username": `CORP\u`, "event_id": "ev-" + host, "agent_id": "agent-" + host, "_product": "XDR agent",
	}
}

func TestSeedQuery(t *testing.T) {
	src := seedXQL(t)
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(seed): %v", err)
	}
	db, _ := beNewTestDB(t, []beTestRow{
		beSeedRow("temp", `C:\Users\u\AppData\Local\Temp\x\cmd.exe`, `cmd.exe /c net use \\webdav.example@SSL\DavWWWRoot`, "explorer.exe"),
		beSeedRow("downloads", `C:\Users\u\Downloads\cmd.exe`, `cmd.exe /c "x.bat" https://a.trycloudflare.com/`, "WinRAR.exe"),
		beSeedRow("system32", `C:\Windows\System32\cmd.exe`, `cmd.exe /c net use z: \\h\s`, "explorer.exe"),
		beSeedRow("wrongparent", `C:\Users\u\AppData\Local\Temp\cmd.exe`, `cmd.exe /c net use z: \\h\s`, "svchost.exe"),
		beSeedRow("nocmd", `C:\Users\u\AppData\Local\Temp\cmd.exe`, `cmd.exe /c dir`, "explorer.exe"),
	})
	ctx := context.Background()

	faithful, err := Run(ctx, db, q, RunOptions{})
	if err != nil {
		t.Fatalf("Run(seed): %v", err)
	}
	if len(faithful.Rows) != 0 {
		t.Errorf("faithful mode: %d rows, want 0 (Windows paths use '\\')", len(faithful.Rows))
	}
	wantCols := "_time,agent_hostname,actor_effective_username,action_process_image_name,action_process_image_path,action_process_image_command_line,causality_actor_process_image_name,causality_actor_process_command_line,event_id,agent_id,_product"
	if got := strings.Join(faithful.Columns, ","); !strings.HasPrefix(got, wantCols) {
		t.Errorf("columns %s, want prefix %s", got, wantCols)
	}

	ps, err := Run(ctx, db, q, RunOptions{PathSepInsensitive: true})
	if err != nil {
		t.Fatalf("Run(seed, path-sep): %v", err)
	}
	if got := beProject(t, ps, true, "agent_hostname"); got != "downloads; temp" {
		t.Errorf("path-sep mode rows %q, want downloads; temp", got)
	}
	if len(ps.PathSepOnly) != len(ps.Rows) {
		t.Fatalf("PathSepOnly has %d flags for %d rows", len(ps.PathSepOnly), len(ps.Rows))
	}
	for i, f := range ps.PathSepOnly {
		if !f {
			t.Errorf("row %d not flagged PathSepOnly", i)
		}
	}
}

func TestSeedQueryFaithfulMatchNotFlagged(t *testing.T) {
	q, err := Parse(seedXQL(t))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := beNewTestDB(t, []beTestRow{
		beSeedRow("slash", `C:/Users/u/AppData/Local/Temp/x/cmd.exe`, `cmd /c net use x`, "7z.exe"),
		beSeedRow("back", `C:\Users\u\AppData\Local\Temp\x\cmd.exe`, `cmd /c net use x`, "7z.exe"),
	})
	for _, ps := range []bool{false, true} {
		res, err := Run(context.Background(), db, q, RunOptions{PathSepInsensitive: ps})
		if err != nil {
			t.Fatal(err)
		}
		want := "slash"
		if ps {
			want = "back; slash"
		}
		if got := beProject(t, res, true, "agent_hostname"); got != want {
			t.Errorf("path-sep=%v: rows %q, want %q", ps, got, want)
		}
		if !ps {
			if res.PathSepOnly != nil {
				t.Errorf("PathSepOnly = %v without the option", res.PathSepOnly)
			}
			continue
		}
		for i, r := range res.Rows {
			host := r[1].(string)
			if res.PathSepOnly[i] != (host == "back") {
				t.Errorf("row %s: PathSepOnly = %v", host, res.PathSepOnly[i])
			}
		}
	}
}

func TestPathSepOnlyOnPathFields(t *testing.T) {
	db, _ := beNewTestDB(t, []beTestRow{
		{"agent_hostname": `a/b`, "action_process_cwd": `C:\x\y`, "action_process_image_command_line": `run C:\x\y`},
	})
	cases := []struct {
		query string
		rows  int
	}{
		{`filter action_process_cwd = "C:/x/y"`, 1},
		{`filter action_process_image_command_line contains "c:/x/"`, 1},
		{`filter action_process_cwd in ("c:/X/*")`, 1},
		{`filter lowercase(action_process_cwd) = "c:/x/y"`, 1},
		{`alter c = trim(action_process_cwd) | filter c contains ":/x/"`, 1},
		{`filter agent_hostname = "a\b"`, 0},                    // not a path field
		{`filter concat(action_process_cwd, "") = "C:/x/y"`, 0}, // concat's result is not a path
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			res := beRunQuery(t, db, tc.query, RunOptions{PathSepInsensitive: true})
			if len(res.Rows) != tc.rows {
				t.Fatalf("%d rows, want %d", len(res.Rows), tc.rows)
			}
			for _, f := range res.PathSepOnly {
				if !f {
					t.Errorf("row not flagged")
				}
			}
			if res := beRunQuery(t, db, tc.query, RunOptions{}); len(res.Rows) != 0 {
				t.Errorf("faithful mode: %d rows, want 0", len(res.Rows))
			}
		})
	}
}

func TestLiteralsAreInert(t *testing.T) {
	nasty := []string{
		`'; DROP TABLE xdr_data; --`,
		`" OR 1=1 --`,
		"a\x00b",
		`x'); DELETE FROM xdr_data; --`,
		`?1 ?2 $x :y @z`,
	}
	var rows []beTestRow
	for _, s := range nasty {
		rows = append(rows, beTestRow{"agent_hostname": s})
	}
	rows = append(rows, beTestRow{"agent_hostname": "a"})
	db, _ := beNewTestDB(t, rows)
	ctx := context.Background()
	for i, s := range nasty {
		t.Run(s, func(t *testing.T) {
			for _, op := range []string{"=", "contains", "in"} {
				var cond Expr
				switch op {
				case "in":
					cond = &InExpr{X: &Ident{Name: "agent_hostname"}, List: []Expr{&StringLit{Value: s}}}
				default:
					cond = &Binary{Op: op, X: &Ident{Name: "agent_hostname"}, Y: &StringLit{Value: s}}
				}
				q := &Query{Stages: []Stage{
					&FilterStage{Cond: cond},
					&FieldsStage{Items: []FieldItem{{Name: "agent_hostname", Alias: `h"; DROP TABLE xdr_data; --`}}},
				}}
				res, err := Run(ctx, db, q, RunOptions{})
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				if len(res.RowIDs) != 1 || res.RowIDs[0] != int64(i+1) {
					t.Errorf("%s %q matched rows %v, want [%d]", op, s, res.RowIDs, i+1)
				}
				if res.Columns[0] != `h"; DROP TABLE xdr_data; --` {
					t.Errorf("alias came back as %q", res.Columns[0])
				}
			}
		})
	}
	// The same through the parser, for a literal the lexer accepts raw.
	q, err := Parse(`filter agent_hostname = "'; DROP TABLE xdr_data; --"`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, db, q, RunOptions{})
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("parsed query: rows %v err %v", res, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM xdr_data`).Scan(&n); err != nil || n != len(rows) {
		t.Fatalf("xdr_data after the queries: %d rows, err %v; want %d", n, err, len(rows))
	}
}

// TestPathSepFlagThroughComp: a group is flagged when it holds a row found
// only through path-separator normalisation.
func TestPathSepFlagThroughComp(t *testing.T) {
	db, _ := beNewTestDB(t, []beTestRow{
		beSeedRow("temp", `C:\Users\u\AppData\Local\Temp\x\cmd.exe`, `cmd.exe /c net use \\h\s`, "explorer.exe"),
		beSeedRow("slash", `C:/Users/u/Downloads/cmd.exe`, `cmd.exe /c net use \\h\s`, "explorer.exe"),
	})
	src := seedXQL(t) + "| comp count() as n by agent_hostname"
	res := beRunQuery(t, db, src, RunOptions{})
	if got := beProject(t, res, true, "agent_hostname", "n"); got != "slash|1" {
		t.Errorf("faithful: %q, want slash|1", got)
	}
	res = beRunQuery(t, db, src, RunOptions{PathSepInsensitive: true})
	if got := beProject(t, res, false, "agent_hostname", "n"); got != "slash|1; temp|1" && got != "temp|1; slash|1" {
		t.Fatalf("path-sep: %q", got)
	}
	for i, r := range res.Rows {
		if want := r[0] == "temp"; res.PathSepOnly[i] != want {
			t.Errorf("group %v: PathSepOnly = %v, want %v", r[0], res.PathSepOnly[i], want)
		}
	}
}
