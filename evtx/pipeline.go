package evtx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// The scan is a three-stage pipeline:
//
//	producer (1 goroutine): walks inputs, hashes each file, reads its chunk
//	    slots and queues one job per chunk, in file order;
//	workers (Options.Workers goroutines): decode chunks;
//	consumer (the caller's goroutine): takes the queue in order, waits for
//	    each chunk's result and calls the Handler.
//
// The queue is bounded, so at most queueDepth chunks (64 KiB each plus their
// decoded records) are in flight whatever the input sizes.

type itemKind int

const (
	itemStart itemKind = iota
	itemChunk
	itemDone
)

// fileState is shared by the items of one file.
type fileState struct {
	src  *Source
	skip atomic.Bool // set by the consumer when the file's channel is not wanted
}

type item struct {
	kind itemKind
	fs   *fileState
	// itemStart
	size, headerChunks int64
	// itemChunk
	res chan *chunkDecoder
	// itemDone
	stats *FileStats
}

type job struct {
	fs    *fileState
	buf   []byte
	index int
	base  int64
	trunc bool
	res   chan *chunkDecoder
}

type scanner struct {
	ctx    context.Context
	opt    Options
	h      Handler
	filter filter
	bufs   sync.Pool
}

func newScanner(ctx context.Context, opt Options, h Handler) *scanner {
	s := &scanner{ctx: ctx, opt: opt, h: h, filter: newFilter(opt.Want)}
	s.bufs.New = func() any { b := make([]byte, chunkSize); return &b }
	return s
}

