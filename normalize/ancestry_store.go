package normalize

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

// This file is the SQLite half of the ancestry pass: it loads the PROCESS
// rows of one host at a time, runs the in-memory pass (ancestry_graph.go,
// ancestry_rules.go) and writes the results back in one transaction per
// host. Tables it owns:
//
//   - process_nodes: one row per process instance (real or synthetic), with
//     its parent and causality group owner; read by ProcessTree.
//   - xdr_data_merged: the 4688 rows folded into a Sysmon row (same columns
//     as xdr_data, plus orig_rowid and merged_into).
//   - ancestry_claims: for each PROCESS_START row, the actor values its own
//     record gave (saved the first time the pass sees the row, before it
//     overwrites them), so that every rebuild starts from the evidence and
//     gives the same result.
//   - ancestry_hosts: a digest of each host's process_nodes, so that an
//     unchanged host is not rewritten.

// AncestryStats counts what RebuildAncestry did.
type AncestryStats struct {
	// Hosts is the number of hosts rebuilt.
	Hosts int
	// Starts and Stops are the PROCESS_START and PROCESS_STOP rows seen
	// (after merging).
	Starts, Stops int
	// Nodes is the number of process_nodes rows written; Synthetic of them
	// are synthetic parents.
	Nodes, Synthetic int
	// Merged is the number of 4688 rows folded into a Sysmon row by this run.
	Merged int
	// LinkedGUID, LinkedPID and LinkedSynthetic count the start rows whose
	// parent was found by ProcessGuid, by creator PID and time, or is a
	// synthetic node; NoParent counts those with no parent at all.
	LinkedGUID, LinkedPID, LinkedSynthetic, NoParent int
	// LoopCuts is the number of parent edges cut to break loops.
	LoopCuts int
	// CausalityRoots is the number of start rows whose process is its own CGO.
	CausalityRoots int
	// Updated is the number of rows whose ancestry columns changed (rows
	// already up to date are not rewritten).
	Updated int
	// SysmonStarts counts Sysmon EID 1 rows; SysmonParentPresent those whose
	// ParentProcessGuid is the ProcessGuid of another Sysmon row of the
	// host, and SysmonParentLinked those of them linked to that row.
	SysmonStarts, SysmonParentPresent, SysmonParentLinked int
}

// add accumulates o into st.
func (st *AncestryStats) add(o AncestryStats) {
	st.Hosts += o.Hosts
	st.Starts += o.Starts
	st.Stops += o.Stops
	st.Nodes += o.Nodes
	st.Synthetic += o.Synthetic
	st.Merged += o.Merged
	st.LinkedGUID += o.LinkedGUID
	st.LinkedPID += o.LinkedPID
	st.LinkedSynthetic += o.LinkedSynthetic
	st.NoParent += o.NoParent
	st.LoopCuts += o.LoopCuts
	st.CausalityRoots += o.CausalityRoots
	st.Updated += o.Updated
	st.SysmonStarts += o.SysmonStarts
	st.SysmonParentPresent += o.SysmonParentPresent
	st.SysmonParentLinked += o.SysmonParentLinked
}

// ancAttr is one property of a process that the actor, causality-actor and
// OS-actor column families copy (xdr-model.md §1.4).
type ancAttr struct {
	// own is the column of the process's own row.
	own string
	// claim is the actor column in which a child's row says the value for
	// its parent ("" when records never say it).
	claim string
	// targets are the column names after the actor_/causality_actor_/
	// os_actor_ prefix.
	targets []string
	// claimFirst makes the child's word win over the parent's own record
	// (the account: ParentUser and 4688 Subject* describe the creator's token).
	claimFirst bool
}

// Attribute indexes into ancAttrs, for the ones handled specially.
const (
	attrPath = iota
	attrName
	attrCmd
	attrPID
	attrInstance
	attrExecTime
	attrUser
	attrSID
	attrIntegrity
	attrSHA256
	attrMD5
	attrLogon
	attrSession
	attrCount
)

// ancAttrs lists the copied properties, indexed by the attr constants.
var ancAttrs = [attrCount]ancAttr{
	attrPath:      {own: "action_process_image_path", claim: "actor_process_image_path", targets: []string{"process_image_path"}},
	attrName:      {own: "action_process_image_name", claim: "actor_process_image_name", targets: []string{"process_image_name"}},
	attrCmd:       {own: "action_process_image_command_line", claim: "actor_process_command_line", targets: []string{"process_command_line", "process_image_command_line"}},
	attrPID:       {own: "action_process_os_pid", claim: "actor_process_os_pid", targets: []string{"process_os_pid"}},
	attrInstance:  {own: "action_process_instance_id", claim: "actor_process_instance_id", targets: []string{"process_instance_id"}},
	attrExecTime:  {own: "action_process_instance_execution_time", claim: "actor_process_execution_time", targets: []string{"process_execution_time"}},
	attrUser:      {own: "action_process_username", claim: "actor_effective_username", targets: []string{"effective_username", "primary_username"}, claimFirst: true},
	attrSID:       {own: "action_process_user_sid", claim: "actor_effective_user_sid", targets: []string{"effective_user_sid", "primary_user_sid"}, claimFirst: true},
	attrIntegrity: {own: "action_process_integrity_level", claim: "actor_process_integrity_level", targets: []string{"process_integrity_level"}},
	attrSHA256:    {own: "action_process_image_sha256", claim: "actor_process_image_sha256", targets: []string{"process_image_sha256"}},
	attrMD5:       {own: "action_process_image_md5", claim: "actor_process_image_md5", targets: []string{"process_image_md5"}},
	attrLogon:     {own: "x_logon_id", claim: "actor_process_logon_id", targets: []string{"process_logon_id", "process_auth_id"}},
	attrSession:   {own: "x_session_id", claim: "actor_process_session_id", targets: []string{"process_session_id"}},
}

// Column families the pass writes.
const (
	famActor     = "actor_"
	famCausality = "causality_actor_"
	famOS        = "os_actor_"
)

// ancSchema is the column layout the pass works with, derived from the
// database's xdr_data columns.
type ancSchema struct {
	have map[string]bool
	// cols are the xdr_data columns in table order.
	cols []string
	// claimCols are the snapshot columns of ancestry_claims.
	claimCols []string
	// outCols are the columns a start row update writes, in order.
	outCols []string
	// managed holds every column the pass computes (never gap-filled).
	managed map[string]bool
}

