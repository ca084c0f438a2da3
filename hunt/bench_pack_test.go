//go:build unix

package hunt_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"evtxhunt/hunt"
	"evtxhunt/normalize"
)

// BenchmarkBuiltinPack1M times the built-in hunt pack over a database of
// synthetic Sysmon process creations (issue 8, target: the whole pack in at
// most 5 s over 1,000,000 PROCESS_START rows).
//
// The database is built once per run (not timed) with normalize.Open, so it
// has the real schema and indices, and a bulk INSERT of benchPackRows rows
// (1,000,000, or $EVTXHUNT_BENCH_PACK_ROWS). About one row in a thousand is
// a planted attack row for one of the hunts, so their results are not empty;
// the rest is a weighted mix of ordinary processes, many of them near misses
// (cmd.exe, rundll32.exe, python.exe, wscript.exe, net.exe with harmless
// command lines) that pass the image-name conditions and reach the regular
// expressions. $EVTXHUNT_BENCH_PACK_DB names a database file to keep between
// runs (built there when missing), so that a CPU profile shows only the hunts.
//
// One iteration (ns/op) runs every XQL query of every built-in hunt:
// hunt.Parse then hunt.Run with default options. The per-hunt time is
// reported as ms/<hunt ID>, the process CPU time (user+system) as
// cpu-ms/op, the rows found as rows/op. With
// EVTXHUNT_BENCH_PLAN=1 the SQLite query plan of each hunt is logged.
func BenchmarkBuiltinPack1M(b *testing.B) {
	ctx := context.Background()
	rows := benchPackRows(b)
	path := os.Getenv("EVTXHUNT_BENCH_PACK_DB")
	if path == "" {
		path = b.TempDir() + "/pack.db"
	}
	planted, err := ensurePackDB(ctx, path, rows)
	if err != nil {
		b.Fatal(err)
	}
	hunts, err := hunt.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	db, err := hunt.OpenDB(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if os.Getenv("EVTXHUNT_BENCH_PLAN") == "1" {
		logPlans(ctx, b, db, hunts)
	}
	b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
		per := make([]time.Duration, len(hunts))
		found := make([]int, len(hunts))
		b.ResetTimer()
		cpu0 := cpuTime(b)
		for range b.N {
			for i, h := range hunts {
				start := time.Now()
				n, err := runHunt(ctx, db, h)
				if err != nil {
					b.Fatalf("%s: %v", h.ID, err)
				}
				per[i] += time.Since(start)
				found[i] = n
			}
		}
		b.StopTimer()
		b.ReportMetric((cpuTime(b)-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
		total := 0
		for i, h := range hunts {
			b.ReportMetric(per[i].Seconds()*1000/float64(b.N), "ms/"+h.ID)
			total += found[i]
			if found[i] == 0 && planted[h.ID] > 0 {
				b.Errorf("%s found nothing, but %d rows were planted for it", h.ID, planted[h.ID])
			}
		}
		b.ReportMetric(float64(total), "rows/op")
	})
}

// cpuTime returns the user+system CPU time of the process so far (SQLite
// runs in the process, so this is the pack's CPU cost; on a shared machine it
// is steadier than wall time).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPackRows returns the database size: $EVTXHUNT_BENCH_PACK_ROWS or 1,000,000.
func benchPackRows(b *testing.B) int {
	s := os.Getenv("EVTXHUNT_BENCH_PACK_ROWS")
	if s == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 {
		b.Fatalf("EVTXHUNT_BENCH_PACK_ROWS=%q: want an integer of at least 1000", s)
	}
	return n
}

// runHunt parses and runs every XQL query of h and returns the rows found.
func runHunt(ctx context.Context, db *sql.DB, h *hunt.Hunt) (int, error) {
	n := 0
	for _, hq := range h.XQLQueries() {
		q, err := hunt.Parse(hq.Text)
		if err != nil {
			return 0, err
		}
		res, err := hunt.Run(ctx, db, q, hunt.RunOptions{})
		if err != nil {
			return 0, err
		}
		n += len(res.Rows)
	}
	return n, nil
}

// logPlans logs EXPLAIN QUERY PLAN of every hunt's statement, compiled as Run
// compiles it (Now = max(_time)).
func logPlans(ctx context.Context, b *testing.B, db *sql.DB, hunts []*hunt.Hunt) {
	now, _, err := hunt.LatestTime(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range hunts {
		for _, hq := range h.XQLQueries() {
			q, err := hunt.Parse(hq.Text)
			if err != nil {
				b.Fatalf("%s: %v", h.ID, err)
			}
			c, err := hunt.Compile(q, hunt.CompileOptions{Now: now})
			if err != nil {
				b.Fatalf("%s: %v", h.ID, err)
			}
			rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.SQL, c.Args...)
			if err != nil {
				b.Fatalf("%s: explain: %v", h.ID, err)
			}
			var plan strings.Builder
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					b.Fatalf("%s: explain: %v", h.ID, err)
				}
				fmt.Fprintf(&plan, "\n  %d<-%d %s", id, parent, detail)
			}
			rows.Close()
			b.Logf("plan of %s:%s", h.ID, plan.String())
		}
	}
}

