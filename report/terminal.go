package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// TerminalOptions controls the terminal rendering.
type TerminalOptions struct {
	// Width is the terminal width in columns (cmd passes
	// golang.org/x/term's width when stdout is a terminal). Tables are
	// truncated to fit it, cell by cell, with "…" marking cut cells.
	// Width <= 0 means no limit, as for a pipe or a file.
	Width int
	// Wide disables truncation whatever Width says, so every cell is shown
	// whole (the table may then be wider than the terminal).
	Wide bool
}

// tableHeaders are the match-table columns, in order; the time column's
// header gets the display zone appended.
var tableHeaders = []string{"TIME", "HOST", "USER", "PROCESS", "COMMAND LINE", "PARENT", "CAUSALITY ACTOR"}

// minCellWidth is the narrowest a truncated cell gets, so "…" always has
// some text in front of it.
const minCellWidth = 6

// pathSepMark prefixes the PROCESS cell of a match that only matched with
// '/' and '\' compared alike (Match.PathSepOnly).
const pathSepMark = "~"

// Terminal writes the terminal report: a header and a match table per hunt,
// then a closing summary (matches by severity, hosts, time span, evidence
// and parse health). Every evidence string is passed through Neutralize, so
// nothing in the evidence can act on the terminal.
func Terminal(w io.Writer, r *Report, opt TerminalOptions) error {
	ew := &errWriter{w: w}
	loc := r.displayZone()
	title := r.Title
	if title == "" {
		title = "evtxhunt report"
	}
	ew.printf("%s\n", Neutralize(title))
	ew.printf("generated %s UTC by evtxhunt %s; times shown in %s\n",
		displayTime(r.Generated, time.UTC), Neutralize(r.Version), zoneName(loc))
	for i := range r.Hunts {
		ew.printf("\n")
		writeHuntHeader(ew, &r.Hunts[i])
		if ew.err != nil {
			return ew.err
		}
		if len(r.Hunts[i].Matches) > 0 {
			if err := Table(ew, &r.Hunts[i], loc, opt); err != nil {
				return err
			}
		}
	}
	ew.printf("\n")
	writeSummary(ew, r, loc)
	return ew.err
}

// writeHuntHeader writes the lines above a hunt's table.
func writeHuntHeader(ew *errWriter, h *HuntResult) {
	ew.printf("== [%s] %s: %s\n", strings.ToUpper(Neutralize(h.Severity)), Neutralize(h.ID), Neutralize(h.Title))
	status := plural(len(h.Matches), "match", "matches")
	switch {
	case h.Skipped != "":
		status = "not run"
	case h.Error != "":
		status = plural(len(h.Matches), "match", "matches") + " before it failed"
	}
	ew.printf("   severity %s · risk %d · %s · %s\n",
		Neutralize(h.Severity), h.RiskScore, status, plural(len(h.Lint), "lint finding", "lint findings"))
	for _, l := range h.Lint {
		ew.printf("   lint %s\n", formatLint(l, false))
	}
	if h.Skipped != "" {
		ew.printf("   skipped: %s\n", Neutralize(h.Skipped))
	}
	if h.Error != "" {
		ew.printf("   error: %s\n", Neutralize(h.Error))
	}
	if n := countPathSepOnly(h); n > 0 {
		ew.printf("   note: %s only because '/' and '\\' were compared alike (PROCESS marked %s); check before relying on it\n",
			plural(n, "match matched", "matches matched"), pathSepMark)
	}
	if h.Skipped == "" && h.Error == "" && len(h.Matches) == 0 {
		ew.printf("   no matches\n")
	}
}

func countPathSepOnly(h *HuntResult) int {
	n := 0
	for i := range h.Matches {
		if h.Matches[i].PathSepOnly {
			n++
		}
	}
	return n
}

// formatLint renders a lint finding on one line; withHunt adds its hunt.
func formatLint(l LintFinding, withHunt bool) string {
	var b strings.Builder
	if withHunt && l.Hunt != "" {
		b.WriteString(Neutralize(l.Hunt))
		b.WriteString(" ")
	}
	if l.Pos != "" {
		b.WriteString(Neutralize(l.Pos))
		b.WriteString(" ")
	}
	b.WriteString(Neutralize(l.Severity))
	if l.Code != "" {
		b.WriteString(" [" + Neutralize(l.Code) + "]")
	}
	b.WriteString(": ")
	b.WriteString(Neutralize(l.Msg))
	return b.String()
}