// loadAncSchema reads the xdr_data columns and derives the layout.
func loadAncSchema(ctx context.Context, q ancQuerier) (*ancSchema, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM pragma_table_info('xdr_data')")
	if err != nil {
		return nil, fmt.Errorf("normalize: ancestry: list xdr_data columns: %w", err)
	}
	sc := &ancSchema{have: map[string]bool{}, managed: map[string]bool{}}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("normalize: ancestry: list xdr_data columns: %w", err)
		}
		sc.have[n] = true
		sc.cols = append(sc.cols, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("normalize: ancestry: list xdr_data columns: %w", err)
	}
	if len(sc.cols) == 0 {
		return nil, fmt.Errorf("normalize: ancestry: no xdr_data table")
	}
	for _, need := range []string{"agent_id", "agent_hostname", "event_type", "event_sub_type", "_time"} {
		if !sc.have[need] {
			return nil, fmt.Errorf("normalize: ancestry: xdr_data has no column %s", need)
		}
	}
	for _, a := range ancAttrs {
		if a.claim != "" && sc.have[a.claim] {
			sc.claimCols = append(sc.claimCols, a.claim)
		}
		for _, fam := range []string{famActor, famCausality, famOS} {
			for _, t := range a.targets {
				sc.addOut(fam + t)
			}
		}
	}
	if sc.have["x_actor_user_approx"] {
		sc.claimCols = append(sc.claimCols, "x_actor_user_approx")
	}
	for _, c := range []string{
		"actor_causality_id", "actor_process_causality_id", "causality_actor_causality_id",
		"causality_actor_process_causality_id", "os_actor_causality_id", "os_actor_process_causality_id",
		"action_process_causality_id", "action_process_is_causality_root",
		"actor_type", "causality_actor_type", "os_actor_type",
		"x_actor_user_approx", "x_parent_synthetic", "x_ancestry", "x_cgo_rule",
	} {
		sc.addOut(c)
	}
	return sc, nil
}

// outPos returns the index of an output column in ancRow.cur.
func (hw *hostWork) outPos(c string) int {
	for i, o := range hw.sc.outCols {
		if o == c {
			return i
		}
	}
	return -1
}

// addOut adds an existing column to the start-row output list.
func (sc *ancSchema) addOut(c string) {
	if sc.have[c] && !sc.managed[c] {
		sc.managed[c] = true
		sc.outCols = append(sc.outCols, c)
	}
}

// col returns the SQL for a column, or NULL when the table lacks it.
func (sc *ancSchema) col(prefix, name string) string {
	if !sc.have[name] {
		return "NULL"
	}
	return prefix + ancQuote(name)
}

