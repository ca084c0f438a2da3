package normalize

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoProcessNode is returned by ProcessTree for a row that has no process
// node: not a PROCESS_START row, or RebuildAncestry has not run since it was
// stored.
var ErrNoProcessNode = errors.New("normalize: no process node for this row (not a process start, or ancestry not rebuilt)")

// TreeNode is one process of a process tree, as the tree command and the
// HTML report show it. Text fields are evidence, stored as logged: callers
// must escape them for their output.
type TreeNode struct {
	// Image is the full image path, Name its file name.
	Image, Name string
	// CommandLine is the process's command line ("" when not logged).
	CommandLine string
	// PID is the process id, -1 when unknown.
	PID int64
	// Start is the process start (UTC); zero when unknown. For a synthetic
	// node it is an estimate.
	Start time.Time
	// End is the process end from Sysmon 5 / 4689 (UTC); zero when unknown.
	End time.Time
	// User is the process's account.
	User string
	// Synthetic marks a parent known only from its child's record.
	Synthetic bool
	// CausalityRoot marks a process that is its own causality group owner.
	CausalityRoot bool
	// Spawner marks a legitimate spawner (explorer.exe started by userinit...).
	Spawner bool
	// Rule is the rule that chose the process's causality group owner.
	Rule string
	// IsMatch marks the process the tree was asked for.
	IsMatch bool
	// RowID is the xdr_data rowid of the process start, 0 for synthetic nodes.
	RowID int64
	// InstanceID is the process's XDR instance id.
	InstanceID string
	// Source says where the evidence is: file[!member]#record, and after
	// "; " the records merged into it.
	Source string
	// Elided is the number of ancestors left out between this node and the
	// node above it (very deep chains).
	Elided int
	// ChildrenOmitted is the number of children not listed because of the
	// tree's size limits.
	ChildrenOmitted int
	// Children are the process's children in start order (only on the chain
	// to the matched process and below it).
	Children []*TreeNode
}

// TreeOptions bounds and shapes a process tree.
type TreeOptions struct {
	// FromRoot starts the chain at the topmost known ancestor instead of the
	// causality actor of the process's start row (or that actor's parent,
	// as in x_ancestry).
	FromRoot bool
	// MaxAncestors bounds the chain above the process (default 200): a
	// longer chain keeps its top and the nearest ancestors and sets Elided.
	MaxAncestors int
	// MaxDescendants bounds the nodes below the process (0: 500; negative:
	// none, only counted in ChildrenOmitted).
	MaxDescendants int
	// MaxDepth bounds the levels below the process (default 32).
	MaxDepth int
}

// withDefaults fills unset limits.
func (o TreeOptions) withDefaults() TreeOptions {
	if o.MaxAncestors <= 1 {
		o.MaxAncestors = 200
	}
	switch {
	case o.MaxDescendants == 0:
		o.MaxDescendants = 500
	case o.MaxDescendants < 0:
		o.MaxDescendants = 0
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 32
	}
	return o
}

// ProcessTree returns the tree of the process whose PROCESS_START row is
// rowid (a 4688 row merged into a Sysmon row is followed to it): the chain
// from the start row's causality actor (from its parent when it has one,
// as x_ancestry shows it) down to the process, and the process's
// descendants. The returned node is the top of the chain.
func (s *Store) ProcessTree(ctx context.Context, rowid int64) (*TreeNode, error) {
	return s.ProcessTreeWith(ctx, rowid, TreeOptions{})
}

// treeRow is one process_nodes row.
type treeRow struct {
	id, parent, rowCGO sql.NullInt64
	node               TreeNode
}

// treeCols are the process_nodes columns scanned into a treeRow.
const treeCols = `node_id, parent_node_id, row_cgo_node_id, pid, image, name, cmdline, user, start_ms, end_ms,
	synthetic, spawner, cgo_node_id, cgo_rule, xdr_rowid, instance_id, source`

// scanTreeRow scans treeCols.
func scanTreeRow(sc interface{ Scan(...any) error }) (*treeRow, error) {
	var r treeRow
	var pid, start, end, cgo, row sql.NullInt64
	var image, name, cmd, user, rule, inst, src sql.NullString
	var synth, spawner bool
	if err := sc.Scan(&r.id, &r.parent, &r.rowCGO, &pid, &image, &name, &cmd, &user, &start, &end,
		&synth, &spawner, &cgo, &rule, &row, &inst, &src); err != nil {
		return nil, err
	}
	n := &r.node
	n.Image, n.Name, n.CommandLine, n.User = image.String, name.String, cmd.String, user.String
	if !name.Valid && image.Valid {
		n.Name = imageBase(image.String)
	}
	n.PID = -1
	if pid.Valid {
		n.PID = pid.Int64
	}
	if start.Valid {
		n.Start = time.UnixMilli(start.Int64).UTC()
	}
	if end.Valid {
		n.End = time.UnixMilli(end.Int64).UTC()
	}
	n.Synthetic, n.Spawner, n.Rule = synth, spawner, rule.String
	n.CausalityRoot = cgo.Valid && cgo.Int64 == r.id.Int64
	n.RowID, n.InstanceID, n.Source = row.Int64, inst.String, src.String
	return &r, nil
}

