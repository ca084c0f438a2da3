package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"evtxhunt/evtx"
	"evtxhunt/hunt"
)

// BuildOptions control Build.
type BuildOptions struct {
	// Title, Version and TZ are copied into the report.
	Title, Version string
	TZ             *time.Location
	// Now, From, To and PathSepInsensitive are passed to every hunt (see hunt.RunOptions).
	Now, From, To      time.Time
	PathSepInsensitive bool
	// Tree returns the ancestry tree of an xdr_data row; nil leaves matches without trees.
	Tree func(ctx context.Context, rowid int64) (*TreeNode, error)
	// Generated is the report's time stamp; zero means now (tests set it
	// for reproducible output).
	Generated time.Time
	// MaxTrees caps the number of matches per hunt that get a tree (0: 200),
	// so a noisy hunt cannot blow up the report.
	MaxTrees int
}

// Build runs every hunt on db (opened with hunt.OpenDB) and returns the
// report: evidence and parse health read from the ingest tables, then one
// HuntResult per hunt query. A hunt that cannot run (another query
// language, a parse or compile error) is reported, never dropped.
func Build(ctx context.Context, db *sql.DB, hunts []*hunt.Hunt, opt BuildOptions) (*Report, error) {
	r := &Report{Title: opt.Title, Generated: opt.Generated, Version: opt.Version, TZ: opt.TZ}
	if r.Generated.IsZero() {
		r.Generated = time.Now().UTC()
	}
	var err error
	if r.Evidence, err = readEvidence(ctx, db); err != nil {
		return nil, err
	}
	if r.Health, err = readHealth(ctx, db); err != nil {
		return nil, err
	}
	if opt.MaxTrees == 0 {
		opt.MaxTrees = 200
	}
	for _, h := range hunts {
		qs := h.XQLQueries()
		if reason := h.SkipReason(); reason != "" || len(qs) == 0 {
			hr := huntMeta(h, "")
			hr.Skipped = reason
			r.Hunts = append(r.Hunts, hr)
			continue
		}
		for i, q := range qs {
			id := h.ID
			if len(qs) > 1 {
				id = fmt.Sprintf("%s#%d", h.ID, i+1)
			}
			hr := huntMeta(h, q.Text)
			hr.ID = id
			if err := runHunt(ctx, db, &hr, q.Text, opt); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				hr.Error = err.Error()
			}
			r.Hunts = append(r.Hunts, hr)
		}
	}
	return r, nil
}

// huntMeta copies a hunt document's metadata into a HuntResult.
func huntMeta(h *hunt.Hunt, query string) HuntResult {
	hr := HuntResult{ID: h.ID, Title: h.Title, Severity: h.Severity, RiskScore: h.RiskScore,
		Description: h.Description, FalsePositives: h.FalsePositives, ResponseActions: h.ResponseActions, Query: query}
	if hr.ID == "" {
		hr.ID = h.Path
	}
	for _, a := range h.Attack {
		hr.Attack = append(hr.Attack, Technique{Tactic: a.Tactic, ID: a.ID, Name: a.Name})
	}
	return hr
}