// ancQuote quotes an SQL identifier.
func ancQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ancQuerier is what *sql.DB and *sql.Tx share.
type ancQuerier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// ensureAncestryTables creates the tables the pass owns.
func ensureAncestryTables(ctx context.Context, q ancQuerier, sc *ancSchema) error {
	var merged strings.Builder
	merged.WriteString("CREATE TABLE IF NOT EXISTS xdr_data_merged (\n\torig_rowid INTEGER PRIMARY KEY,\n\tmerged_into INTEGER NOT NULL")
	for _, c := range Columns() {
		fmt.Fprintf(&merged, ",\n\t%s %s", ancQuote(c.Name), c.SQLType)
	}
	merged.WriteString("\n)")
	var claims strings.Builder
	claims.WriteString("CREATE TABLE IF NOT EXISTS ancestry_claims (\n\trow_id INTEGER PRIMARY KEY,\n\trow_key TEXT")
	for _, c := range sc.claimCols {
		fmt.Fprintf(&claims, ",\n\t%s", ancQuote(c))
	}
	claims.WriteString("\n)")
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS process_nodes (
	node_id        INTEGER PRIMARY KEY,
	agent_id       TEXT,
	agent_hostname TEXT,
	pid            INTEGER,            -- NULL when unknown
	guid           TEXT,               -- Sysmon ProcessGuid
	image          TEXT,
	name           TEXT,               -- lower-case file name of image
	cmdline        TEXT,
	user           TEXT,
	start_ms       INTEGER,            -- epoch ms; estimated for synthetic nodes
	end_ms         INTEGER,            -- epoch ms of Sysmon 5 / 4689, NULL when unknown
	parent_node_id INTEGER,            -- NULL for roots
	link           TEXT NOT NULL,      -- guid, pid-time, synthetic, loop-cut, none
	synthetic      INTEGER NOT NULL,   -- 1: built from a child's record, no record of its own
	spawner        INTEGER NOT NULL,
	forced_root    INTEGER NOT NULL,
	cgo_node_id    INTEGER NOT NULL,   -- causality group owner
	cgo_rule       TEXT NOT NULL,      -- rule that chose cgo_node_id
	row_cgo_node_id INTEGER,           -- causality actor of the node's start row (x_cgo_rule says why)
	depth          INTEGER NOT NULL,   -- number of ancestors
	xdr_rowid      INTEGER,            -- the PROCESS_START row; NULL for synthetic nodes
	instance_id    TEXT,
	source         TEXT                -- evidence: file[!member]#record, merged records after "; "
)`,
		"CREATE INDEX IF NOT EXISTS process_nodes_row ON process_nodes (xdr_rowid)",
		"CREATE INDEX IF NOT EXISTS process_nodes_parent ON process_nodes (parent_node_id)",
		"CREATE INDEX IF NOT EXISTS process_nodes_agent ON process_nodes (agent_id)",
		merged.String(),
		"CREATE INDEX IF NOT EXISTS xdr_data_merged_into ON xdr_data_merged (merged_into)",
		"CREATE INDEX IF NOT EXISTS xdr_data_merged_record ON xdr_data_merged (x_computer, x_channel, x_record_id, x_time_100ns, x_event_id)",
		claims.String(),
		"CREATE TABLE IF NOT EXISTS ancestry_hosts (host_key TEXT PRIMARY KEY, digest TEXT NOT NULL)",
	}
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("normalize: ancestry: create tables: %w", err)
		}
	}
	// A later schema may add claim columns.
	have := map[string]bool{}
	rows, err := q.QueryContext(ctx, "SELECT name FROM pragma_table_info('ancestry_claims')")
	if err != nil {
		return fmt.Errorf("normalize: ancestry: list ancestry_claims columns: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("normalize: ancestry: list ancestry_claims columns: %w", err)
		}
		have[n] = true
	}
	rows.Close()
	for _, c := range sc.claimCols {
		if !have[c] {
			if _, err := q.ExecContext(ctx, "ALTER TABLE ancestry_claims ADD COLUMN "+ancQuote(c)); err != nil {
				return fmt.Errorf("normalize: ancestry: add claim column %s: %w", c, err)
			}
		}
	}
	return nil
}

// ancHost is one host: its agent_id and the host names seen with it.
type ancHost struct {
	agentID   sql.NullString
	hostnames []sql.NullString
}

// key identifies the host in process_nodes and synthetic instance ids.
func (h ancHost) key() string { return h.agentID.String }

// listHosts returns the hosts with PROCESS rows, filtered by opt.Hosts.
func listHosts(ctx context.Context, db *sql.DB, want []string) ([]ancHost, error) {
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT agent_id, agent_hostname FROM xdr_data WHERE event_type = 1 ORDER BY agent_id, agent_hostname")
	if err != nil {
		return nil, fmt.Errorf("normalize: ancestry: list hosts: %w", err)
	}
	defer rows.Close()
	wanted := func(id, name sql.NullString) bool {
		if len(want) == 0 {
			return true
		}
		for _, w := range want {
			if strings.EqualFold(w, id.String) || strings.EqualFold(w, name.String) {
				return true
			}
		}
		return false
	}
	var hosts []ancHost
	keep := map[string]bool{}
	var all []ancHost
	for rows.Next() {
		var id, name sql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("normalize: ancestry: list hosts: %w", err)
		}
		if n := len(all); n > 0 && all[n-1].agentID == id {
			all[n-1].hostnames = append(all[n-1].hostnames, name)
		} else {
			all = append(all, ancHost{agentID: id, hostnames: []sql.NullString{name}})
		}
		if wanted(id, name) {
			keep[id.String+"\x00"+strconv.FormatBool(id.Valid)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("normalize: ancestry: list hosts: %w", err)
	}
	for _, h := range all {
		if keep[h.agentID.String+"\x00"+strconv.FormatBool(h.agentID.Valid)] {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// RebuildAncestry rebuilds, host by host, the process graph from the
// PROCESS rows of xdr_data and fills the actor, causality-actor and
// OS-actor columns, the causality ids, x_ancestry, x_cgo_rule and
// x_parent_synthetic of every PROCESS_START row (xdr-model.md §2). It
// merges each 4688 row into the Sysmon row of the same process (moving it
// to xdr_data_merged), writes process_nodes, and annotates PROCESS_STOP rows
// with the ended process's ancestry. Each host is loaded, computed and
// written in its own transaction, so memory is bounded by the largest host.
// It is idempotent: a second run over the same data changes nothing, and a
// run after more data arrived (a missing parent) gives the same result as a
// single run over all of it.
func (s *Store) RebuildAncestry(ctx context.Context, opt AncestryOptions) (AncestryStats, error) {
	var total AncestryStats
	rules, err := opt.resolve()
	if err != nil {
		return total, err
	}
	sc, err := loadAncSchema(ctx, s.db)
	if err != nil {
		return total, err
	}
	if err := ensureAncestryTables(ctx, s.db, sc); err != nil {
		return total, err
	}
	hosts, err := listHosts(ctx, s.db, opt.Hosts)
	if err != nil {
		return total, err
	}
	for _, h := range hosts {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("normalize: ancestry: %w", err)
		}
		st, err := rebuildHost(ctx, s.db, sc, rules, h)
		if err != nil {
			return total, err
		}
		total.add(st)
	}
	return total, nil
}

// rebuildHost runs the pass for one host in one transaction.
func rebuildHost(ctx context.Context, db *sql.DB, sc *ancSchema, rules *ancRules, h ancHost) (AncestryStats, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return AncestryStats{}, fmt.Errorf("normalize: ancestry: begin: %w", err)
	}
	defer tx.Rollback()
	// A 16 MiB page cache (instead of SQLite's 2 MiB) keeps much of a host's
	// wide rows in memory between the load and the updates, and keeps the
	// whole ingest under its memory budget (256 MiB peak RSS on a 2.7 GB
	// collection, cmd/evtxhunt/bench/bench-bulk.sh).
	if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -16384"); err != nil {
		return AncestryStats{}, fmt.Errorf("normalize: ancestry: cache size: %w", err)
	}
	hw := &hostWork{ctx: ctx, tx: tx, sc: sc, rules: rules, host: h}
	if err := hw.run(); err != nil {
		return AncestryStats{}, fmt.Errorf("normalize: ancestry: host %s: %w", h.hostnames[0].String, err)
	}
	if err := tx.Commit(); err != nil {
		return AncestryStats{}, fmt.Errorf("normalize: ancestry: commit: %w", err)
	}
	hw.stats.Hosts = 1
	return hw.stats, nil
}

// ancRow is what the pass loads of one PROCESS row.
type ancRow struct {
	row    int64
	sub    int64
	sysmon bool
	own    [attrCount]any
	claim  [attrCount]any
	approx any // claimed x_actor_user_approx
	// cur holds the row's current values of the output columns (start
	// rows: ancSchema.outCols; stop rows: x_ancestry and
	// action_process_causality_id), so unchanged rows are not rewritten.
	cur      []any
	source   string
	recordID any
	channel  any
	eventID  any
}

// hostWork holds the state of one host's rebuild.
type hostWork struct {
	ctx   context.Context
	tx    *sql.Tx
	sc    *ancSchema
	rules *ancRules
	host  ancHost
	stats AncestryStats

	rows  map[int64]*ancRow
	g     *ancGraph
	synth map[int][attrCount]any // synthetic node -> attributes from its children's claims
}

// run is the body of rebuildHost.
func (hw *hostWork) run() error {
	nodes, stops, err := hw.load()
	if err != nil {
		return err
	}
	hw.g = hw.rules.computeAncestry(nodes, stops)
	if err := hw.applyMerges(); err != nil {
		return err
	}
	hw.synthAttrs()
	if err := hw.writeNodes(); err != nil {
		return err
	}
	if err := hw.writeStarts(); err != nil {
		return err
	}
	return hw.writeStops()
}

// hostWhere is the WHERE clause selecting the host's rows (alias d) and its arguments.
func (hw *hostWork) hostWhere() (string, []any) {
	marks := make([]string, len(hw.host.hostnames))
	args := []any{hw.host.agentID}
	for i, n := range hw.host.hostnames {
		marks[i] = "d.agent_hostname IS ?"
		args = append(args, n)
	}
	return "d.agent_id IS ? AND (" + strings.Join(marks, " OR ") + ") AND d.event_type = 1", args
}

// prefixJoin returns each element preceded by sep, concatenated.
func prefixJoin(sep string, xs []string) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(sep)
		b.WriteString(x)
	}
	return b.String()
}

// load reads the host's PROCESS rows and builds the pass's input.
func (hw *hostWork) load() ([]ancNode, []ancStop, error) {
	sc := hw.sc
	sel := []string{"d.rowid", "d.event_sub_type", sc.col("d.", "x_event_id"), "d._time", sc.col("d.", "x_time_100ns"),
		sc.col("d.", "x_process_guid"), sc.col("d.", "x_parent_process_guid"),
		sc.col("d.", "x_source_path"), sc.col("d.", "x_zip_member"), sc.col("d.", "x_record_id"), sc.col("d.", "x_channel")}
	for _, a := range ancAttrs {
		sel = append(sel, sc.col("d.", a.own))
	}
	for _, a := range ancAttrs {
		if a.claim != "" && sc.have[a.claim] {
			sel = append(sel, "c."+ancQuote(a.claim))
		} else {
			sel = append(sel, "NULL")
		}
	}
	if sc.have["x_actor_user_approx"] {
		sel = append(sel, "c.x_actor_user_approx")
	} else {
		sel = append(sel, "NULL")
	}
	for _, c := range sc.outCols {
		sel = append(sel, "d."+ancQuote(c))
	}
	sel = append(sel, sc.col("d.", "event_id"), "c.row_id", "c.row_key")
	where, args := hw.hostWhere()
	q := "SELECT " + strings.Join(sel, ", ") + " FROM xdr_data AS d LEFT JOIN ancestry_claims AS c ON c.row_id = d.rowid WHERE " +
		where + " AND d.event_sub_type IN (1, 2) ORDER BY d._time, d.rowid"
	rows, err := hw.tx.QueryContext(hw.ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("load rows: %w", err)
	}
	defer rows.Close()
	hw.rows = map[int64]*ancRow{}
	var nodes []ancNode
	var stops []ancStop
	type freshClaim struct {
		r   *ancRow
		key any
	}
	var fresh []freshClaim
	for rows.Next() {
		r := &ancRow{}
		var eid, t100, timeMs, guid, pguid, path, member any
		dest := []any{&r.row, &r.sub, &eid, &timeMs, &t100, &guid, &pguid, &path, &member, &r.recordID, &r.channel}
		for i := range r.own {
			dest = append(dest, &r.own[i])
		}
		for i := range r.claim {
			dest = append(dest, &r.claim[i])
		}
		dest = append(dest, &r.approx)
		r.cur = make([]any, len(sc.outCols))
		for i := range r.cur {
			dest = append(dest, &r.cur[i])
		}
		var key, claimRow, claimKey any
		dest = append(dest, &key, &claimRow, &claimKey)
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("load rows: %w", err)
		}
		if r.sub == SubTypeProcessStart && (claimRow == nil || sqlValue(claimKey) != sqlValue(key)) {
			// First sight of this record: its actor columns are still what
			// the record said. Keep them as its claims.
			for a, at := range ancAttrs {
				r.claim[a] = nil
				if p := hw.outPos(at.claim); at.claim != "" && p >= 0 && sc.have[at.claim] {
					r.claim[a] = r.cur[p]
				}
			}
			r.approx = nil
			if p := hw.outPos("x_actor_user_approx"); p >= 0 {
				r.approx = r.cur[p]
			}
			fresh = append(fresh, freshClaim{r, sqlValue(key)})
		}
		for i := range r.own {
			r.own[i], r.claim[i] = sqlValue(r.own[i]), sqlValue(r.claim[i])
		}
		r.eventID = sqlValue(eid)
		e, _ := r.eventID.(int64)
		r.sysmon = e == 1 || e == 5
		r.source = sourceText(asString(path), asString(member), r.recordID)
		start := ancTicks(asInt(timeMs, 0), t100, r.sysmon)
		hw.rows[r.row] = r
		pid := asInt(r.own[attrPID], -1)
		switch r.sub {
		case SubTypeProcessStart:
			kind := ancSecurity
			if r.sysmon {
				kind = ancSysmon
			}
			n := ancNode{Row: r.row, Kind: kind, GUID: asString(guid), ParentGUID: asString(pguid),
				PID: pid, ParentPID: asInt(r.claim[attrPID], -1),
				Image: asString(r.own[attrPath]), CmdLine: asString(r.own[attrCmd]), User: asString(r.own[attrUser]),
				ParentImage: asString(r.claim[attrPath]), ParentCmdLine: asString(r.claim[attrCmd]), Start: start}
			if !truthy(r.approx) {
				n.ParentUser = asString(r.claim[attrUser])
			}
			nodes = append(nodes, n)
		case SubTypeProcessStop:
			stops = append(stops, ancStop{Row: r.row, GUID: asString(guid), PID: pid, Image: asString(r.own[attrPath]), Time: start})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load rows: %w", err)
	}
	rows.Close()
	if len(fresh) > 0 && len(sc.claimCols) > 0 {
		cols := make([]string, len(sc.claimCols))
		sets := make([]string, len(sc.claimCols))
		for i, c := range sc.claimCols {
			cols[i] = ancQuote(c)
			sets[i] = ancQuote(c) + " = excluded." + ancQuote(c)
		}
		ins, err := hw.tx.PrepareContext(hw.ctx, fmt.Sprintf(`INSERT INTO ancestry_claims (row_id, row_key%s) VALUES (?, ?%s)
ON CONFLICT (row_id) DO UPDATE SET row_key = excluded.row_key%s`, prefixJoin(", ", cols), strings.Repeat(", ?", len(cols)), prefixJoin(", ", sets)))
		if err != nil {
			return nil, nil, fmt.Errorf("prepare claims: %w", err)
		}
		defer ins.Close()
		for _, f := range fresh {
			args := []any{f.r.row, f.key}
			for _, c := range sc.claimCols {
				args = append(args, f.r.cur[hw.outPos(c)])
			}
			if _, err := ins.ExecContext(hw.ctx, args...); err != nil {
				return nil, nil, fmt.Errorf("store claims of row %d: %w", f.r.row, err)
			}
		}
	}
	return nodes, stops, nil
}

// ancTicks returns a row's time in 100 ns ticks: Sysmon rows use _time
// (UtcTime, ms); 4688/4689 rows the record's 100 ns time when it is within
// the _time millisecond.
func ancTicks(timeMs int64, t100 any, sysmon bool) int64 {
	base := timeMs * 10_000
	if v, ok := sqlValue(t100).(int64); ok && !sysmon && v >= base && v < base+10_000 {
		return v
	}
	return base
}

// sqlValue normalises a scanned value: []byte becomes string.
func sqlValue(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// asString returns a scanned text value, "" for NULL or other types.
func asString(v any) string {
	switch x := sqlValue(v).(type) {
	case string:
		return x
	}
	return ""
}

// asInt returns a scanned integer value, or def for NULL or other types.
func asInt(v any, def int64) int64 {
	switch x := sqlValue(v).(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// truthy reports whether a scanned value is a non-zero integer.
func truthy(v any) bool { return asInt(v, 0) != 0 }

// sourceText renders a row's evidence location as file[!member]#record.
func sourceText(path, member string, recordID any) string {
	s := path
	if member != "" {
		s += "!" + member
	}
	if id, ok := sqlValue(recordID).(int64); ok {
		s += "#" + strconv.FormatInt(id, 10)
	}
	return s
}

// applyMerges moves each 4688 row merged into a Sysmon row to
// xdr_data_merged, fills the Sysmon row's gaps from it (in the database and
// in memory) and records the provenance.
func (hw *hostWork) applyMerges() error {
	for i := range hw.g.Nodes {
		n := &hw.g.Nodes[i]
		if n.MergedInto < 0 {
			continue
		}
		survivor := hw.rows[hw.g.Nodes[n.MergedInto].Row]
		moved := hw.rows[n.Row]
		if err := hw.moveMerged(moved, survivor); err != nil {
			return fmt.Errorf("merge row %d into %d: %w", moved.row, survivor.row, err)
		}
		for a := range survivor.own {
			if survivor.own[a] == nil {
				survivor.own[a] = moved.own[a]
			}
		}
		if truthy(survivor.approx) && moved.claim[attrUser] != nil {
			survivor.claim[attrUser], survivor.claim[attrSID], survivor.approx = moved.claim[attrUser], moved.claim[attrSID], int64(0)
		}
		for a := range survivor.claim {
			if survivor.claim[a] == nil {
				survivor.claim[a] = moved.claim[a]
			}
		}
		survivor.source += "; " + moved.source
		hw.stats.Merged++
	}
	return nil
}

// moveMerged is the database side of one merge.
func (hw *hostWork) moveMerged(moved, survivor *ancRow) error {
	ctx, tx, sc := hw.ctx, hw.tx, hw.sc
	var cols []string
	for _, c := range Columns() {
		if sc.have[c.Name] {
			cols = append(cols, ancQuote(c.Name))
		}
	}
	// A record merged before and ingested again (the store's dedup only sees
	// xdr_data) adds its sources, not a second merged copy.
	var prior sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT m.orig_rowid FROM xdr_data_merged AS m, xdr_data AS d
WHERE d.rowid = ? AND m.x_computer IS d.x_computer AND m.x_channel IS d.x_channel AND m.x_record_id IS d.x_record_id
  AND m.x_time_100ns IS d.x_time_100ns AND m.x_event_id IS d.x_event_id`, moved.row).Scan(&prior)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("look for an earlier merged copy: %w", err)
	}
	var survSources, movedSources, mergedIDs sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT x_sources, x_merged_record_ids FROM xdr_data WHERE rowid = ?", survivor.row).Scan(&survSources, &mergedIDs); err != nil {
		return fmt.Errorf("read survivor provenance: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT x_sources FROM xdr_data WHERE rowid = ?", moved.row).Scan(&movedSources); err != nil {
		return fmt.Errorf("read merged provenance: %w", err)
	}
	if !prior.Valid {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO xdr_data_merged (orig_rowid, merged_into, %s) SELECT rowid, ?, %s FROM xdr_data WHERE rowid = ?",
			strings.Join(cols, ", "), strings.Join(cols, ", ")), survivor.row, moved.row); err != nil {
			return fmt.Errorf("copy to xdr_data_merged: %w", err)
		}
		// The merged copy keeps the actor values its record gave.
		if len(sc.claimCols) > 0 {
			q := make([]string, len(sc.claimCols))
			for i, c := range sc.claimCols {
				q[i] = ancQuote(c)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE xdr_data_merged SET (%s) = (SELECT %s FROM ancestry_claims WHERE row_id = ?)
WHERE orig_rowid = ? AND EXISTS (SELECT 1 FROM ancestry_claims WHERE row_id = ?)`, strings.Join(q, ", "), strings.Join(q, ", ")),
				moved.row, moved.row, moved.row); err != nil {
				return fmt.Errorf("restore claims of the merged copy: %w", err)
			}
		}
		// Sysmon's values first, gaps filled from 4688: the xdr_data fields
		// and the process's own x_ attributes, not provenance.
		var sets []string
		own := map[string]bool{}
		for _, a := range ancAttrs {
			own[a.own] = true
		}
		for _, c := range Columns() {
			if !sc.have[c.Name] || sc.managed[c.Name] || (strings.HasPrefix(c.Name, "x_") && !own[c.Name]) {
				continue
			}
			q := ancQuote(c.Name)
			sets = append(sets, fmt.Sprintf("%s = COALESCE(xdr_data.%s, m.%s)", q, q, q))
		}
		if len(sets) > 0 {
			if _, err := tx.ExecContext(ctx, "UPDATE xdr_data SET "+strings.Join(sets, ", ")+
				" FROM xdr_data_merged AS m WHERE m.orig_rowid = ? AND xdr_data.rowid = ?", moved.row, survivor.row); err != nil {
				return fmt.Errorf("fill gaps: %w", err)
			}
		}
		if err := mergeClaims(ctx, tx, sc, moved.row, survivor.row); err != nil {
			return err
		}
		ids := appendMergedID(mergedIDs.String, moved)
		if _, err := tx.ExecContext(ctx, "UPDATE xdr_data SET x_merged_record_ids = ? WHERE rowid = ?", ids, survivor.row); err != nil {
			return fmt.Errorf("record merged ids: %w", err)
		}
	}
	if src, changed := unionJSONArrays(survSources.String, movedSources.String); changed {
		if _, err := tx.ExecContext(ctx, "UPDATE xdr_data SET x_sources = ? WHERE rowid = ?", src, survivor.row); err != nil {
			return fmt.Errorf("record merged sources: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM ancestry_claims WHERE row_id = ?", moved.row); err != nil {
		return fmt.Errorf("drop claims: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM xdr_data WHERE rowid = ?", moved.row); err != nil {
		return fmt.Errorf("remove merged row: %w", err)
	}
	return nil
}

// mergeClaims fills the survivor's snapshot of actor claims from the merged
// record's (restored in its xdr_data_merged copy): an approximate account is
// replaced, other gaps are filled. applyMerges does the same in memory.
func mergeClaims(ctx context.Context, tx *sql.Tx, sc *ancSchema, moved, survivor int64) error {
	if len(sc.claimCols) == 0 {
		return nil
	}
	if sc.have["x_actor_user_approx"] && sc.have["actor_effective_username"] {
		sid := ""
		if sc.have["actor_effective_user_sid"] {
			sid = ", actor_effective_user_sid = m.actor_effective_user_sid"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ancestry_claims SET actor_effective_username = m.actor_effective_username`+sid+`,
	x_actor_user_approx = 0
FROM xdr_data_merged AS m WHERE m.orig_rowid = ? AND ancestry_claims.row_id = ?
	AND ancestry_claims.x_actor_user_approx = 1 AND m.actor_effective_username IS NOT NULL`, moved, survivor); err != nil {
			return fmt.Errorf("merge account claim: %w", err)
		}
	}
	sets := make([]string, len(sc.claimCols))
	for i, c := range sc.claimCols {
		q := ancQuote(c)
		sets[i] = fmt.Sprintf("%s = COALESCE(ancestry_claims.%s, m.%s)", q, q, q)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE ancestry_claims SET "+strings.Join(sets, ", ")+
		" FROM xdr_data_merged AS m WHERE m.orig_rowid = ? AND ancestry_claims.row_id = ?", moved, survivor); err != nil {
		return fmt.Errorf("merge claims: %w", err)
	}
	return nil
}

