package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"evtxhunt/hunt"
	"evtxhunt/normalize"
	"evtxhunt/report"
)

func init() {
	register("hunt", "ingest evidence, rebuild ancestry, run hunts and report (the main job)", func(env Env) Command {
		return &HuntCommand{env: env}
	})
}

// HuntCommand is the main job: ingest + ancestry + hunts + report.
type HuntCommand struct {
	env Env
}

// Usage writes the command's help text.
func (c *HuntCommand) Usage() {
	fmt.Fprint(c.env.Stderr, `Usage: evtxhunt hunt [options] [PATH...]

Ingests every EVTX file under PATH (files, directories, .zip archives) into
the database, rebuilds process ancestry and causality actors, runs the hunts
and reports the matches: terminal tables on stdout (or --format), and a
self-contained HTML report with --html. With no PATH, the hunts run on what
the database already holds.

Options:
  --db FILE              database to create or update (default: a temporary
                         file, removed at exit)
  --hunts DIR|FILE       hunt documents to run (repeatable); they replace the
                         built-in pack unless --builtin is also given
  --builtin              run the built-in pack too (default when no --hunts)
  --html FILE            write the HTML report to FILE
  --format F             table (default), json, jsonl or csv on stdout
  --wide                 do not truncate table cells to the terminal width
  --tz ZONE              display times in ZONE (IANA name, e.g. Europe/Berlin);
                         default UTC. Machine formats are always UTC.
  --from T, --to T       only evidence (ingest) and rows (hunts) in [T, T]
  --now T                anchor for relative time frames (default: the latest
                         _time in the database, never the wall clock)
  --path-sep-insensitive compare \ and / as equal in *_path / *_command_line
                         fields (not XDR behaviour; rows found only this way
                         are flagged)
  --fail-on SEVERITY     exit with status 3 when a hunt of at least SEVERITY
                         (low, medium, high, critical) matched
  --quiet                no progress bar

Examples:
  evtxhunt hunt --html report.html testdata/scenarios
  evtxhunt hunt --db case.db --fail-on high triage.zip
  evtxhunt hunt --db case.db --hunts ../shared/huntdocs --format jsonl > hits.jsonl
`)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Run executes the command.
func (c *HuntCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("evtxhunt hunt", flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	fs.Usage = c.Usage
	dbPath := fs.String("db", "", "database to create or update")
	var huntPaths multiFlag
	fs.Var(&huntPaths, "hunts", "hunt documents (repeatable)")
	builtin := fs.Bool("builtin", false, "also run the built-in pack")
	htmlPath := fs.String("html", "", "HTML report file")
	format := fs.String("format", "table", "table, json, jsonl or csv")
	wide := fs.Bool("wide", false, "do not truncate table cells")
	tzName := fs.String("tz", "UTC", "display time zone")
	fromS := fs.String("from", "", "earliest time")
	toS := fs.String("to", "", "latest time")
	nowS := fs.String("now", "", "anchor for relative time frames")
	pathSep := fs.Bool("path-sep-insensitive", false, "treat \\ and / as equal in path fields")
	failOn := fs.String("fail-on", "", "exit 3 when a hunt of at least this severity matched")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *format {
	case "table", "json", "jsonl", "csv":
	default:
		return fmt.Errorf("%w: --format must be table, json, jsonl or csv", errUsage)
	}
	failRank := 0
	if *failOn != "" {
		if failRank = severityRank(*failOn); failRank == 0 {
			return fmt.Errorf("%w: --fail-on must be low, medium, high or critical", errUsage)
		}
	}
	loc, err := time.LoadLocation(*tzName)
	if err != nil {
		return fmt.Errorf("%w: --tz: %v", errUsage, err)
	}
	from, err := parseTimeFlag(*fromS, false)
	if err != nil {
		return fmt.Errorf("%w: --from: %v", errUsage, err)
	}
	to, err := parseTimeFlag(*toS, true)
	if err != nil {
		return fmt.Errorf("%w: --to: %v", errUsage, err)
	}
	now, err := parseTimeFlag(*nowS, false)
	if err != nil {
		return fmt.Errorf("%w: --now: %v", errUsage, err)
	}
	inputs := fs.Args()
	if *dbPath == "" && len(inputs) == 0 {
		return fmt.Errorf("%w: give evidence PATHs, or --db with an existing database", errUsage)
	}
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return fmt.Errorf("hunt: input: %w", err)
		}
	}
	hunts, err := c.loadHunts(huntPaths, *builtin)
	if err != nil {
		return err
	}

	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "evtxhunt-")
		if err != nil {
			return fmt.Errorf("hunt: temporary database: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "evtxhunt.db")
	}
	if len(inputs) > 0 {
		if err := c.ingest(ctx, path, inputs, args, from, to, *quiet); err != nil {
			return err
		}
	} else if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("hunt: database: %w", err)
	}

	st, err := normalize.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	db, err := hunt.OpenDB(path)
	if err != nil {
		return err
	}
	defer db.Close()
	title := "evtxhunt report"
	if len(inputs) > 0 {
		title = "evtxhunt: " + strings.Join(inputs, ", ")
	}
	r, err := report.Build(ctx, db, hunts, report.BuildOptions{
		Title: title, Version: Version, TZ: loc, Now: now, From: from, To: to, PathSepInsensitive: *pathSep,
		Tree: report.StoreTrees(st),
	})
	if err != nil {
		return err
	}
	if err := c.write(r, *format, *wide); err != nil {
		return err
	}
	if *htmlPath != "" {
		if err := writeHTMLFile(*htmlPath, r); err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stderr, "HTML report: %s\n", *htmlPath)
	}
	if *dbPath != "" {
		fmt.Fprintf(c.env.Stderr, "database: %s\n", *dbPath)
	}
	if failRank > 0 {
		for _, h := range r.Hunts {
			if len(h.Matches) > 0 && severityRank(h.Severity) >= failRank {
				return &exitError{code: 3, msg: fmt.Sprintf("evtxhunt hunt: %s (%s) matched %d rows (--fail-on %s)", h.ID, h.Severity, len(h.Matches), *failOn)}
			}
		}
	}
	return nil
}