func (s *scanner) run(inputs []string) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	depth := 2*s.opt.Workers + 2
	queue := make(chan item, depth)
	jobs := make(chan job, depth)

	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.res <- s.decode(j)
			}
		}()
	}
	var prodErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer close(queue)
		prodErr = walkInputs(ctx, inputs, s.opt, func(ev *evidence) error {
			return s.produce(ctx, ev, queue, jobs)
		})
	}()

	err := s.consume(ctx, queue)
	if err != nil {
		cancel()
		for range queue { // let the producer finish
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if prodErr != nil && !errors.Is(prodErr, context.Canceled) {
		return prodErr
	}
	return s.ctx.Err()
}

func (s *scanner) decode(j job) *chunkDecoder {
	d := newChunkDecoder(j.buf, s.filter, s.opt.NoSlack, j.base, j.index, j.fs.src)
	defer func() {
		d.release()
		s.bufs.Put(&j.buf)
	}()
	if j.trunc {
		d.stats.fail("truncated chunk")
	}
	if j.fs.skip.Load() {
		d.count()
		return d
	}
	d.decode()
	return d
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// produce hashes one file, checks its magic and queues its chunks.
func (s *scanner) produce(ctx context.Context, ev *evidence, queue chan<- item, jobs chan<- job) error {
	fs := &fileState{src: &Source{Path: ev.src.Path, Member: ev.src.Member}}
	done := func(st *FileStats) error {
		return send(ctx, queue, item{kind: itemDone, fs: fs, stats: st})
	}
	fail := func(status string, err error) error {
		st := &FileStats{Source: *fs.src, Bytes: ev.size, Status: status, Err: err, Reason: err.Error()}
		return done(st)
	}
	if ev.refused != nil {
		return fail(ev.status, ev.refused)
	}
	sum, head, n, err := s.hash(ev)
	if err != nil {
		return fail(StatusFailed, err)
	}
	fs.src.SHA256 = sum
	ev.size = n
	if len(head) < len(fileMagic) || !bytes.Equal(head[:len(fileMagic)], fileMagic) {
		st := &FileStats{Source: *fs.src, Bytes: n, Status: StatusSkipped, Err: errNotEVTX(head)}
		st.Reason = st.Err.Error()
		return done(st)
	}
	st := &FileStats{Source: *fs.src, Bytes: n}
	if len(head) >= 44 {
		st.HeaderChunks = int(binary.LittleEndian.Uint16(head[42:]))
	}
	if err := send(ctx, queue, item{kind: itemStart, fs: fs, size: n, headerChunks: int64(st.HeaderChunks)}); err != nil {
		return err
	}
	if n < fileHeaderSize {
		st.Status, st.Err = StatusFailed, fmt.Errorf("%w: %d bytes, shorter than the 4096-byte file header", ErrTruncated, n)
		st.Reason = st.Err.Error()
		return done(st)
	}
	if err := s.readSlots(ctx, ev, fs, st, queue, jobs); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st.Status, st.Err, st.Reason = StatusFailed, err, err.Error()
	}
	return done(st)
}

// hash streams the whole file through SHA-256 and keeps its first 4 KiB.
func (s *scanner) hash(ev *evidence) (sum string, head []byte, n int64, err error) {
	r, err := ev.stream()
	if err != nil {
		return "", nil, 0, fmt.Errorf("evtx: open %s: %w", name(ev.src), err)
	}
	defer r.Close()
	h := sha256.New()
	buf := make([]byte, fileHeaderSize)
	k, err := io.ReadFull(r, buf)
	head = buf[:k]
	h.Write(head)
	n = int64(k)
	if err == nil {
		var m int64
		m, err = io.Copy(h, r)
		n += m
	} else if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	if err != nil {
		return "", nil, 0, fmt.Errorf("evtx: read %s: %w", name(ev.src), err)
	}
	return hex.EncodeToString(h.Sum(nil)), head, n, nil
}

func name(src Source) string {
	if src.Member != "" {
		return src.Path + ":" + src.Member
	}
	return src.Path
}

// readSlots reads every 64 KiB slot after the file header (ReadAt for plain
// files and stored members, a stream for compressed ones) and queues those
// with the chunk magic. The header's chunk count is not trusted.
func (s *scanner) readSlots(ctx context.Context, ev *evidence, fs *fileState, st *FileStats, queue chan<- item, jobs chan<- job) error {
	var r io.Reader
	if ev.readerAt == nil {
		rc, err := ev.open()
		if err != nil {
			return fmt.Errorf("evtx: open %s: %w", name(ev.src), err)
		}
		defer rc.Close()
		if _, err := io.CopyN(io.Discard, rc, fileHeaderSize); err != nil {
			return fmt.Errorf("evtx: read %s: %w", name(ev.src), err)
		}
		r = rc
	}
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		base := int64(fileHeaderSize) + int64(i)*chunkSize
		if base >= ev.size {
			return nil
		}
		bp := s.bufs.Get().(*[]byte)
		buf := *bp
		var k int
		var err error
		if r == nil {
			k, err = ev.readerAt.ReadAt(buf, base)
		} else {
			k, err = io.ReadFull(r, buf)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
		}
		if err != nil {
			s.bufs.Put(bp)
			return fmt.Errorf("evtx: read %s at %d: %w", name(ev.src), base, err)
		}
		if k == 0 {
			s.bufs.Put(bp)
			return nil
		}
		clear(buf[k:])
		if !bytes.Equal(buf[:8], chunkMagic) {
			if k < 8 || !allZero(buf[:k]) {
				st.SlotsNotChunk++
			}
			s.bufs.Put(bp)
			continue
		}
		j := job{fs: fs, buf: buf, index: i, base: base, trunc: k < chunkSize, res: make(chan *chunkDecoder, 1)}
		if err := send(ctx, queue, item{kind: itemChunk, fs: fs, res: j.res}); err != nil {
			s.bufs.Put(bp)
			return err
		}
		if err := send(ctx, jobs, j); err != nil {
			return err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// consume takes the queue in order and calls the handler.
func (s *scanner) consume(ctx context.Context, queue <-chan item) error {
	var cur *FileStats // stats of the file being delivered
	var chunkSeen bool // a chunk of cur with records has been seen
	var reported int64 // bytes of cur reported through Progress
	for it := range queue {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch it.kind {
		case itemStart:
			cur = &FileStats{Source: *it.fs.src, Bytes: it.size, HeaderChunks: int(it.headerChunks)}
			chunkSeen, reported = false, 0
			if s.h.FileStart != nil {
				if err := s.h.FileStart(*it.fs.src, it.size); err != nil {
					return err
				}
			}
		case itemChunk:
			var d *chunkDecoder
			select {
			case d = <-it.res:
			case <-ctx.Done():
				return ctx.Err()
			}
			if s.h.Progress != nil && cur != nil {
				if n := min(chunkSize, cur.Bytes-reported); n > 0 {
					s.h.Progress(n)
					reported += n
				}
			}
			if cur == nil {
				continue
			}
			if it.fs.skip.Load() {
				// A skipped file's chunks are only counted: no record is delivered.
				d.records = nil
			}
			if err := s.account(cur, d); err != nil {
				return err
			}
			if !chunkSeen && len(d.channels) > 0 {
				chunkSeen = true
				if !s.anyWanted(d.channels) {
					it.fs.skip.Store(true)
					cur.Status, cur.Err = StatusSkipped, fmt.Errorf("%w: %s", ErrChannelNotWanted, strings.Join(sortedKeys(d.channels), ", "))
					cur.Reason = cur.Err.Error()
				}
			}
		case itemDone:
			st := it.stats
			if cur != nil && cur.Source.Path == st.Source.Path && cur.Source.Member == st.Source.Member && st.Status != StatusSkipped {
				merge(cur, st)
				st = cur
			}
			cur = nil
			if st.Status == "" {
				st.Status = StatusOK
				if st.RecordsFailed > 0 || liveFailure(st.Failures) {
					st.Status = StatusPartial
				}
			}
			if s.h.Progress != nil && st.Bytes > reported {
				s.h.Progress(st.Bytes - reported)
			}
			reported = 0
			if s.h.FileDone != nil {
				if err := s.h.FileDone(*st); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// merge carries the producer's findings (slot counts, read errors) into the
// consumer's accounting of the same file.
func merge(cur, st *FileStats) {
	cur.SlotsNotChunk = st.SlotsNotChunk
	if st.Status != "" && cur.Status == "" {
		cur.Status, cur.Err, cur.Reason = st.Status, st.Err, st.Reason
	}
}

func (s *scanner) anyWanted(chs map[string]bool) bool {
	for ch := range chs {
		if s.filter.wantChannel(ch) {
			return true
		}
	}
	return false
}

// account adds a chunk's counts to the file and delivers its records.
func (s *scanner) account(st *FileStats, d *chunkDecoder) error {
	cs := d.stats
	st.Chunks++
	if cs.BadHeaderCRC || cs.BadDataCRC {
		st.ChunksBad++
	}
	st.Records += cs.Records
	st.RecordsFailed += cs.RecordsFailed
	st.RecordsRecovered += cs.RecordsRecovered
	st.RecoveredFailed += cs.RecoveredFailed
	st.Wanted += cs.Wanted
	st.WantedRecovered += cs.WantedRecovered
	for k, v := range cs.Failures {
		if st.Failures == nil {
			st.Failures = map[string]int{}
		}
		st.Failures[k] += v
	}
	if s.h.Record == nil {
		return nil
	}
	for i := range d.records {
		if err := s.h.Record(&d.records[i]); err != nil {
			return err
		}
	}
	return nil
}

// liveFailure reports a failure that is not a slack record's.
func liveFailure(fs map[string]int) bool {
	for k := range fs {
		if !strings.HasPrefix(k, recoveredPrefix) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, fmt.Sprintf("%q", k))
	}
	sort.Strings(out)
	return out
}
