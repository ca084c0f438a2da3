// Command evtxhunt triages Windows event logs offline: it ingests EVTX files
// into an xdr_data SQLite database, rebuilds process ancestry, runs Cortex XQL
// hunts and reports the matches.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
)

// Version is the evtxhunt version recorded in ingest_runs and reports.
var Version = "0.1.0-dev"

// Command is one evtxhunt subcommand.
type Command interface {
	// Run executes the command with its arguments (without the command name).
	Run(ctx context.Context, args []string) error
	// Usage writes the command's help text.
	Usage()
}

// Env carries the writers and the working environment a command uses; tests
// pass buffers.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// commandInfo describes a registered subcommand.
type commandInfo struct {
	summary string
	new     func(env Env) Command
}

// commands is filled by each command file's init function.
var commands = map[string]commandInfo{}

// register adds a subcommand; called from init functions only.
func register(name, summary string, f func(env Env) Command) {
	if _, dup := commands[name]; dup {
		panic("evtxhunt: command registered twice: " + name)
	}
	commands[name] = commandInfo{summary: summary, new: f}
}

// errUsage reports bad command-line usage; main exits with status 2.
var errUsage = errors.New("usage")

// exitError carries a specific exit status (for example --fail-on).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and turns its error into an exit status.
func run(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		printHelp(env.Stdout)
		return 0
	}
	name := args[0]
	if name == "help" {
		if len(args) > 1 {
			if info, ok := commands[args[1]]; ok {
				info.new(env).Usage()
				return 0
			}
			fmt.Fprintf(env.Stderr, "evtxhunt: unknown command %q\n", args[1])
			return 2
		}
		printHelp(env.Stdout)
		return 0
	}
	if name == "version" || name == "--version" {
		fmt.Fprintf(env.Stdout, "evtxhunt %s\n", Version)
		return 0
	}
	info, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "evtxhunt: unknown command %q (see 'evtxhunt help')\n", name)
		return 2
	}
	err := info.new(env).Run(ctx, args[1:])
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "evtxhunt %s: %v\n", name, err)
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(env.Stderr, ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(env.Stderr, "evtxhunt %s: %v\n", name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, `evtxhunt %s — offline triage of Windows event logs with Cortex XQL hunts

Usage:
	evtxhunt <command> [arguments]

Commands:
`, Version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "	%-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\n%s", strings.TrimLeft(`
Use "evtxhunt help <command>" for more about a command.
`, "\n"))
}