// loadHunts returns the hunts to run: the built-in pack, the documents
// under paths, or both.
func (c *HuntCommand) loadHunts(paths []string, builtin bool) ([]*hunt.Hunt, error) {
	var hunts []*hunt.Hunt
	if len(paths) == 0 || builtin {
		b, err := hunt.Builtin()
		if err != nil {
			return nil, err
		}
		hunts = append(hunts, b...)
	}
	if len(paths) > 0 {
		loaded, err := loadHuntSet(paths)
		if err != nil {
			return nil, err
		}
		hunts = append(hunts, loaded...)
	}
	return hunts, nil
}

// ingest reads the evidence into the database with a progress bar.
func (c *HuntCommand) ingest(ctx context.Context, path string, inputs, args []string, from, to time.Time, quiet bool) error {
	st, err := normalize.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	opt := normalize.IngestOptions{Args: append([]string{"hunt"}, args...), Version: Version, From: from, To: to}
	var bar *progressBar
	if !quiet && isTerminal(c.env.Stderr) {
		bar = newProgressBar(c.env.Stderr, inputSize(inputs))
		opt.Progress = bar.update
	}
	sum, err := st.Ingest(ctx, inputs, opt)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "ingested %d files: %d process rows added, %d duplicates, %d records failed, %d recovered from slack (%s)\n",
		sum.Files, sum.ProcessRows, sum.Duplicates, sum.Failed, sum.Recovered, sum.Elapsed.Round(time.Millisecond))
	return st.Close()
}

// write renders the report on stdout in the chosen format.
func (c *HuntCommand) write(r *report.Report, format string, wide bool) error {
	switch format {
	case "json":
		return report.JSON(c.env.Stdout, r)
	case "jsonl":
		return report.JSONL(c.env.Stdout, r)
	case "csv":
		return report.CSV(c.env.Stdout, r)
	}
	opt := report.TerminalOptions{Wide: wide, Width: terminalWidth(c.env.Stdout)}
	return report.Terminal(c.env.Stdout, r, opt)
}

// terminalWidth is the width of w when it is a terminal, else 0 (the
// renderer's default).
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			return cols
		}
	}
	return 0
}

// writeHTMLFile writes the HTML report atomically.
func writeHTMLFile(path string, r *report.Report) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("hunt: html: %w", err)
	}
	if err := report.HTML(f, r); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("hunt: html: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hunt: html: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("hunt: html: %w", err)
	}
	return nil
}

// severityRank orders severities; 0 for unknown.
func severityRank(s string) int {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}