// Table writes one hunt's matches as a table (time in loc, host, user,
// process, command line, parent, causality actor). Cells are neutralised;
// when opt asks for a width limit, the widest columns are cut to fit it and
// a line below the table says how many cells were cut and that --wide shows
// them whole.
func Table(w io.Writer, h *HuntResult, loc *time.Location, opt TerminalOptions) error {
	if loc == nil {
		loc = time.UTC
	}
	headers := append([]string(nil), tableHeaders...)
	headers[0] = "TIME (" + zoneName(loc) + ")"
	rows := make([][]string, 0, len(h.Matches))
	for i := range h.Matches {
		m := &h.Matches[i]
		proc := Neutralize(m.Process)
		if m.PathSepOnly {
			proc = pathSepMark + proc
		}
		rows = append(rows, []string{
			displayTime(m.Time, loc), Neutralize(m.Host), Neutralize(m.User), proc,
			Neutralize(m.CommandLine), Neutralize(m.Parent), Neutralize(m.CausalityActor),
		})
	}
	cut := 0
	if !opt.Wide && opt.Width > 0 {
		widths := fitWidths(headers, rows, opt.Width)
		for _, row := range rows {
			for c := range row {
				var was bool
				row[c], was = truncate(row[c], widths[c])
				if was {
					cut++
				}
			}
		}
	}
	tbl := tablewriter.NewTable(w, tablewriter.WithConfig(tablewriter.Config{
		Header: tw.CellConfig{
			Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone, AutoFormat: tw.Off},
			Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
		},
		Row: tw.CellConfig{
			Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone, AutoFormat: tw.Off},
			Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
		},
		Behavior: tw.Behavior{TrimSpace: tw.Off},
	}))
	tbl.Header(headers)
	if err := tbl.Bulk(rows); err != nil {
		return fmt.Errorf("report: table %s: %w", h.ID, err)
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("report: table %s: %w", h.ID, err)
	}
	if cut > 0 {
		if _, err := fmt.Fprintf(w, "   (%s cut to fit %d columns; --wide shows them whole)\n",
			plural(cut, "cell", "cells"), opt.Width); err != nil {
			return fmt.Errorf("report: table %s: %w", h.ID, err)
		}
	}
	return nil
}

// tableOverhead is the width the borders and padding of an n-column table
// take: "│ " before each cell, " " after it, and the closing "│".
func tableOverhead(n int) int { return 3*n + 1 }

// shortCap is how wide host, user, process, parent and causality actor
// may grow before the command line gets any space beyond its header.
const shortCap = 24

// cmdlineColumn is the index of the command-line column.
const cmdlineColumn = 4

// fitWidths chooses a width for every column so the table fits in total
// columns. The time column keeps its full width; every other column gets at
// least its header's width (minCellWidth at least, its natural width at
// most). Space left then goes, in turn, to the short columns (host, user,
// process, parent, causality actor) up to shortCap each, to the command
// line, and to whatever still wants more, sharing fairly within each step
// and never giving a column more than its natural width. When even the
// minimums do not fit, the table is wider than total.
func fitWidths(headers []string, rows [][]string, total int) []int {
	n := len(headers)
	natural := make([]int, n)
	widths := make([]int, n)
	for c, h := range headers {
		natural[c] = twwidth.Width(h)
		widths[c] = max(natural[c], minCellWidth)
	}
	for _, row := range rows {
		for c, cell := range row {
			natural[c] = max(natural[c], twwidth.Width(cell))
		}
	}
	widths[0] = natural[0]
	left := total - tableOverhead(n)
	for c := range widths {
		widths[c] = min(widths[c], natural[c])
		left -= widths[c]
	}
	var short, rest []int
	capped := make([]int, n)
	for c := 1; c < n; c++ {
		rest = append(rest, c)
		if c != cmdlineColumn {
			short = append(short, c)
			capped[c] = min(natural[c], max(shortCap, widths[c]))
		}
	}
	left = grow(widths, capped, short, left)
	left = grow(widths, natural, []int{cmdlineColumn}, left)
	grow(widths, natural, rest, left)
	return widths
}

// grow shares left columns fairly among cols, never taking a column past
// its target, and returns what is left over.
func grow(widths, target, cols []int, left int) int {
	for left > 0 {
		var wanting []int
		for _, c := range cols {
			if widths[c] < target[c] {
				wanting = append(wanting, c)
			}
		}
		if len(wanting) == 0 {
			return left
		}
		share := max(left/len(wanting), 1)
		for _, c := range wanting {
			give := min(share, target[c]-widths[c], left)
			widths[c] += give
			left -= give
		}
	}
	return left
}

