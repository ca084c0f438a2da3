package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"evtxhunt/hunt"
	"evtxhunt/report"
)

func init() {
	register("query", "run one XQL query on an evtxhunt database", func(env Env) Command {
		return &QueryCommand{env: env}
	})
}

// QueryCommand runs one XQL query given on the command line or in a file.
type QueryCommand struct {
	env Env
}

// Run executes the command.
func (c *QueryCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("evtxhunt query", flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	fs.Usage = c.Usage
	dbPath := fs.String("db", "", "evtxhunt database `FILE` (required)")
	format := fs.String("format", "table", "output format: table, json, jsonl or csv")
	explain := fs.Bool("explain", false, "print the SQL, its arguments and the time window; run nothing")
	nowFlag := fs.String("now", "", "anchor `TIME` for relative time frames (default: the latest _time in the database)")
	fromFlag := fs.String("from", "", "start `TIME` of the window (like the product's time picker)")
	toFlag := fs.String("to", "", "end `TIME` of the window")
	pathSep := fs.Bool("path-sep-insensitive", false, `treat \ and / as equal on *_path, *_command_line and *_cwd fields (not XDR behaviour; such rows are flagged)`)
	file := fs.String("f", "", "read the query from `FILE` (- for standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbPath == "" {
		return fmt.Errorf("%w: --db is required", errUsage)
	}
	switch *format {
	case "table", "json", "jsonl", "csv":
	default:
		return fmt.Errorf("%w: unknown --format %q (table, json, jsonl or csv)", errUsage, *format)
	}
	src, err := c.querySource(*file, fs.Args())
	if err != nil {
		return err
	}
	q, err := hunt.Parse(src)
	if err != nil {
		var el hunt.ErrorList
		if errors.As(err, &el) {
			fmt.Fprint(c.env.Stderr, report.Neutralize(el.Format(src)))
			return fmt.Errorf("query: %d syntax error(s)", len(el))
		}
		return fmt.Errorf("query: %w", err)
	}
	for _, d := range hunt.Lint(q, hunt.LintOptions{PathSepInsensitive: *pathSep}) {
		fmt.Fprintf(c.env.Stderr, "%s\n", report.Neutralize(d.String()))
	}

	db, err := hunt.OpenDB(*dbPath)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer db.Close()
	latest, ok, err := hunt.LatestTime(ctx, db)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if !ok {
		latest = time.UnixMilli(0).UTC()
	}
	now := latest
	if *nowFlag != "" {
		if now, err = hunt.ParseTime(*nowFlag, latest); err != nil {
			return fmt.Errorf("%w: --now: %v", errUsage, err)
		}
	}
	var from, to time.Time
	if *fromFlag != "" {
		if from, err = hunt.ParseTime(*fromFlag, now); err != nil {
			return fmt.Errorf("%w: --from: %v", errUsage, err)
		}
	}
	if *toFlag != "" {
		if to, err = hunt.ParseTime(*toFlag, now); err != nil {
			return fmt.Errorf("%w: --to: %v", errUsage, err)
		}
	}

	if *explain {
		comp, err := hunt.Compile(q, hunt.CompileOptions{Now: now, From: from, To: to, PathSepInsensitive: *pathSep})
		if err != nil {
			return c.compileError(src, err)
		}
		return c.printExplain(comp)
	}
	res, err := hunt.Run(ctx, db, q, hunt.RunOptions{Now: now, From: from, To: to, PathSepInsensitive: *pathSep})
	if err != nil {
		return c.compileError(src, err)
	}
	for _, d := range res.Notes {
		fmt.Fprintf(c.env.Stderr, "%s\n", report.Neutralize(d.String()))
	}
	fmt.Fprintf(c.env.Stderr, "window: %s\n", report.Neutralize(res.Window.String()))
	if err := c.write(*format, res); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	n := 0
	for _, f := range res.PathSepOnly {
		if f {
			n++
		}
	}
	if res.PathSepOnly != nil {
		fmt.Fprintf(c.env.Stderr, "%d row(s), %d matched only with --path-sep-insensitive\n", len(res.Rows), n)
	} else {
		fmt.Fprintf(c.env.Stderr, "%d row(s)\n", len(res.Rows))
	}
	return nil
}

// querySource returns the query text from -f or the single argument.
func (c *QueryCommand) querySource(file string, args []string) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", fmt.Errorf("%w: give the query as an argument or with -f, not both", errUsage)
	case file == "-":
		b, err := io.ReadAll(c.env.Stdin)
		if err != nil {
			return "", fmt.Errorf("query: read standard input: %w", err)
		}
		return string(b), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("query: %w", err)
		}
		return string(b), nil
	case len(args) == 1:
		return args[0], nil
	case len(args) == 0:
		return "", fmt.Errorf("%w: no query (give it as an argument or with -f FILE)", errUsage)
	}
	return "", fmt.Errorf("%w: one query argument expected, got %d (quote the query)", errUsage, len(args))
}

