package evtxtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Field is one EventData/Data element, written in order.
type Field struct {
	// Name is the Data element's Name attribute, written as literal text in
	// the EventData template.
	Name string
	// Value is the element's content, written as a UTF-16 string substitution.
	Value string
}

// Event is one record to write.
type Event struct {
	// Channel is System/Channel, e.g. "Microsoft-Windows-Sysmon/Operational" or "Security".
	Channel string
	// Provider is System/Provider/@Name, e.g. "Microsoft-Windows-Sysmon".
	Provider string
	// ProviderGUID is System/Provider/@Guid in "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"
	// form; empty leaves the attribute out.
	ProviderGUID string
	// EventID is System/EventID (16 bits).
	EventID int
	// Version is System/Version (8 bits).
	Version int
	// Level and Opcode are 8-bit, Task is 16-bit System values.
	Level, Task, Opcode int
	// Keywords is System/Keywords, written as a HexInt64.
	Keywords uint64
	// RecordID is System/EventRecordID; 0 assigns the previous record's
	// identifier plus one (the first record gets 1).
	RecordID uint64
	// Time is System/TimeCreated/@SystemTime, written as a FILETIME
	// (100 ns precision; finer digits are dropped).
	Time time.Time
	// Computer is System/Computer, written as literal text in the template
	// the way Windows does.
	Computer string
	// UserSID is System/Security/@UserID ("S-1-5-18"); empty leaves it out.
	UserSID string
	// ProcessID and ThreadID are System/Execution attributes.
	ProcessID, ThreadID uint32
	// Data holds the EventData/Data elements in order.
	Data []Field
}

// Options damage a file on purpose for tests. The zero value writes a
// clean file.
type Options struct {
	// StaleChunkCount makes the file header claim one chunk, with the
	// next record identifier of that chunk and the dirty flag set, although
	// more chunks are written (a log whose header was not flushed).
	StaleChunkCount bool
	// BadHeaderCRC lists chunk indices whose chunk-header CRC32 is corrupted.
	BadHeaderCRC []int
	// BadDataCRC lists chunk indices whose event-records CRC32 is corrupted
	// (the header CRC32 is computed over the corrupted value, so only the
	// records checksum is wrong).
	BadDataCRC []int
	// TruncateBytes cuts this many bytes off the end of the file.
	TruncateBytes int
	// SlackEvents are records written into the last chunk's slack, after its
	// last live record and not counted in the chunk header, like deleted
	// records. A zero RecordID continues after the last live record.
	SlackEvents []Event
	// MaxRecordsPerChunk caps the live records per chunk; 0 fills chunks by size.
	MaxRecordsPerChunk int
}

// ErrRecordTooLarge is returned when one record does not fit in an empty
// 64 KiB chunk (or slack records do not fit in the last chunk).
var ErrRecordTooLarge = errors.New("evtxtest: record does not fit in a chunk")

// File layout constants.
const (
	fileHeaderBlock = 0x1000
	fileHeaderSize  = 0x80
	chunkSize       = 0x10000
	chunkDataStart  = 0x200
	recordHeader    = 24
	fileFlagDirty   = 0x1
)

// WriteFile writes events as an EVTX file at path (see Write).
func WriteFile(path string, events []Event, opt Options) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("evtxtest: create %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	werr := Write(bw, events, opt)
	if werr == nil {
		if err := bw.Flush(); err != nil {
			werr = fmt.Errorf("evtxtest: write %s: %w", path, err)
		}
	}
	if cerr := f.Close(); werr == nil && cerr != nil {
		werr = fmt.Errorf("evtxtest: close %s: %w", path, cerr)
	}
	return werr
}

// Write writes events as an EVTX file to w: a 4 KiB file header and 64 KiB
// chunks filled in order, each record a BinXML template instance. Record
// identifiers of events with RecordID 0 are assigned sequentially. opt may
// damage the file on purpose. Nothing is written when an event cannot be
// encoded. Write holds the chunks in memory until the file header, which
// counts them, is written: memory grows with the file, 64 KiB per chunk.
func Write(w io.Writer, events []Event, opt Options) error {
	chunks, nextID, err := layoutChunks(events, opt)
	if err != nil {
		return err
	}
	hdr := fileHeader(chunks, nextID, opt)
	total := len(hdr) + len(chunks)*chunkSize
	if opt.TruncateBytes < 0 || opt.TruncateBytes > total {
		return fmt.Errorf("evtxtest: cannot truncate %d bytes of a %d-byte file", opt.TruncateBytes, total)
	}
	left := total - opt.TruncateBytes
	for _, b := range append([][]byte{hdr}, chunksBytes(chunks, opt)...) {
		if left <= 0 {
			break
		}
		if len(b) > left {
			b = b[:left]
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("evtxtest: write: %w", err)
		}
		left -= len(b)
	}
	return nil
}

// layout places live events into chunks and slack events into the last one.
// It returns the chunks and the next record identifier after the live records.
func layoutChunks(events []Event, opt Options) ([]*chunkBuf, uint64, error) {
	var chunks []*chunkBuf
	c := newChunk()
	next := uint64(1)
	for i := range events {
		ev := &events[i]
		id := ev.RecordID
		if id == 0 {
			id = next
		}
		next = id + 1
		if opt.MaxRecordsPerChunk > 0 && c.n >= opt.MaxRecordsPerChunk {
			chunks = append(chunks, c)
			c = newChunk()
		}
		rec, t, err := c.record(ev, id)
		if err != nil {
			return nil, 0, fmt.Errorf("evtxtest: event %d (record %d): %w", i, id, err)
		}
		if c.free+len(rec) > chunkSize && c.n > 0 {
			chunks = append(chunks, c)
			c = newChunk()
			if rec, t, err = c.record(ev, id); err != nil {
				return nil, 0, fmt.Errorf("evtxtest: event %d (record %d): %w", i, id, err)
			}
		}
		if c.free+len(rec) > chunkSize {
			return nil, 0, fmt.Errorf("%w: event %d (record %d) needs %d bytes", ErrRecordTooLarge, i, id, len(rec))
		}
		c.commit(rec, t, id, true)
	}
	live := next
	for i := range opt.SlackEvents {
		ev := &opt.SlackEvents[i]
		id := ev.RecordID
		if id == 0 {
			id = next
		}
		next = id + 1
		rec, t, err := c.record(ev, id)
		if err != nil {
			return nil, 0, fmt.Errorf("evtxtest: slack event %d (record %d): %w", i, id, err)
		}
		if c.free+len(rec) > chunkSize {
			return nil, 0, fmt.Errorf("%w: slack event %d (record %d) needs %d bytes, %d left in the last chunk",
				ErrRecordTooLarge, i, id, len(rec), chunkSize-c.free)
		}
		c.commit(rec, t, id, false)
	}
	if c.n > 0 || len(opt.SlackEvents) > 0 {
		chunks = append(chunks, c)
	}
	for _, list := range [][]int{opt.BadHeaderCRC, opt.BadDataCRC} {
		for _, i := range list {
			if i < 0 || i >= len(chunks) {
				return nil, 0, fmt.Errorf("evtxtest: bad-checksum chunk index %d, file has %d chunks", i, len(chunks))
			}
		}
	}
	return chunks, live, nil
}

func chunksBytes(chunks []*chunkBuf, opt Options) [][]byte {
	out := make([][]byte, len(chunks))
	for i, c := range chunks {
		out[i] = c.finish(hasIndex(opt.BadHeaderCRC, i), hasIndex(opt.BadDataCRC, i))
	}
	return out
}

func hasIndex(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