// ancMergedID is one element of x_merged_record_ids.
type ancMergedID struct {
	Channel  string `json:"channel"`
	EventID  int64  `json:"event_id"`
	RecordID int64  `json:"record_id"`
	// Row is the merged row's orig_rowid in xdr_data_merged.
	Row int64 `json:"row"`
}

// appendMergedID adds a merged record to an x_merged_record_ids JSON array.
func appendMergedID(js string, moved *ancRow) string {
	var ids []ancMergedID
	if js != "" {
		if err := json.Unmarshal([]byte(js), &ids); err != nil {
			ids = nil // not ours: start afresh rather than lose the new id
		}
	}
	ids = append(ids, ancMergedID{Channel: asString(moved.channel), EventID: asInt(moved.eventID, 0),
		RecordID: asInt(moved.recordID, 0), Row: moved.row})
	b, _ := json.Marshal(ids)
	return string(b)
}

// unionJSONArrays appends the elements of JSON array b missing from JSON
// array a. It reports whether anything was added; invalid input is kept as
// it is.
func unionJSONArrays(a, b string) (string, bool) {
	var xs, ys []json.RawMessage
	if a != "" && json.Unmarshal([]byte(a), &xs) != nil {
		return a, false
	}
	if b == "" || json.Unmarshal([]byte(b), &ys) != nil {
		return a, false
	}
	seen := map[string]bool{}
	for _, x := range xs {
		seen[string(x)] = true
	}
	changed := false
	for _, y := range ys {
		if !seen[string(y)] {
			xs = append(xs, y)
			seen[string(y)] = true
			changed = true
		}
	}
	if !changed {
		return a, false
	}
	out, _ := json.Marshal(xs)
	return string(out), true
}