// compileError prints the caret under a compile error's position.
func (c *QueryCommand) compileError(src string, err error) error {
	var ce *hunt.CompileError
	if errors.As(err, &ce) {
		fmt.Fprint(c.env.Stderr, report.Neutralize(hunt.Caret(src, ce.Pos)))
	}
	return fmt.Errorf("query: %w", err)
}

// printExplain writes the compiled SQL, its arguments and the window.
func (c *QueryCommand) printExplain(comp *hunt.Compiled) error {
	w := c.env.Stdout
	fmt.Fprintf(w, "-- window: %s\n", report.Neutralize(comp.Window.String()))
	for _, d := range comp.Notes {
		fmt.Fprintf(w, "-- %s\n", report.Neutralize(d.String()))
	}
	fmt.Fprintf(w, "%s;\n", report.Neutralize(comp.SQL))
	for i, a := range comp.Args {
		fmt.Fprintf(w, "-- ?%d = %s\n", i+1, explainArg(a))
	}
	return nil
}

// explainArg renders a bound argument: strings quoted with every control
// character escaped.
func explainArg(a any) string {
	switch x := a.(type) {
	case string:
		return strconv.QuoteToASCII(x)
	case nil:
		return "NULL"
	}
	return fmt.Sprint(a)
}

// write prints the result in the chosen format.
func (c *QueryCommand) write(format string, res *hunt.Result) error {
	cols := res.Columns
	flagged := res.PathSepOnly != nil
	if flagged {
		cols = append([]string{"path_sep_only"}, cols...)
	}
	row := func(i int) []any {
		if !flagged {
			return res.Rows[i]
		}
		return append([]any{res.PathSepOnly[i]}, res.Rows[i]...)
	}
	w := c.env.Stdout
	switch format {
	case "json", "jsonl":
		if format == "json" {
			io.WriteString(w, "[")
		}
		for i := range res.Rows {
			b, err := jsonObject(cols, row(i))
			if err != nil {
				return err
			}
			switch {
			case format == "jsonl":
				b = append(b, '\n')
			case i > 0:
				b = append([]byte(",\n"), b...)
			default:
				b = append([]byte("\n"), b...)
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if format == "json" {
			io.WriteString(w, "\n]\n")
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		neutral := isTerminal(w)
		if err := cw.Write(cols); err != nil {
			return err
		}
		for i := range res.Rows {
			r := row(i)
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = hunt.FormatValue(v)
				if neutral {
					rec[j] = report.Neutralize(rec[j])
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	// Headers are field names: no title-casing, no '_' → ' '.
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	hdr := make([]string, len(cols))
	for i, h := range cols {
		hdr[i] = report.Neutralize(h)
	}
	t.Header(hdr)
	for i := range res.Rows {
		r := row(i)
		rec := make([]string, len(r))
		for j, v := range r {
			if b, ok := v.(bool); ok {
				rec[j] = strings.ToUpper(strconv.FormatBool(b))
				continue
			}
			rec[j] = report.Neutralize(hunt.FormatValue(v))
		}
		if err := t.Append(rec); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}

// jsonObject encodes one row as a JSON object with the columns in order.
// DEL and C1 controls, which JSON allows raw, are escaped too.
func jsonObject(cols []string, vals []any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v := vals[i]
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(enc)
	}
	b.WriteByte('}')
	return escapeJSONControls(b.Bytes()), nil
}

// escapeJSONControls rewrites U+007F and U+0080–U+009F as \u escapes; in
// json.Marshal output they can only occur inside strings.
func escapeJSONControls(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = append(out, fmt.Sprintf(`\u%04x`, r)...)
		} else if out != nil {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return b
	}
	return out
}

// Usage writes the command's help text.
func (c *QueryCommand) Usage() {
	fmt.Fprint(c.env.Stderr, `Usage: evtxhunt query --db FILE [--format table|json|jsonl|csv] [--explain]
                      [--now T] [--from T] [--to T] [--path-sep-insensitive]
                      'XQL' | -f FILE

Runs one Cortex XQL query on an evtxhunt database (stages: config, dataset,
preset = xdr_process, filter, fields, alter, sort, limit, dedup, comp, join,
union; view is ignored). Lint warnings, notes, the resolved time window and
the row count go to standard error; rows go to standard output.

Relative time frames (config timeframe = 7d, "-7d", "now") resolve against
--now, which defaults to the latest _time in the database, never the wall
clock. Times: now, begin, -7d, 2024-01-01 00:00:00 +0000, RFC 3339, epoch ms.

--path-sep-insensitive compares \ and / as equal on *_path, *_command_line
and *_cwd fields; rows found only that way are flagged (path_sep_only).

Control characters in values are shown escaped in table output (and in csv
on a terminal); json and jsonl keep the exact text, escaped.

Examples:
	evtxhunt query --db case.db 'dataset = xdr_data | filter action_process_image_name = "cmd.exe" | fields _time, agent_hostname, action_process_image_command_line'
	evtxhunt query --db case.db --format json -f hunt.xql
	evtxhunt query --db case.db --explain --path-sep-insensitive -f hunt.xql
`)
}
