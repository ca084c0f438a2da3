package evtx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Want selects records by channel (case-insensitive) and event id.
type Want struct {
	Channel string
	EventID int
}

// Options tunes a Scan. The zero value reads every record of every file with
// one chunk decoder per CPU and the default zip safety caps.
type Options struct {
	// Want lists the (channel, event id) pairs to deliver; empty means every record.
	Want []Want
	// Workers is the number of chunk decoders; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// MaxZipMember caps one zip member's uncompressed size; 0 means DefaultMaxZipMember.
	MaxZipMember int64
	// MaxZipRatio caps a zip member's uncompressed/compressed size ratio; 0 means DefaultMaxZipRatio.
	MaxZipRatio int
	// NoSlack disables the recovery of records from chunk slack space.
	NoSlack bool
}

// Handler receives the results of a Scan. Every callback runs on the
// goroutine that called Scan; a non-nil error from any of them stops the scan
// and is returned by Scan.
type Handler struct {
	// FileStart, if set, is called when an EVTX file is about to be decoded.
	FileStart func(src Source, size int64) error
	// Record is called for each wanted record (live or recovered) in file,
	// chunk and record order. The record and its Data map belong to the callee.
	Record func(r *Record) error
	// FileDone is called exactly once per input file, including files that were
	// skipped or failed, after that file's records.
	FileDone func(st FileStats) error
	// Progress, if set, receives the number of evidence bytes processed since its last call.
	Progress func(n int64)
}

// Defaults for the zip safety caps.
const (
	// DefaultMaxZipMember is the default cap on one zip member's uncompressed size (4 GiB).
	DefaultMaxZipMember int64 = 4 << 30
	// DefaultMaxZipRatio is the default cap on a zip member's compression ratio.
	DefaultMaxZipRatio = 100
)

// Status values of FileStats.Status.
const (
	StatusOK      = "ok"
	StatusPartial = "partial"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
)

var (
	// ErrNotEVTX reports a file without the "ElfFile\x00" magic; such files are skipped.
	ErrNotEVTX = errors.New("evtx: not an EVTX file")
	// ErrZipMember reports a zip member refused because its path is absolute or
	// climbs out of the archive with "..".
	ErrZipMember = errors.New("evtx: unsafe zip member path")
	// ErrZipBomb reports a zip member refused because its size or compression
	// ratio exceeds the caps in Options.
	ErrZipBomb = errors.New("evtx: zip member exceeds size or ratio cap")
	// ErrTruncated reports a file whose last chunk or header is cut short.
	ErrTruncated = errors.New("evtx: truncated file")
	// ErrChannelNotWanted reports a file skipped because its first decoded
	// chunk holds no record of a wanted channel.
	ErrChannelNotWanted = errors.New("evtx: channel not wanted")
)

// Scan walks inputs (files, directories recursively, .zip archives read in
// place) and decodes every EVTX file it finds, recognised by its magic rather
// than its extension.
//
// All Handler callbacks are invoked from the caller's goroutine. A bad file
// never aborts the scan: it is reported through FileDone. Scan returns only
// context errors, callback errors or an error for an input path that cannot
// be used at all (missing, unreadable directory).
func Scan(ctx context.Context, inputs []string, opt Options, h Handler) error {
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return fmt.Errorf("evtx: input %s: %w", in, err)
		}
	}
	quietLibrary()
	opt = opt.withDefaults()
	s := newScanner(ctx, opt, h)
	return s.run(inputs)
}

// ScanFile decodes a single input path; it is Scan with one input.
func ScanFile(ctx context.Context, path string, opt Options, h Handler) error {
	return Scan(ctx, []string{path}, opt, h)
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxZipMember <= 0 {
		o.MaxZipMember = DefaultMaxZipMember
	}
	if o.MaxZipRatio <= 0 {
		o.MaxZipRatio = DefaultMaxZipRatio
	}
	return o
}

// filter is the compiled form of Options.Want.
type filter struct {
	all      bool
	channels map[string]map[int]bool // lower-case channel -> event ids
}

func newFilter(ws []Want) filter {
	f := filter{all: len(ws) == 0, channels: map[string]map[int]bool{}}
	for _, w := range ws {
		c := strings.ToLower(w.Channel)
		if f.channels[c] == nil {
			f.channels[c] = map[int]bool{}
		}
		f.channels[c][w.EventID] = true
	}
	return f
}

func (f filter) wantChannel(ch string) bool {
	if f.all {
		return true
	}
	return f.channels[strings.ToLower(ch)] != nil
}

func (f filter) want(ch string, eid int) bool {
	if f.all {
		return true
	}
	return f.channels[strings.ToLower(ch)][eid]
}