// synthAttrs gathers each synthetic node's attributes from the claims of
// its children, earliest child first.
func (hw *hostWork) synthAttrs() {
	hw.synth = map[int][attrCount]any{}
	for i := range hw.g.Nodes {
		n := &hw.g.Nodes[i]
		if n.Parent < 0 || n.Link != linkSynthetic || n.Row == 0 {
			continue
		}
		r := hw.rows[n.Row]
		attrs := hw.synth[n.Parent]
		for a := range attrs {
			if attrs[a] != nil {
				continue
			}
			if (a == attrUser || a == attrSID) && truthy(r.approx) {
				continue // the child's own account, not the parent's
			}
			attrs[a] = r.claim[a]
		}
		hw.synth[n.Parent] = attrs
	}
	for p, attrs := range hw.synth {
		s := &hw.g.Nodes[p]
		attrs[attrInstance] = syntheticInstanceID(hw.host.key(), s)
		if s.StartFromGUID {
			attrs[attrExecTime] = s.Start / 10_000
		} else {
			attrs[attrExecTime] = nil
		}
		hw.synth[p] = attrs
	}
}

// attrs returns the attributes of node i: its row's values, or for a
// synthetic node what its children said.
func (hw *hostWork) attrs(i int) [attrCount]any {
	n := &hw.g.Nodes[i]
	if n.synthetic() {
		return hw.synth[i]
	}
	return hw.rows[n.Row].own
}