// ProcessTreeWith is ProcessTree with options.
func (s *Store) ProcessTreeWith(ctx context.Context, rowid int64, opt TreeOptions) (*TreeNode, error) {
	opt = opt.withDefaults()
	db := s.db
	one := func(where string, arg any) (*treeRow, error) {
		r, err := scanTreeRow(db.QueryRowContext(ctx, "SELECT "+treeCols+" FROM process_nodes WHERE "+where, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil && strings.Contains(err.Error(), "no such table") {
			return nil, nil
		}
		return r, err
	}
	match, err := one("xdr_rowid = ?", rowid)
	if err == nil && match == nil {
		var into int64
		e := db.QueryRowContext(ctx, "SELECT merged_into FROM xdr_data_merged WHERE orig_rowid = ?", rowid).Scan(&into)
		if e == nil {
			match, err = one("xdr_rowid = ?", into)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("normalize: process tree of row %d: %w", rowid, err)
	}
	if match == nil {
		return nil, fmt.Errorf("normalize: process tree of row %d: %w", rowid, ErrNoProcessNode)
	}
	match.node.IsMatch = true

	// The chain, walked upwards with a visited set (corrupt data cannot loop).
	var stop int64 = -1
	if !opt.FromRoot && match.rowCGO.Valid {
		stop = match.rowCGO.Int64
		c, err := one("node_id = ?", stop)
		if err != nil {
			return nil, fmt.Errorf("normalize: process tree of row %d: %w", rowid, err)
		}
		if c != nil && c.parent.Valid {
			stop = c.parent.Int64
		}
	}
	chain := []*treeRow{match}
	seen := map[int64]bool{match.id.Int64: true}
	elided := 0
	for cur := match; cur.id.Int64 != stop && cur.parent.Valid && !seen[cur.parent.Int64]; {
		p, err := one("node_id = ?", cur.parent.Int64)
		if err != nil {
			return nil, fmt.Errorf("normalize: process tree of row %d: %w", rowid, err)
		}
		if p == nil {
			break
		}
		seen[p.id.Int64] = true
		if len(chain) >= opt.MaxAncestors {
			// Keep the nearest MaxAncestors-1 and, at the end, the top.
			elided++
			chain[len(chain)-1] = p
		} else {
			chain = append(chain, p)
		}
		cur = p
	}
	if elided > 0 {
		chain[len(chain)-2].node.Elided = elided
	}
	for i := len(chain) - 1; i > 0; i-- {
		chain[i].node.Children = []*TreeNode{&chain[i-1].node}
	}
	if err := s.addDescendants(ctx, &match.node, match.id.Int64, opt); err != nil {
		return nil, fmt.Errorf("normalize: process tree of row %d: %w", rowid, err)
	}
	return &chain[len(chain)-1].node, nil
}

// addDescendants adds the descendants of node id under n, breadth first,
// within the options' limits.
func (s *Store) addDescendants(ctx context.Context, n *TreeNode, id int64, opt TreeOptions) error {
	type item struct {
		node  *TreeNode
		id    int64
		depth int
	}
	queue := []item{{n, id, 0}}
	seen := map[int64]bool{id: true}
	total := 0
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		rows, err := s.db.QueryContext(ctx, "SELECT "+treeCols+" FROM process_nodes WHERE parent_node_id = ? ORDER BY start_ms, node_id", it.id)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, err := scanTreeRow(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if seen[r.id.Int64] {
				continue
			}
			if total >= opt.MaxDescendants || it.depth >= opt.MaxDepth {
				it.node.ChildrenOmitted++
				continue
			}
			seen[r.id.Int64] = true
			total++
			c := r.node
			it.node.Children = append(it.node.Children, &c)
			queue = append(queue, item{&c, r.id.Int64, it.depth + 1})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// ProcessQuery selects PROCESS_START rows for FindProcesses. Empty fields
// match everything; at least one field should be set.
type ProcessQuery struct {
	// Host matches agent_hostname or host_metadata_hostname, ignoring case.
	Host string
	// PID matches action_process_os_pid when HasPID is set.
	PID    int64
	HasPID bool
	// Instance matches action_process_instance_id or the Sysmon ProcessGuid.
	Instance string
	// Match is a substring of the image path or the command line (ASCII
	// case-insensitive, taken literally: no wildcards).
	Match string
	// Limit bounds the result (default 50).
	Limit int
}

// FindProcesses returns the rowids of the PROCESS_START rows a query
// selects, in time order.
func (s *Store) FindProcesses(ctx context.Context, q ProcessQuery) ([]int64, error) {
	where := []string{"event_type = 1", "event_sub_type = 1"}
	var args []any
	if q.Host != "" {
		where = append(where, "(agent_hostname = ? COLLATE NOCASE OR host_metadata_hostname = ? COLLATE NOCASE)")
		args = append(args, q.Host, q.Host)
	}
	if q.HasPID {
		where = append(where, "action_process_os_pid = ?")
		args = append(args, q.PID)
	}
	if q.Instance != "" {
		where = append(where, "(action_process_instance_id = ? OR x_process_guid = ? COLLATE NOCASE OR x_process_guid = ? COLLATE NOCASE)")
		args = append(args, q.Instance, q.Instance, "{"+strings.Trim(q.Instance, "{}")+"}")
	}
	if q.Match != "" {
		where = append(where, "(instr(lower(action_process_image_path), lower(?)) > 0 OR instr(lower(action_process_image_command_line), lower(?)) > 0)")
		args = append(args, q.Match, q.Match)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, "SELECT rowid FROM xdr_data WHERE "+strings.Join(where, " AND ")+" ORDER BY _time, rowid LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("normalize: find processes: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("normalize: find processes: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("normalize: find processes: %w", err)
	}
	return ids, nil
}
