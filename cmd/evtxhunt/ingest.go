package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"evtxhunt/normalize"
)

func init() {
	register("ingest", "read EVTX files (dirs, zips) into an xdr_data SQLite database", func(env Env) Command {
		return &IngestCommand{env: env}
	})
}

// IngestCommand reads evidence into the database: evtxhunt ingest --db FILE PATH...
type IngestCommand struct {
	env Env
}

// Usage writes the command's help text.
func (c *IngestCommand) Usage() {
	fmt.Fprint(c.env.Stderr, `Usage: evtxhunt ingest --db FILE [--from T] [--to T] [--quiet] PATH...

Reads every EVTX file under PATH (files, directories, .zip archives), maps
Sysmon Event ID 1/5 and Security 4688/4689 records to xdr_data rows and stores
them in the SQLite database FILE (created if needed). Ingesting the same
evidence again adds nothing; a record found in several copies is stored once.

Options:
  --db FILE        SQLite database to create or update (required)
  --from T, --to T keep only rows whose _time is in [T, T]; others are counted,
                   not stored. T is RFC 3339 (2024-10-21T11:04:43Z), or
                   "2024-10-21 11:04:43" or "2024-10-21" in UTC (a bare date
                   in --to means the end of that day)
  --vendor S       value of _vendor (default "PANW")
  --product S      value of _product (default "XDR agent")
  --quiet          no progress bar (it is also off when stderr is not a terminal)
  --batch N        rows per transaction (default 5000)
  --no-ancestry    store the rows without rebuilding process ancestry (actor
                   and causality actor columns then hold only what each
                   record says about its parent)

Examples:
  evtxhunt ingest --db case.db ./collection
  evtxhunt ingest --db case.db --from 2024-10-21 --to 2024-10-22 triage.zip
`)
}

// Run executes the command.
func (c *IngestCommand) Run(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("evtxhunt ingest", flag.ContinueOnError)
	fset.SetOutput(c.env.Stderr)
	fset.Usage = c.Usage
	dbPath := fset.String("db", "", "SQLite database to create or update")
	fromS := fset.String("from", "", "earliest _time to store")
	toS := fset.String("to", "", "latest _time to store")
	vendor := fset.String("vendor", normalize.DefaultVendor, "value of _vendor")
	product := fset.String("product", normalize.DefaultProduct, "value of _product")
	quiet := fset.Bool("quiet", false, "no progress bar")
	batch := fset.Int("batch", normalize.DefaultBatchSize, "rows per transaction")
	noAncestry := fset.Bool("no-ancestry", false, "store the rows without rebuilding ancestry")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *batch <= 0 {
		return fmt.Errorf("%w: --batch must be positive", errUsage)
	}
	if *dbPath == "" {
		return fmt.Errorf("%w: --db is required", errUsage)
	}
	inputs := fset.Args()
	if len(inputs) == 0 {
		return fmt.Errorf("%w: no input PATH given", errUsage)
	}
	from, err := parseTimeFlag(*fromS, false)
	if err != nil {
		return fmt.Errorf("%w: --from: %v", errUsage, err)
	}
	to, err := parseTimeFlag(*toS, true)
	if err != nil {
		return fmt.Errorf("%w: --to: %v", errUsage, err)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return fmt.Errorf("%w: --to is before --from", errUsage)
	}
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return fmt.Errorf("ingest: input: %w", err)
		}
	}

	st, err := normalize.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer st.Close()

	opt := normalize.IngestOptions{
		Args: append([]string{"ingest"}, args...), Version: Version, From: from, To: to,
		Map:          normalize.MapOptions{Vendor: *vendor, Product: *product},
		BatchSize:    *batch,
		SkipAncestry: *noAncestry,
	}
	var bar *progressBar
	if !*quiet && isTerminal(c.env.Stderr) {
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
	if err := st.Close(); err != nil {
		return err
	}
	return writeIngestSummary(c.env.Stdout, *dbPath, sum)
}