// truncate cuts s to at most width display columns, ending it with "…"
// when it was cut, and reports whether it was.
func truncate(s string, width int) (string, bool) {
	if twwidth.Width(s) <= width {
		return s, false
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := twwidth.Width(string(r))
		if used+rw > width-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	b.WriteString("…")
	return b.String(), true
}

// writeSummary writes the closing summary.
func writeSummary(ew *errWriter, r *Report, loc *time.Location) {
	s := summarize(r)
	ew.printf("== Summary\n")
	ew.printf("   hunts: %d (%d with matches, %d without, %d skipped, %d failed)\n",
		s.Hunts, s.WithMatches, s.WithoutMatches, s.Skipped, s.Failed)
	parts := make([]string, 0, len(s.BySeverity))
	for _, sc := range s.BySeverity {
		parts = append(parts, fmt.Sprintf("%s %d", sc.Severity, sc.Count))
	}
	ew.printf("   matches: %d (%s)\n", s.Matches, strings.Join(parts, ", "))
	if s.Matches > 0 {
		ew.printf("   hosts with matches: %s\n", neutralizeJoin(s.Hosts))
		ew.printf("   matches span: %s – %s (%s)\n", displayTime(s.First, loc), displayTime(s.Last, loc), zoneName(loc))
	}
	e := r.Evidence
	ew.printf("   evidence: %s, %s, %s records, %s process rows\n",
		plural(e.Files, "file", "files"), plural(len(e.Hosts), "host", "hosts"), itoa(e.Records), itoa(e.Processes))
	if len(e.Hosts) > 0 {
		ew.printf("   hosts: %s\n", neutralizeJoin(e.Hosts))
	}
	ew.printf("   evidence span: %s – %s (%s)\n", displayTime(e.First, loc), displayTime(e.Last, loc), zoneName(loc))
	hl := r.Health
	ew.printf("   parse health: files %d ok, %d partial, %d failed, %d skipped; %s records failed",
		s.FilesByStatus[FileOK], s.FilesByStatus[FilePartial], s.FilesByStatus[FileFailed], s.FilesByStatus[FileSkipped],
		itoa(s.RecordsFailed))
	if len(hl.RecordsFailed) > 0 {
		reasons := make([]string, 0, len(hl.RecordsFailed))
		for k := range hl.RecordsFailed {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		for i, k := range reasons {
			reasons[i] = Neutralize(k) + " " + itoa(hl.RecordsFailed[k])
		}
		ew.printf(" (%s)", strings.Join(reasons, ", "))
	}
	ew.printf("; %s recovered from slack; %s with bad checksums; %s dropped\n",
		itoa(hl.Recovered), plural(int(hl.BadChunks), "chunk", "chunks"), plural(int(hl.Duplicates), "duplicate", "duplicates"))
	for _, f := range hl.Files {
		if f.Status == FileOK {
			continue
		}
		reason := ""
		if f.Reason != "" {
			reason = ": " + Neutralize(f.Reason)
		}
		ew.printf("     %-8s %s%s\n", Neutralize(f.Status), Neutralize(f.Path), reason)
	}
	if len(r.Lint) > 0 || s.HuntLint > 0 {
		ew.printf("   lint: %s in hunts, %s outside hunts\n",
			plural(s.HuntLint, "finding", "findings"), plural(len(r.Lint), "finding", "findings"))
		for _, l := range r.Lint {
			ew.printf("     %s\n", formatLint(l, true))
		}
	}
}

func neutralizeJoin(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Neutralize(s)
	}
	return strings.Join(out, ", ")
}

// errWriter remembers the first write error so a long sequence of writes
// needs one check at the end.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) printf(format string, args ...any) {
	if ew.err != nil {
		return
	}
	if _, err := fmt.Fprintf(ew.w, format, args...); err != nil {
		ew.err = fmt.Errorf("report: write: %w", err)
	}
}

// Write lets tablewriter write through the errWriter.
func (ew *errWriter) Write(p []byte) (int, error) {
	if ew.err != nil {
		return 0, ew.err
	}
	n, err := ew.w.Write(p)
	if err != nil {
		ew.err = fmt.Errorf("report: write: %w", err)
	}
	return n, err
}
