package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"evtxhunt/normalize"
	"evtxhunt/report"
)

func init() {
	register("tree", "show the process tree (ancestry and children) of matching processes", func(env Env) Command {
		return &TreeCommand{env: env}
	})
}

// TreeCommand prints the ancestry and the children of processes as an
// indented tree.
type TreeCommand struct {
	env Env
}

// Usage writes the command's help text.
func (c *TreeCommand) Usage() {
	fmt.Fprint(c.env.Stderr, `Usage: evtxhunt tree --db FILE [--host H] (--pid P | --instance ID | --match TEXT) [options]

Shows, for every matching process start, its ancestry from the topmost known
ancestor (or, with --from-cgo, from its causality actor as x_ancestry does)
and its children, one process per line: image name, PID, start time (UTC),
markers, account and command line. Markers:
  [causality root]  the process is its own causality group owner
  [spawner]         a legitimate spawner (explorer.exe started by userinit ...)
  [synthetic]       known only from its child's record; its time is an estimate (~)
  <== match         the process asked for
Control characters in evidence are shown escaped (\x1b, \u202e ...).

Options:
  --db FILE         evtxhunt database (required)
  --host H          only processes of this host (agent_hostname or FQDN)
  --pid P           process id (decimal, or hex as 0x1a2c)
  --instance ID     action_process_instance_id or Sysmon ProcessGuid
  --match TEXT      text in the image path or command line (case-insensitive, literal)
  --from-cgo        start at the causality actor instead of the root
  --limit N         at most N matching processes (default 20)
  --children N      at most N descendants per tree (default 200)
  --sources         show each process's evidence (file#record)

Examples:
  evtxhunt tree --db case.db --match x.bat
  evtxhunt tree --db case.db --host WS01 --pid 0x1a2c
`)
}

// Run executes the command.
func (c *TreeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("evtxhunt tree", flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	fs.Usage = c.Usage
	dbPath := fs.String("db", "", "evtxhunt database `FILE`")
	host := fs.String("host", "", "host name")
	pidText := fs.String("pid", "", "process id")
	instance := fs.String("instance", "", "instance id or ProcessGuid")
	match := fs.String("match", "", "text in image path or command line")
	fromCGO := fs.Bool("from-cgo", false, "start at the causality actor")
	limit := fs.Int("limit", 20, "maximum number of matching processes")
	children := fs.Int("children", 200, "maximum descendants per tree")
	sources := fs.Bool("sources", false, "show evidence sources")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *dbPath == "" {
		return fmt.Errorf("%w: --db is required", errUsage)
	}
	q := normalize.ProcessQuery{Host: *host, Instance: *instance, Match: *match, Limit: *limit}
	selectors := 0
	for _, s := range []string{*pidText, *instance, *match} {
		if s != "" {
			selectors++
		}
	}
	if selectors != 1 {
		return fmt.Errorf("%w: give exactly one of --pid, --instance, --match", errUsage)
	}
	if *pidText != "" {
		pid, err := strconv.ParseInt(*pidText, 0, 64)
		if err != nil || pid < 0 {
			return fmt.Errorf("%w: --pid %q is not a process id", errUsage, *pidText)
		}
		q.PID, q.HasPID = pid, true
	}
	if *limit <= 0 || *children < 0 {
		return fmt.Errorf("%w: --limit must be positive and --children not negative", errUsage)
	}
	if _, err := os.Stat(*dbPath); err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	st, err := normalize.Open(ctx, *dbPath)
	if err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	defer st.Close()
	rows, err := st.FindProcesses(ctx, q)
	if err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("tree: no process start matches")
	}
	opt := normalize.TreeOptions{FromRoot: !*fromCGO, MaxDescendants: *children}
	if *children == 0 {
		opt.MaxDescendants = -1
	}
	for i, row := range rows {
		tree, err := st.ProcessTreeWith(ctx, row, opt)
		if errors.Is(err, normalize.ErrNoProcessNode) {
			fmt.Fprintf(c.env.Stderr, "evtxhunt tree: row %d: no ancestry yet (run ingest again to rebuild it)\n", row)
			continue
		}
		if err != nil {
			return fmt.Errorf("tree: %w", err)
		}
		if i > 0 {
			fmt.Fprintln(c.env.Stdout)
		}
		if err := writeTree(c.env.Stdout, tree, row, *sources); err != nil {
			return fmt.Errorf("tree: %w", err)
		}
	}
	if len(rows) == *limit {
		fmt.Fprintf(c.env.Stderr, "evtxhunt tree: showing the first %d matches (--limit)\n", *limit)
	}
	return nil
}