// instanceID returns node i's instance id ("" when unknown).
func (hw *hostWork) instanceID(i int) string {
	if i < 0 {
		return ""
	}
	a := hw.attrs(i)
	return asString(a[attrInstance])
}

// writeNodes replaces the host's process_nodes rows, unless they would be
// the same as the stored ones (ancestry_hosts keeps a digest per host), so
// that the rebuild after each ingest rewrites only hosts that changed.
func (hw *hostWork) writeNodes() error {
	ctx, tx := hw.ctx, hw.tx
	nullStr := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	rel := func(i int) any { // node index, turned into a node_id below
		if i < 0 {
			return nil
		}
		return i
	}
	// Columns after node_id; t[10], t[15] and t[17] hold node indexes.
	var tuples [][]any
	var index []int
	h := fnv.New64a()
	for i := range hw.g.Nodes {
		n := &hw.g.Nodes[i]
		if n.MergedInto >= 0 {
			continue
		}
		var pid, end, row, rowCGO any
		if n.PID >= 0 {
			pid = n.PID
		}
		if n.End != 0 {
			end = n.End / 10_000
		}
		source := ""
		if n.Row != 0 {
			row = n.Row
			source = hw.rows[n.Row].source
			_, c, _ := hw.rules.rowCausality(hw.g, i)
			rowCGO = rel(c)
		}
		t := []any{hw.host.agentID, hw.host.hostnames[0], pid, nullStr(n.GUID), nullStr(n.Image), nullStr(n.name()),
			nullStr(n.CmdLine), nullStr(n.User), ancFloorMs(n.Start), end, rel(n.Parent), n.Link.String(), n.synthetic(), n.Spawner, n.Root,
			rel(n.CGO), n.Rule, rowCGO, n.Depth, row, nullStr(hw.instanceID(i)), nullStr(source)}
		hashValues(h, i, t[2:])
		tuples = append(tuples, t)
		index = append(index, i)
		hw.stats.Nodes++
		if n.synthetic() {
			hw.stats.Synthetic++
		}
	}
	digest := fmt.Sprintf("%x/%d", h.Sum64(), len(tuples))
	hostKey := "null"
	if hw.host.agentID.Valid {
		hostKey = "id:" + hw.host.agentID.String
	}
	var stored string
	err := tx.QueryRowContext(ctx, "SELECT digest FROM ancestry_hosts WHERE host_key = ?", hostKey).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read host digest: %w", err)
	}
	if stored == digest {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM process_nodes WHERE agent_id IS ?", hw.host.agentID); err != nil {
		return fmt.Errorf("clear process_nodes: %w", err)
	}
	var base int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(node_id), 0) + 1 FROM process_nodes").Scan(&base); err != nil {
		return fmt.Errorf("allocate node ids: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO process_nodes (node_id, agent_id, agent_hostname, pid, guid, image, name,
cmdline, user, start_ms, end_ms, parent_node_id, link, synthetic, spawner, forced_root, cgo_node_id, cgo_rule, row_cgo_node_id,
depth, xdr_rowid, instance_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare process_nodes insert: %w", err)
	}
	defer ins.Close()
	args := make([]any, 23)
	for k, t := range tuples {
		args[0] = base + int64(index[k])
		copy(args[1:], t)
		for _, ref := range []int{11, 16, 18} { // parent, cgo, row cgo (1-based in args)
			if v, ok := args[ref].(int); ok {
				args[ref] = base + int64(v)
			}
		}
		if _, err := ins.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert process node: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO ancestry_hosts (host_key, digest) VALUES (?, ?) ON CONFLICT (host_key) DO UPDATE SET digest = excluded.digest", hostKey, digest); err != nil {
		return fmt.Errorf("store host digest: %w", err)
	}
	return nil
}