// parseTimeFlag parses a --from/--to value (UTC unless it says otherwise).
// A bare date in --to (endOfDay) means the last millisecond of that day.
func parseTimeFlag(s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot parse %q as a time (want RFC 3339, \"2006-01-02 15:04:05\" or \"2006-01-02\")", s)
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Millisecond)
	}
	return t, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// inputSize is the total size of the regular files under the inputs, the
// progress bar's 100 %.
func inputSize(inputs []string) int64 {
	var total int64
	for _, in := range inputs {
		filepath.WalkDir(in, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
	}
	return total
}

// progressBar shows files, megabytes and process records per second on stderr.
type progressBar struct {
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
}

// newProgressBar returns a byte-based progress bar of total bytes.
func newProgressBar(w io.Writer, total int64) *progressBar {
	b := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetDescription("ingest"),
	)
	return &progressBar{bar: b, start: time.Now()}
}

// update is the IngestOptions.Progress callback.
func (p *progressBar) update(pr normalize.IngestProgress) {
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	rate := float64(pr.ProcessRecords) / now.Sub(p.start).Seconds()
	p.bar.Describe(fmt.Sprintf("%d files, %d records (%.0f/s)", pr.Files, pr.ProcessRecords, rate))
	p.bar.Set64(pr.Bytes)
}

// finish removes the bar from the terminal.
func (p *progressBar) finish() {
	p.bar.Finish()
	p.bar.Clear()
}

// writeIngestSummary prints the closing table of an ingest run.
func writeIngestSummary(w io.Writer, dbPath string, s normalize.IngestSummary) error {
	t := tablewriter.NewWriter(w)
	t.Header([]string{"Ingest", "Count"})
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	rows := [][]string{
		{"files", strconv.Itoa(s.Files)},
		{"files partly unreadable", strconv.Itoa(s.FilesPartial)},
		{"files skipped", strconv.Itoa(s.FilesSkipped)},
	}
	reasons := make([]string, 0, len(s.SkippedByReason))
	for r := range s.SkippedByReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		rows = append(rows, []string{"  skipped: " + r, strconv.Itoa(s.SkippedByReason[r])})
	}
	rows = append(rows,
		[]string{"MB read", fmt.Sprintf("%.1f", float64(s.Bytes)/(1<<20))},
		[]string{"records decoded", n(s.Records)},
		[]string{"records failed", n(s.Failed)},
		[]string{"records recovered from slack", n(s.Recovered)},
		[]string{"process records", n(s.ProcessRecords)},
		[]string{"process rows added", n(s.ProcessRows)},
		[]string{"process rows from slack", n(s.RecoveredRows)},
		[]string{"duplicates (already stored)", n(s.Duplicates)},
		[]string{"rows with a new source", n(s.NewSources)},
	)
	if s.OutOfRange > 0 {
		rows = append(rows, []string{"outside --from/--to", n(s.OutOfRange)})
	}
	if s.MapErrors > 0 {
		rows = append(rows, []string{"records not mapped (see ingest_files.failures)", n(s.MapErrors)})
	}
	if s.Ancestry.Hosts > 0 {
		rows = append(rows,
			[]string{"ancestry: hosts rebuilt", strconv.Itoa(s.Ancestry.Hosts)},
			[]string{"ancestry: 4688 rows merged into Sysmon rows", strconv.Itoa(s.Ancestry.Merged)},
		)
	}
	rows = append(rows, []string{"elapsed", s.Elapsed.Round(time.Millisecond).String()})
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return fmt.Errorf("ingest: summary table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("ingest: summary table: %w", err)
	}
	msg := fmt.Sprintf("database: %s (run %d)\n", dbPath, s.RunID)
	if s.ProcessRows == 0 && s.ProcessRecords > 0 && s.Duplicates == s.ProcessRecords {
		msg += fmt.Sprintf("nothing new: all %d process records were already in the database\n", s.ProcessRecords)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}