// treeTimeLayout renders start times.
const treeTimeLayout = "2006-01-02 15:04:05.000 UTC"

// writeTree prints one tree, depth first, without recursion.
func writeTree(w io.Writer, root *normalize.TreeNode, row int64, sources bool) error {
	type item struct {
		n     *normalize.TreeNode
		depth int
	}
	var match *normalize.TreeNode
	stack := []item{{root, 0}}
	var b strings.Builder
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, indent := it.n, strings.Repeat("  ", it.depth)
		if n.IsMatch {
			match = n
		}
		if n.Elided > 0 {
			fmt.Fprintf(&b, "%s... %d ancestors not shown ...\n", indent, n.Elided)
		}
		b.WriteString(indent)
		b.WriteString(treeLine(n))
		b.WriteString("\n")
		if sources && n.Source != "" {
			fmt.Fprintf(&b, "%s    evidence: %s\n", indent, report.Neutralize(n.Source))
		}
		if n.ChildrenOmitted > 0 {
			fmt.Fprintf(&b, "%s  ... %d more children not shown ...\n", indent, n.ChildrenOmitted)
		}
		for i := len(n.Children) - 1; i >= 0; i-- {
			stack = append(stack, item{n.Children[i], it.depth + 1})
		}
	}
	header := fmt.Sprintf("# row %d", row)
	if match != nil {
		header = fmt.Sprintf("# %s [%s], row %d", report.Neutralize(treeName(match)), treePID(match.PID), row)
	}
	_, err := fmt.Fprintf(w, "%s\n%s", header, b.String())
	return err
}

// treeLine renders one process: name [pid] time markers (user) command line.
func treeLine(n *normalize.TreeNode) string {
	var parts []string
	parts = append(parts, report.Neutralize(treeName(n))+" ["+treePID(n.PID)+"]")
	switch {
	case n.Start.IsZero():
		parts = append(parts, "time unknown")
	case n.Synthetic:
		parts = append(parts, "~"+n.Start.UTC().Format(treeTimeLayout))
	default:
		parts = append(parts, n.Start.UTC().Format(treeTimeLayout))
	}
	if n.CausalityRoot {
		parts = append(parts, "[causality root]")
	}
	if n.Spawner {
		parts = append(parts, "[spawner]")
	}
	if n.Synthetic {
		parts = append(parts, "[synthetic]")
	}
	if n.IsMatch {
		parts = append(parts, "<== match")
	}
	if n.User != "" {
		parts = append(parts, "("+report.Neutralize(n.User)+")")
	}
	switch {
	case n.CommandLine != "":
		parts = append(parts, report.Neutralize(n.CommandLine))
	case n.Image != "":
		parts = append(parts, report.Neutralize(n.Image))
	}
	return strings.Join(parts, "  ")
}

// treeName is the node's image name, "?" when unknown.
func treeName(n *normalize.TreeNode) string {
	if n.Name != "" {
		return n.Name
	}
	return "?"
}

// treePID renders a PID, "?" when unknown.
func treePID(pid int64) string {
	if pid < 0 {
		return "?"
	}
	return strconv.FormatInt(pid, 10)
}