// packColumns are the xdr_data columns the synthetic rows fill, in the order
// of packRow's values.
var packColumns = []string{
	"_time", "event_type", "event_sub_type", "agent_os_type", "agent_hostname", "agent_id", "event_id", "_product", "_vendor",
	"action_process_image_name", "action_process_image_path", "action_process_image_command_line", "action_process_cwd",
	"action_process_os_pid", "action_process_instance_id",
	"actor_process_image_name", "actor_process_command_line", "actor_process_os_pid",
	"actor_process_instance_id", "actor_effective_username",
	"causality_actor_process_image_name", "causality_actor_process_command_line",
	"x_computer", "x_channel", "x_provider", "x_record_id", "x_time_100ns", "x_event_id",
}

// ensurePackDB builds the benchmark database at path unless it already holds
// rows rows. It returns how many rows were planted for each hunt ID.
func ensurePackDB(ctx context.Context, path string, rows int) (map[string]int, error) {
	planted := map[string]int{}
	for i := range rows {
		if r, ok := packRow(nil, i); ok {
			planted[r.hunt]++
		}
	}
	if _, err := os.Stat(path); err == nil {
		db, err := hunt.OpenDB(path)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM xdr_data").Scan(&n); err != nil {
			return nil, fmt.Errorf("bench: count %s: %w", path, err)
		}
		if n != rows {
			return nil, fmt.Errorf("bench: %s holds %d rows, want %d (remove it)", path, n, rows)
		}
		var stats int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").Scan(&stats); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", path, err)
		}
		if stats == 0 { // kept from before ingest ran Store.Analyze
			if err := analyzePackDB(ctx, path); err != nil {
				return nil, err
			}
		}
		return planted, nil
	}
	if err := buildPackDB(ctx, path, rows); err != nil {
		return nil, err
	}
	return planted, nil
}

