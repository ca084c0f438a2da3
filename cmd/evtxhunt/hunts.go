package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"

	"evtxhunt/hunt"
)

func init() {
	register("hunts", "list the built-in hunt pack (or the hunt documents given)", func(env Env) Command {
		return &HuntsCommand{env: env}
	})
}

// HuntsCommand lists hunt documents: the built-in pack, or documents loaded
// from --hunts paths.
type HuntsCommand struct {
	env Env
}

// Run executes the command.
func (c *HuntsCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("evtxhunt hunts", flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	fs.Usage = c.Usage
	show := fs.String("show", "", "print the whole hunt document with this ID")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hunts, err := loadHuntSet(fs.Args())
	if err != nil {
		return err
	}
	if *show != "" {
		for _, h := range hunts {
			if h.ID == *show {
				return printHuntDoc(c.env.Stdout, h)
			}
		}
		return fmt.Errorf("%w: no hunt with ID %q", errUsage, *show)
	}
	t := tablewriter.NewWriter(c.env.Stdout)
	t.Header([]string{"ID", "Severity", "Risk", "Language", "Title"})
	for _, h := range hunts {
		lang := "XQL"
		if r := h.SkipReason(); r != "" {
			lang = "skipped: " + r
		}
		if err := t.Append([]string{h.ID, h.Severity, strconv.Itoa(h.RiskScore), lang, h.Title}); err != nil {
			return fmt.Errorf("hunts: table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("hunts: table: %w", err)
	}
	return nil
}

// Usage writes the command's help text.
func (c *HuntsCommand) Usage() {
	fmt.Fprint(c.env.Stderr, `Usage: evtxhunt hunts [--show ID] [DIR|FILE ...]

Lists the built-in hunt pack, or the hunt documents (markdown in the seed's
format) found in the given files and directories. Documents in a query
language other than XQL are listed as skipped with their language.

Examples:
	evtxhunt hunts
	evtxhunt hunts --show EVTXHUNT-BatchFromArchive-WebDAV-Fixed
	evtxhunt hunts ../shared/huntdocs
`)
}

// loadHuntSet returns the built-in pack when paths is empty, else the hunt
// documents under paths (any document that fails to load is an error: a hunt
// is never dropped silently).
func loadHuntSet(paths []string) ([]*hunt.Hunt, error) {
	if len(paths) == 0 {
		return hunt.Builtin()
	}
	hunts, errs := hunt.LoadHunts(paths)
	if len(errs) > 0 {
		return hunts, fmt.Errorf("loading hunts: %w (and %d more)", errs[0], len(errs)-1)
	}
	return hunts, nil
}

// printHuntDoc prints a hunt's metadata and query.
func printHuntDoc(w io.Writer, h *hunt.Hunt) error {
	fmt.Fprintf(w, "%s\n%s\nSeverity: %s (risk %d)   False positive rate: %s\n\n%s\n\n",
		h.ID, h.Title, h.Severity, h.RiskScore, h.FalsePositiveRate, h.Description)
	for _, a := range h.Attack {
		fmt.Fprintf(w, "ATT&CK %s %s (%s)\n", a.ID, a.Name, a.Tactic)
	}
	for _, q := range h.Queries {
		fmt.Fprintf(w, "\n--- query (%s, line %d) ---\n%s", q.Language, q.Line, q.Text)
	}
	return nil
}