// runHunt parses, lints and runs one query, filling hr.
func runHunt(ctx context.Context, db *sql.DB, hr *HuntResult, src string, opt BuildOptions) error {
	q, perr := hunt.Parse(src)
	if perr != nil {
		var list hunt.ErrorList
		if errors.As(perr, &list) {
			for _, e := range list {
				hr.Lint = append(hr.Lint, LintFinding{Hunt: hr.ID, Pos: posString(e.Pos), Severity: "error", Code: "parse", Msg: e.Msg})
			}
		}
		return fmt.Errorf("parse: %w", perr)
	}
	for _, d := range hunt.Lint(q, hunt.LintOptions{PathSepInsensitive: opt.PathSepInsensitive}) {
		hr.Lint = append(hr.Lint, LintFinding{Hunt: hr.ID, Pos: posString(d.Pos), Severity: d.Severity, Code: d.Code, Msg: d.Msg})
	}
	res, err := hunt.Run(ctx, db, q, hunt.RunOptions{Now: opt.Now, From: opt.From, To: opt.To, PathSepInsensitive: opt.PathSepInsensitive})
	if err != nil {
		return err
	}
	// The compiler's notes, except where lint already said the same thing
	// at the same place (a field EVTX never fills).
	linted := map[string]bool{}
	for _, l := range hr.Lint {
		linted[l.Pos] = linted[l.Pos] || l.Code == "never-filled"
	}
	for _, n := range res.Notes {
		if n.Code == "field-not-filled" && linted[posString(n.Pos)] {
			continue
		}
		hr.Lint = append(hr.Lint, LintFinding{Hunt: hr.ID, Pos: posString(n.Pos), Severity: n.Severity, Code: n.Code, Msg: n.Msg})
	}
	hr.Columns = res.Columns
	idx := map[string]int{}
	for i, c := range res.Columns {
		idx[c] = i
	}
	for i, row := range res.Rows {
		m := Match{Values: map[string]string{}}
		for j, c := range res.Columns {
			m.Values[c] = hunt.FormatValue(row[j])
		}
		if res.PathSepOnly != nil {
			m.PathSepOnly = res.PathSepOnly[i]
		}
		rowid := int64(0)
		if res.RowIDs != nil {
			rowid = res.RowIDs[i]
		} else if rid, ok := findRow(ctx, db, m.Values); ok {
			rowid = rid
		}
		if err := fillMatch(ctx, db, &m, rowid); err != nil {
			return err
		}
		if rowid != 0 && opt.Tree != nil && i < opt.MaxTrees {
			t, err := opt.Tree(ctx, rowid)
			if err != nil {
				return fmt.Errorf("ancestry of row %d: %w", rowid, err)
			}
			m.Tree = t
		}
		hr.Matches = append(hr.Matches, m)
	}
	return nil
}

