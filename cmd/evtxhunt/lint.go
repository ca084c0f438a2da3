package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"evtxhunt/hunt"
	"evtxhunt/report"
)

func init() {
	register("lint", "check an XQL query for syntax errors and hunt mistakes", func(env Env) Command {
		return &LintCommand{env: env}
	})
}

// LintCommand checks one XQL query file (or standard input) with hunt.Parse
// and hunt.Lint.
type LintCommand struct {
	env Env
}

// Usage writes the help text.
func (c *LintCommand) Usage() {
	fmt.Fprint(c.env.Stderr, `usage: evtxhunt lint [--path-sep-insensitive] FILE|-

Parses an XQL query, or every XQL query of a hunt document (markdown in the
seed's format: a .md file, or text starting with a "# " title), and reports syntax errors and lint findings as
  FILE:LINE:COL: warning: MESSAGE [code]
followed by the query line and a caret under the column.

Lint codes:
  forward-slash-path   a "/" path literal compared with a Windows *_path,
                       *_command_line or *_cwd field (never matches)
  script-image-name    *_process_image_name compared with .bat/.cmd/.ps1/.vbs...
                       (a script is never the process image)
  7z-console-archiver  7z.exe as the parent/causality archiver (the GUIs are
                       7zFM.exe and 7zG.exe)
  cmd-image-in-temp    cmd.exe's image path required under Temp or Downloads
  unknown-field        not an xdr_data field nor made by an earlier stage
  never-filled         an xdr_data field that EVTX never fills (always NULL)

Options:
  --path-sep-insensitive   the query will run with \ and / treated as equal:
                           forward-slash findings become notes

Exit status: 0 when clean (notes allowed), 1 when there is any warning,
2 on syntax errors, an unreadable file or bad usage.

Examples:
  evtxhunt lint hunts/batch.xql
  cat hunt.xql | evtxhunt lint -
`)
}

// Run executes the command.
func (c *LintCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("evtxhunt lint", flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	fs.Usage = c.Usage
	pathSep := fs.Bool("path-sep-insensitive", false, `treat \ and / as equal in path comparisons (forward-slash findings become notes)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one query FILE or - for standard input", errUsage)
	}
	name := fs.Arg(0)
	var b []byte
	var err error
	if name == "-" {
		name = "<stdin>"
		b, err = io.ReadAll(c.env.Stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return &exitError{code: 2, msg: report.Neutralize(fmt.Sprintf("evtxhunt lint: read %s: %v", name, err))}
	}
	opt := hunt.LintOptions{PathSepInsensitive: *pathSep}
	var n int
	if isHuntDocument(name, b) {
		n, err = lintHuntDocument(name, b, c.env.Stdout, opt)
	} else {
		n, err = lintText(name, string(b), c.env.Stdout, opt)
	}
	var el hunt.ErrorList
	switch {
	case errors.As(err, &el):
		return &exitError{code: 2, msg: fmt.Sprintf("evtxhunt lint: %s: %d syntax error(s)", report.Neutralize(name), len(el))}
	case err != nil:
		return fmt.Errorf("lint: %w", err)
	case n > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("evtxhunt lint: %s: %d warning(s)", report.Neutralize(name), n)}
	}
	return nil
}

// isHuntDocument reports whether the input is a markdown hunt document
// rather than a bare query: a .md name, or a "# " title and a fence.
func isHuntDocument(name string, b []byte) bool {
	if strings.EqualFold(filepath.Ext(name), ".md") {
		return true
	}
	t := bytes.TrimSpace(b)
	return bytes.HasPrefix(t, []byte("# ")) && bytes.Contains(t, []byte("```"))
}

// lintHuntDocument lints every XQL query of a hunt document; positions are
// lines of the document. A document in another query language is reported
// as skipped. It returns the number of warnings and the first syntax error.
func lintHuntDocument(name string, b []byte, w io.Writer, opt hunt.LintOptions) (int, error) {
	h, err := hunt.ParseHunt(name, b)
	if err != nil && !errors.Is(err, hunt.ErrNoQuery) {
		return 0, err
	}
	if reason := h.SkipReason(); reason != "" {
		fmt.Fprintf(w, "%s: note: %s: skipped: %s\n", report.Neutralize(name), report.Neutralize(h.ID), report.Neutralize(reason))
		return 0, nil
	}
	total := 0
	var firstErr error
	for _, q := range h.XQLQueries() {
		// Leading newlines put the query's lines where they are in the document.
		src := strings.Repeat("\n", q.Line-1) + q.Text
		n, err := lintText(name, src, w, opt)
		total += n
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return total, firstErr
}

// lintText parses and lints the query src read from name and writes each
// syntax error or diagnostic to w as "name:line:col: severity: msg [code]",
// the query line and a caret. It returns the number of warnings (notes do
// not count) and the hunt.ErrorList when the query does not parse. It is
// the core of the lint command, kept apart so that other inputs (hunt
// documents) can reuse it.
func lintText(name, src string, w io.Writer, opt hunt.LintOptions) (nWarnings int, err error) {
	q, err := hunt.Parse(src)
	if err != nil {
		var el hunt.ErrorList
		if !errors.As(err, &el) {
			return 0, err
		}
		for _, e := range el {
			fmt.Fprintf(w, "%s:%d:%d: error: %s\n%s", report.Neutralize(name), e.Pos.Line, e.Pos.Col,
				report.Neutralize(e.Msg), hunt.Caret(src, e.Pos))
		}
		return 0, err
	}
	for _, d := range hunt.Lint(q, opt) {
		fmt.Fprintf(w, "%s:%d:%d: %s: %s [%s]\n%s", report.Neutralize(name), d.Pos.Line, d.Pos.Col,
			d.Severity, report.Neutralize(d.Msg), d.Code, hunt.Caret(src, d.Pos))
		if d.Severity == "warning" {
			nWarnings++
		}
	}
	return nWarnings, nil
}