// hashValues feeds a node's index and values to a digest, each value
// tagged with its type so that different tuples cannot collide by layout.
func hashValues(h hash.Hash64, i int, vals []any) {
	var buf []byte
	buf = strconv.AppendInt(buf, int64(i), 10)
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			buf = append(buf, "|n"...)
		case string:
			buf = append(buf, "|s"...)
			buf = strconv.AppendInt(buf, int64(len(x)), 10)
			buf = append(buf, ':')
			buf = append(buf, x...)
		case int:
			buf = append(buf, "|i"...)
			buf = strconv.AppendInt(buf, int64(x), 10)
		case int64:
			buf = append(buf, "|l"...)
			buf = strconv.AppendInt(buf, x, 10)
		case bool:
			buf = append(buf, "|b"...)
			buf = strconv.AppendBool(buf, x)
		default:
			buf = append(buf, "|?"...)
			buf = append(buf, fmt.Sprint(x)...)
		}
	}
	h.Write(append(buf, '\n'))
}

// ancFloorMs converts ticks to epoch milliseconds, rounding down.
func ancFloorMs(t int64) int64 {
	if t < 0 && t%10_000 != 0 {
		return t/10_000 - 1
	}
	return t / 10_000
}

// writeStarts fills the ancestry columns of every surviving start row.
func (hw *hostWork) writeStarts() error {
	sc := hw.sc
	if len(sc.outCols) == 0 {
		return nil
	}
	sets := make([]string, len(sc.outCols))
	pos := make(map[string]int, len(sc.outCols))
	for i, c := range sc.outCols {
		sets[i] = ancQuote(c) + " = ?"
		pos[c] = i
	}
	upd, err := hw.tx.PrepareContext(hw.ctx, "UPDATE xdr_data SET "+strings.Join(sets, ", ")+" WHERE rowid = ?")
	if err != nil {
		return fmt.Errorf("prepare start update: %w", err)
	}
	defer upd.Close()
	vals := make([]any, len(sc.outCols)+1)
	set := func(col string, v any) {
		if i, ok := pos[col]; ok {
			vals[i] = v
		}
	}
	sysGUID := map[string]bool{}
	for i := range hw.g.Nodes {
		if n := &hw.g.Nodes[i]; n.Kind == ancSysmon && n.GUID != "" {
			sysGUID[n.GUID] = true
		}
	}
	for i := range hw.g.Nodes {
		n := &hw.g.Nodes[i]
		if n.synthetic() || n.MergedInto >= 0 {
			continue
		}
		r := hw.rows[n.Row]
		for k := range vals {
			vals[k] = nil
		}
		actor, cgo, rule := hw.rules.rowCausality(hw.g, i)
		actorVals, approx := hw.actorValues(r, actor)
		cgoVals := actorVals
		if cgo != actor {
			cgoVals = hw.attrs(cgo)
		}
		for a, at := range ancAttrs {
			for _, t := range at.targets {
				set(famActor+t, actorVals[a])
				set(famOS+t, actorVals[a])
				set(famCausality+t, cgoVals[a])
			}
		}
		set("x_actor_user_approx", approx)
		rowCID := hw.instanceID(cgo)
		for _, c := range []string{"actor_causality_id", "actor_process_causality_id", "causality_actor_causality_id",
			"causality_actor_process_causality_id", "os_actor_causality_id", "os_actor_process_causality_id"} {
			set(c, nullIfEmpty(rowCID))
		}
		set("action_process_causality_id", nullIfEmpty(hw.instanceID(n.CGO)))
		set("action_process_is_causality_root", n.CGO == i)
		for _, c := range []string{"actor_type", "causality_actor_type", "os_actor_type"} {
			set(c, int64(ActorTypeLocal))
		}
		set("x_parent_synthetic", n.Parent >= 0 && hw.g.Nodes[n.Parent].synthetic())
		set("x_ancestry", ancestryText(hw.g, i, cgo))
		set("x_cgo_rule", rule)
		vals[len(vals)-1] = n.Row
		if !sameValues(vals[:len(vals)-1], r.cur) {
			if _, err := upd.ExecContext(hw.ctx, vals...); err != nil {
				return fmt.Errorf("update row %d: %w", n.Row, err)
			}
			hw.stats.Updated++
		}
		hw.stats.Starts++
		switch n.Link {
		case linkGUID:
			hw.stats.LinkedGUID++
		case linkPID:
			hw.stats.LinkedPID++
		case linkSynthetic:
			hw.stats.LinkedSynthetic++
		default:
			hw.stats.NoParent++
		}
		if n.CGO == i {
			hw.stats.CausalityRoots++
		}
		if n.Kind == ancSysmon {
			hw.stats.SysmonStarts++
			if n.ParentGUID != "" && sysGUID[n.ParentGUID] && n.ParentGUID != n.GUID {
				hw.stats.SysmonParentPresent++
				if n.Parent >= 0 && hw.g.Nodes[n.Parent].GUID == n.ParentGUID && n.Link == linkGUID {
					hw.stats.SysmonParentLinked++
				}
			}
		}
	}
	hw.stats.LoopCuts = hw.g.LoopCuts
	return nil
}