// buildPackDB creates the database: the schema from normalize.Open, its
// indices dropped during the bulk insert (one transaction) and recreated by
// opening the store again, and the planner statistics of Store.Analyze, as
// a fresh ingest would have them.
func buildPackDB(ctx context.Context, path string, rows int) error {
	known := map[string]bool{}
	for _, c := range normalize.Columns() {
		known[c.Name] = true
	}
	for _, c := range packColumns {
		if !known[c] {
			return fmt.Errorf("bench: %s is not an xdr_data column", c)
		}
	}
	st, err := normalize.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	db := st.DB()
	if err := dropIndexes(ctx, db); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bench: begin: %w", err)
	}
	defer tx.Rollback()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(packColumns)), ", ")
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO xdr_data ("+strings.Join(packColumns, ", ")+") VALUES ("+marks+")")
	if err != nil {
		return fmt.Errorf("bench: prepare: %w", err)
	}
	defer stmt.Close()
	vals := make([]any, len(packColumns))
	for i := range rows {
		r, _ := packRow(vals, i)
		if _, err := stmt.ExecContext(ctx, r.vals...); err != nil {
			return fmt.Errorf("bench: insert row %d: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bench: commit: %w", err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	st, err = normalize.Open(ctx, path) // recreates the indices
	if err != nil {
		return err
	}
	if err := st.Analyze(ctx); err != nil { // as at the end of an ingest
		st.Close()
		return err
	}
	return st.Close()
}

// analyzePackDB gives a kept database the planner statistics an ingest leaves.
func analyzePackDB(ctx context.Context, path string) error {
	st, err := normalize.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := st.Analyze(ctx); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

// dropIndexes drops the xdr_data indices (normalize.Open recreates them).
func dropIndexes(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'xdr_data' AND sql IS NOT NULL")
	if err != nil {
		return fmt.Errorf("bench: list indices: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("bench: list indices: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.ExecContext(ctx, `DROP INDEX "`+n+`"`); err != nil {
			return fmt.Errorf("bench: drop index %s: %w", n, err)
		}
	}
	return nil
}

// packProc is an ordinary process of the background mix.
type packProc struct {
	weight int
	name   string
	dir    string
	// args returns the command line after the image path.
	args func(r *rand.Rand, user string) string
}

// packMix is the background: weights in percent.
var packMix = []packProc{
	{18, "svchost.exe", `C:\Windows\System32`, func(r *rand.Rand, _ string) string { return fmt.Sprintf("-k netsvcs -p -s Svc%d", r.IntN(40)) }},
	{13, "chrome.exe", `C:\Program Files\Google\Chrome\Application`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf("--type=renderer --renderer-client-id=%d --field-trial-handle=%d", r.IntN(500), r.Uint32())
	}},
	{10, "conhost.exe", `C:\Windows\System32`, func(*rand.Rand, string) string { return "0xffffffff -ForceV1" }},
	{12, "cmd.exe", `C:\Windows\System32`, func(r *rand.Rand, user string) string {
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf(`/c echo %d > nul`, r.IntN(1000))
		case 1:
			return fmt.Sprintf(`/c "C:\Users\%s\Downloads\setup-%d.exe" /S`, user, r.IntN(100))
		case 2:
			return fmt.Sprintf(`/c C:\ProgramData\Tasks\nightly-%d.cmd`, r.IntN(20))
		}
		return fmt.Sprintf(`/c git status && dir C:\Users\%s\source`, user)
	}},
	{7, "powershell.exe", `C:\Windows\System32\WindowsPowerShell\v1.0`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf("-NoProfile -ExecutionPolicy Bypass -Command Get-Service -Name Svc%d", r.IntN(40))
	}},
	{6, "msedge.exe", `C:\Program Files (x86)\Microsoft\Edge\Application`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf("--type=utility --utility-sub-type=network.mojom.NetworkService --field-trial-handle=%d", r.Uint32())
	}},
	{5, "rundll32.exe", `C:\Windows\System32`, func(r *rand.Rand, _ string) string {
		switch r.IntN(3) {
		case 0:
			return `shell32.dll,Control_RunDLL C:\Windows\System32\desk.cpl`
		case 1:
			return `C:\Windows\System32\davclnt.dll,DavSetCookie intranet.corp.example@SSL https://intranet.corp.example/sites/team`
		}
		return fmt.Sprintf(`C:\Windows\System32\printui.dll,PrintUIEntry /in /n \\print%d\queue`, r.IntN(9))
	}},
	{3, "python.exe", `C:\Program Files\Python311`, func(r *rand.Rand, user string) string {
		return fmt.Sprintf(`C:\Users\%s\source\tools\report%d.py --out C:\Users\%s\Documents`, user, r.IntN(50), user)
	}},
	{2, "net.exe", `C:\Windows\System32`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf(`use Z: \\fileserver%d\share /persistent:no`, r.IntN(5))
	}},
	{1, "wscript.exe", `C:\Windows\System32`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf(`C:\ProgramData\Logon\map-drives%d.vbs`, r.IntN(5))
	}},
	{2, "notepad.exe", `C:\Windows\System32`, func(r *rand.Rand, user string) string {
		return fmt.Sprintf(`C:\Users\%s\Documents\notes-%d.txt`, user, r.IntN(300))
	}},
	{1, "certutil.exe", `C:\Windows\System32`, func(*rand.Rand, string) string { return `-verifystore Root` }},
	{4, "taskhostw.exe", `C:\Windows\System32`, func(*rand.Rand, string) string { return "" }},
	{4, "SearchProtocolHost.exe", `C:\Windows\System32`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf(`Global\UsGthrFltPipeMssGthrPipe%d`, r.IntN(300))
	}},
	{3, "WmiPrvSE.exe", `C:\Windows\System32\wbem`, func(*rand.Rand, string) string { return "-secured -Embedding" }},
	{3, "git.exe", `C:\Program Files\Git\cmd`, func(r *rand.Rand, _ string) string { return fmt.Sprintf("fetch origin branch-%d", r.IntN(30)) }},
	{6, "Code.exe", `C:\Users\Public\AppData\Local\Programs\Microsoft VS Code`, func(r *rand.Rand, _ string) string {
		return fmt.Sprintf("--type=gpu-process --field-trial-handle=%d", r.Uint32())
	}},
}