func posString(p hunt.Pos) string {
	if !p.IsValid() {
		return ""
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

// findRow locates the xdr_data row of a result row that lost its row
// identity (comp, join) through its instance id and agent id, when the
// query kept them.
func findRow(ctx context.Context, db *sql.DB, vals map[string]string) (int64, bool) {
	iid, agent := vals["action_process_instance_id"], vals["agent_id"]
	if iid == "" {
		return 0, false
	}
	q := `SELECT rowid FROM xdr_data WHERE action_process_instance_id = ? AND event_sub_type = 1`
	args := []any{iid}
	if agent != "" {
		q += ` AND agent_id = ?`
		args = append(args, agent)
	}
	var id int64
	if err := db.QueryRowContext(ctx, q+` LIMIT 1`, args...).Scan(&id); err != nil {
		return 0, false
	}
	return id, true
}

// fillMatch reads the fields every view shows from the match's own row
// (when known), so the table is complete whatever the query's fields stage kept.
func fillMatch(ctx context.Context, db *sql.DB, m *Match, rowid int64) error {
	get := func(k string) string { return m.Values[k] }
	var t int64
	var host, user, img, cmd, parent, cgo, path, member, channel sql.NullString
	var rec sql.NullInt64
	if rowid != 0 {
		err := db.QueryRowContext(ctx, `SELECT _time, agent_hostname,
			coalesce(action_process_username, actor_effective_username), action_process_image_name,
			action_process_image_command_line, actor_process_image_name, causality_actor_process_image_name,
			x_source_path, x_zip_member, x_channel, x_record_id FROM xdr_data WHERE rowid = ?`, rowid).
			Scan(&t, &host, &user, &img, &cmd, &parent, &cgo, &path, &member, &channel, &rec)
		if err != nil {
			return fmt.Errorf("report: row %d: %w", rowid, err)
		}
		m.Time = time.UnixMilli(t).UTC()
		m.Host, m.User, m.Process, m.CommandLine = host.String, user.String, img.String, cmd.String
		m.Parent, m.CausalityActor = parent.String, cgo.String
		src := path.String
		if member.String != "" {
			src += "!" + member.String
		}
		m.Source = fmt.Sprintf("%s (%s record %d)", src, channel.String, rec.Int64)
		return nil
	}
	if ts, err := time.Parse("2006-01-02T15:04:05.000Z", get("_time")); err == nil {
		m.Time = ts
	}
	m.Host, m.Process, m.CommandLine = get("agent_hostname"), get("action_process_image_name"), get("action_process_image_command_line")
	m.User = firstNonEmpty(get("action_process_username"), get("actor_effective_username"))
	m.Parent, m.CausalityActor = get("actor_process_image_name"), get("causality_actor_process_image_name")
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// readEvidence summarises the database's evidence.
func readEvidence(ctx context.Context, db *sql.DB) (Evidence, error) {
	var ev Evidence
	var first, last sql.NullInt64
	var records sql.NullInt64
	// Files counts EVTX files (not duplicates of one already read, not the
	// other files found beside them, which Health lists as skipped).
	err := db.QueryRowContext(ctx, `SELECT count(*), sum(records + records_recovered) FROM ingest_files
		WHERE status != 'duplicate' AND NOT (status = 'skipped' AND reason LIKE ?)`, "%"+evtx.ErrNotEVTX.Error()+"%").Scan(&ev.Files, &records)
	if err != nil {
		return ev, fmt.Errorf("report: evidence: %w", err)
	}
	ev.Records = records.Int64
	err = db.QueryRowContext(ctx, `SELECT count(*), min(_time), max(_time) FROM xdr_data WHERE event_type = 1 AND event_sub_type = 1`).Scan(&ev.Processes, &first, &last)
	if err != nil {
		return ev, fmt.Errorf("report: evidence: %w", err)
	}
	if first.Valid {
		ev.First, ev.Last = time.UnixMilli(first.Int64).UTC(), time.UnixMilli(last.Int64).UTC()
	}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT agent_hostname FROM xdr_data WHERE agent_hostname IS NOT NULL ORDER BY 1`)
	if err != nil {
		return ev, fmt.Errorf("report: evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return ev, fmt.Errorf("report: evidence: %w", err)
		}
		ev.Hosts = append(ev.Hosts, h)
	}
	return ev, rows.Err()
}

// readHealth reads the parse-health accounting of every ingested file.
func readHealth(ctx context.Context, db *sql.DB) (Health, error) {
	h := Health{RecordsFailed: map[string]int64{}}
	rows, err := db.QueryContext(ctx, `SELECT path, member, status, reason, records, records_recovered, chunks_bad,
		rows_duplicate, failures FROM ingest_files ORDER BY path, member, file_id`)
	if err != nil {
		return h, fmt.Errorf("report: health: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var path, member, status, reason, failures string
		var records, recovered, bad, dups int64
		if err := rows.Scan(&path, &member, &status, &reason, &records, &recovered, &bad, &dups, &failures); err != nil {
			return h, fmt.Errorf("report: health: %w", err)
		}
		name := path
		if member != "" {
			name += "!" + member
		}
		if status == "duplicate" {
			status, reason = FileSkipped, strings.TrimSpace("duplicate of an ingested file "+reason)
		}
		h.Files = append(h.Files, FileHealth{Path: name, Status: status, Reason: reason, Records: records})
		h.Recovered += recovered
		h.BadChunks += bad
		h.Duplicates += dups
		var f map[string]int64
		if json.Unmarshal([]byte(failures), &f) == nil {
			for k, v := range f {
				h.RecordsFailed[k] += v
			}
		}
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("report: health: %w", err)
	}
	var merged sql.NullInt64
	// Sysmon 1 / Security 4688 pairs merged into one process row count as duplicates too.
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'xdr_data_merged'`).Scan(&merged); err == nil && merged.Int64 > 0 {
		var n int64
		if db.QueryRowContext(ctx, `SELECT count(*) FROM xdr_data_merged`).Scan(&n) == nil {
			h.Duplicates += n
		}
	}
	sort.SliceStable(h.Files, func(i, j int) bool { return h.Files[i].Path < h.Files[j].Path })
	return h, nil
}