// actorValues returns the actor attributes of start row r whose parent node
// is actor (-1: unknown) and the row's x_actor_user_approx. The parent's own
// record comes first and the child's word fills the gaps, except that the
// account comes from the child's word (ParentUser, 4688 Subject*) unless
// that is only an approximation, and that for a synthetic parent this
// child's word comes before its siblings'.
func (hw *hostWork) actorValues(r *ancRow, actor int) (vals [attrCount]any, approx any) {
	vals, approx = r.claim, r.approx
	if actor < 0 {
		return vals, approx
	}
	p := hw.attrs(actor)
	synthetic := hw.g.Nodes[actor].synthetic()
	for a, at := range ancAttrs {
		if a == attrUser || a == attrSID {
			continue
		}
		identity := a == attrInstance || a == attrExecTime || a == attrPID
		if !identity && (synthetic || at.claimFirst) {
			if vals[a] == nil {
				vals[a] = p[a]
			}
		} else if p[a] != nil {
			vals[a] = p[a]
		}
	}
	// The account and its SID travel together.
	if (truthy(r.approx) || vals[attrUser] == nil) && p[attrUser] != nil {
		vals[attrUser], vals[attrSID] = p[attrUser], p[attrSID]
		if truthy(r.approx) {
			approx = int64(0)
		}
	}
	return vals, approx
}

// ancNorm brings a value to the form SQLite returns it in.
func ancNorm(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case int:
		return int64(x)
	}
	return v
}

// sameValues reports whether computed values equal the stored ones.
func sameValues(computed, stored []any) bool {
	if len(computed) != len(stored) {
		return false
	}
	for i := range computed {
		if ancNorm(computed[i]) != ancNorm(stored[i]) {
			return false
		}
	}
	return true
}

// nullIfEmpty maps "" to NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// writeStops annotates PROCESS_STOP rows with the ended process's ancestry
// and ids.
func (hw *hostWork) writeStops() error {
	sc := hw.sc
	var sets []string
	if sc.have["x_ancestry"] {
		sets = append(sets, "x_ancestry = ?")
	}
	if sc.have["action_process_causality_id"] {
		sets = append(sets, "action_process_causality_id = ?")
	}
	if sc.have["action_process_instance_id"] {
		sets = append(sets, "action_process_instance_id = COALESCE(action_process_instance_id, ?)")
	}
	if len(sets) == 0 || len(hw.g.Stops) == 0 {
		return nil
	}
	upd, err := hw.tx.PrepareContext(hw.ctx, "UPDATE xdr_data SET "+strings.Join(sets, ", ")+" WHERE rowid = ?")
	if err != nil {
		return fmt.Errorf("prepare stop update: %w", err)
	}
	defer upd.Close()
	sort.Slice(hw.g.Stops, func(i, j int) bool { return hw.g.Stops[i].Row < hw.g.Stops[j].Row })
	for _, st := range hw.g.Stops {
		var text string
		var cid, iid any
		if st.Node >= 0 {
			n := &hw.g.Nodes[st.Node]
			text = ancestryText(hw.g, st.Node, n.CGO)
			cid, iid = nullIfEmpty(hw.instanceID(n.CGO)), nullIfEmpty(hw.instanceID(st.Node))
		} else {
			text = nodeLabel(&ancNode{Image: st.Image, PID: st.PID})
		}
		r := hw.rows[st.Row]
		// args feed the UPDATE; eff and cur are the values after and before it.
		var args, eff, cur []any
		if sc.have["x_ancestry"] {
			args, eff, cur = append(args, text), append(eff, text), append(cur, r.cur[hw.outPos("x_ancestry")])
		}
		if sc.have["action_process_causality_id"] {
			args, eff, cur = append(args, cid), append(eff, cid), append(cur, r.cur[hw.outPos("action_process_causality_id")])
		}
		if sc.have["action_process_instance_id"] {
			kept := r.own[attrInstance] // COALESCE keeps a stored id
			if kept == nil {
				kept = iid
			}
			args, eff, cur = append(args, iid), append(eff, kept), append(cur, r.own[attrInstance])
		}
		hw.stats.Stops++
		if sameValues(eff, cur) {
			continue
		}
		args = append(args, st.Row)
		if _, err := upd.ExecContext(hw.ctx, args...); err != nil {
			return fmt.Errorf("update stop row %d: %w", st.Row, err)
		}
		hw.stats.Updated++
	}
	return nil
}