// packParents are the actors of background processes.
var packParents = []struct{ name, cmd string }{
	{"explorer.exe", `C:\Windows\Explorer.EXE`},
	{"services.exe", `C:\Windows\system32\services.exe`},
	{"svchost.exe", `C:\Windows\system32\svchost.exe -k netsvcs -p`},
	{"cmd.exe", `C:\Windows\system32\cmd.exe`},
	{"chrome.exe", `"C:\Program Files\Google\Chrome\Application\chrome.exe"`},
}

// packAttack is one planted row kind: the hunt it is meant for and the
// process (the actor and causality actor are explorer.exe unless set).
type packAttack struct {
	hunt, name, path, args, actor, actorCmd string
}

// packAttacks are the planted rows, one every thousandth row in turn. The
// seed hunt (HuntQuery-Windows-BatchFromArchive-WebDAV) compares paths with forward slashes and
// matches no Windows path, so nothing is planted for it.
var packAttacks = []packAttack{
	{hunt: "EVTXHUNT-BatchFromArchive-WebDAV-Fixed", name: "cmd.exe", path: `C:\Windows\System32\cmd.exe`,
		args: `/c ""C:\Users\{user}\AppData\Local\Temp\Temp1_invoice-{n}.zip\invoice.bat" "`},
	{hunt: "EVTXHUNT-DavSetCookie-External", name: "rundll32.exe", path: `C:\Windows\System32\rundll32.exe`,
		args: `C:\Windows\system32\davclnt.dll,DavSetCookie m{n}.trycloudflare.com@SSL https://m{n}.trycloudflare.com/`, actor: "svchost.exe", actorCmd: `C:\Windows\system32\svchost.exe -k LocalService -p -s WebClient`},
	{hunt: "EVTXHUNT-Notepad-From-Python", name: "notepad.exe", path: `C:\Windows\System32\notepad.exe`,
		args: `C:\Users\{user}\Contacts\loot-{n}.txt`, actor: "python.exe", actorCmd: `C:\Users\{user}\Contacts\python.exe stage.py`},
	{hunt: "EVTXHUNT-Python-Contacts-Staging", name: "python.exe", path: `C:\Users\{user}\Contacts\python.exe`,
		args: `stage{n}.py`},
	{hunt: "EVTXHUNT-Rundll32-Staged-DLL", name: "rundll32.exe", path: `C:\Windows\System32\rundll32.exe`,
		args: `C:\Users\{user}\AppData\Local\Temp\upd{n}.dll,Start`},
	{hunt: "EVTXHUNT-Rundll32-Staged-DLL", name: "certutil.exe", path: `C:\Windows\System32\certutil.exe`,
		args: `-decode C:\Users\{user}\Downloads\a{n}.txt C:\Users\{user}\AppData\Local\Temp\a{n}.dll`},
	{hunt: "EVTXHUNT-ScriptHost-Temp-WebDAV", name: "wscript.exe", path: `C:\Windows\System32\wscript.exe`,
		args: `C:\Users\{user}\AppData\Local\Temp\Temp1_doc{n}.zip\doc.vbs`},
	{hunt: "EVTXHUNT-Startup-Script", name: "powershell.exe", path: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		args: `-w hidden -File "C:\Users\{user}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\u{n}.ps1"`},
	{hunt: "EVTXHUNT-WebDAV-Tunnel-Mount", name: "net.exe", path: `C:\Windows\System32\net.exe`,
		args: `use X: \\t{n}.trycloudflare.com@SSL\DavWWWRoot\share`, actor: "cmd.exe", actorCmd: `C:\Windows\system32\cmd.exe /c map.cmd`},
}

// packRowData is one synthetic row.
type packRowData struct {
	vals []any
	hunt string // the hunt a planted row is meant for, else ""
}

// packRow returns row i (deterministic: the same i gives the same row). Row
// i%1000 == 500 is planted (reported by ok); for the batch hunt, row 501 is
// its child (net use to a DavWWWRoot, actor the batch's cmd.exe). vals, when
// not nil, is filled and returned; with nil only the planting is computed.
func packRow(vals []any, i int) (packRowData, bool) {
	var atk *packAttack
	child := false
	switch i % 1000 {
	case 500:
		atk = &packAttacks[(i/1000)%len(packAttacks)]
	case 501:
		child = (i/1000)%len(packAttacks) == 0
	}
	var out packRowData
	if atk != nil {
		out.hunt = atk.hunt
	}
	if vals == nil {
		return out, atk != nil
	}
	r := rand.New(rand.NewPCG(uint64(i), 8))
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	t := base.Add(time.Duration(i) * 2500 * time.Millisecond).Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	host := fmt.Sprintf("WS-%03d", i%50)
	computer := strings.ToLower(host) + ".corp.example"
	user := fmt.Sprintf("user%02d", (i%50)*3%37)
	pid := int64(1000 + (i*7)%60000)
	ppid := int64(500 + (i*13)%30000)
	parent := packParents[r.IntN(len(packParents))]
	name, path, cmd := "", "", ""
	actor, actorCmd := parent.name, parent.cmd
	actorID := normalize.InstanceID(t.Add(-time.Minute), ppid)
	switch {
	case atk != nil:
		name = atk.name
		fill := strings.NewReplacer("{user}", user, "{n}", strconv.Itoa(i)).Replace
		path = fill(atk.path)
		cmd = path + " " + fill(atk.args)
		actor, actorCmd = "explorer.exe", `C:\Windows\Explorer.EXE`
		if atk.actor != "" {
			actor, actorCmd = atk.actor, fill(atk.actorCmd)
		}
	case child:
		// The batch of row i-1 mounts a WebDAV share.
		name, path = "net.exe", `C:\Windows\System32\net.exe`
		cmd = path + fmt.Sprintf(` use \\k%d.trycloudflare.com@SSL\DavWWWRoot\drop`, i)
		prev := base.Add(time.Duration(i-1) * 2500 * time.Millisecond).Add(time.Duration(rand.New(rand.NewPCG(uint64(i-1), 8)).IntN(1000)) * time.Millisecond)
		actor, actorCmd = "cmd.exe", `C:\Windows\System32\cmd.exe /c invoice.bat`
		actorID = normalize.InstanceID(prev, int64(1000+((i-1)*7)%60000))
	default:
		w := r.IntN(100)
		p := &packMix[len(packMix)-1]
		for k := range packMix {
			if w < packMix[k].weight {
				p = &packMix[k]
				break
			}
			w -= packMix[k].weight
		}
		name = p.name
		path = p.dir + `\` + p.name
		cmd = path
		if a := p.args(r, user); a != "" {
			cmd += " " + a
		}
	}
	agentID := normalize.AgentID(computer)
	ms := t.UnixMilli()
	vals = vals[:0]
	vals = append(vals,
		ms, normalize.EventTypeProcess, normalize.SubTypeProcessStart, normalize.AgentOSWindows, host, agentID,
		normalize.EventID(ms, agentID, uint64(i+1)), normalize.DefaultProduct, normalize.DefaultVendor,
		name, path, cmd, fmt.Sprintf(`C:\Users\%s\`, user),
		pid, normalize.InstanceID(t, pid),
		actor, actorCmd, ppid,
		actorID, `CORP\`+user,
		"explorer.exe", `C:\Windows\Explorer.EXE`,
		computer, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", int64(i+1), normalize.FileTime(t), 1,
	)
	out.vals = vals
	return out, atk != nil
}
