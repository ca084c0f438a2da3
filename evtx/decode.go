package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	stdlog "log"
	"strings"
	"sync"
	"time"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"
	ulog "github.com/0xrawsec/golang-utils/log"
)

var quietOnce sync.Once

// quietLibrary silences golang-evtx: its logger (golang-utils/log) writes
// through the standard library's default logger, including stack traces for
// every malformed element, so the level is raised and that output discarded.
func quietLibrary() {
	quietOnce.Do(func() {
		ulog.SetLogLevel(ulog.LCritical)
		stdlog.SetOutput(io.Discard)
	})
}

// chunkDecoder decodes the records of one chunk. It is used by one goroutine.
type chunkDecoder struct {
	data    []byte // the whole 64 KiB chunk
	c       gevtx.Chunk
	filter  filter
	noSlack bool
	base    int64 // file offset of the chunk
	index   int
	src     *Source

	stats    ChunkStats
	records  []Record
	channels map[string]bool // channels of records seen (peeked or decoded)

	locators map[int32]*locator
	trees    map[int32]*gevtx.Node
	xtmpls   map[int]*xtmpl // templates parsed by the fast path, by data offset
	// malformed holds the data offsets of templates the fast path refused
	// where golang-evtx's parse is certain to fail too.
	malformed map[int]bool
	libReady  bool // golang-evtx's chunk is set up
	tableOK   bool // the fast path parsed every template of the template table
	budget    budget

	// fallbacks counts the records the fast path left to golang-evtx, and
	// fallbacksBuilt those of them golang-evtx then built.
	fallbacks, fallbacksBuilt int
	// noFast turns the fast path off (tests compare both paths).
	noFast bool
}

// DecodeChunk decodes one EVTX chunk held in data (shorter data is treated
// as zero-padded to 64 KiB) and returns its wanted records, live and
// recovered, with record offsets relative to the chunk. It never panics.
func DecodeChunk(data []byte, opt Options) ([]Record, ChunkStats) {
	quietLibrary()
	buf := make([]byte, chunkSize)
	copy(buf, data)
	d := newChunkDecoder(buf, newFilter(opt.Want), opt.NoSlack, 0, 0, nil)
	if len(data) < chunkSize {
		d.stats.fail("truncated chunk")
	}
	d.decode()
	return d.records, d.stats
}

func newChunkDecoder(data []byte, f filter, noSlack bool, base int64, index int, src *Source) *chunkDecoder {
	return &chunkDecoder{data: data, filter: f, noSlack: noSlack, base: base, index: index, src: src,
		budget: budget{chunk: chunkBudget, record: recordBudget}}
}

// release drops the references to the chunk buffer and parsed templates
// once the records have been built, so the buffer can be reused.
func (d *chunkDecoder) release() {
	d.data, d.c, d.locators, d.trees, d.xtmpls, d.malformed = nil, gevtx.Chunk{}, nil, nil, nil, nil
}

// decode walks the live records up to the header's last record offset, then
// the slack after them; every record failure is recovered and counted.
func (d *chunkDecoder) decode() {
	if !d.checkHeader() {
		return
	}
	d.prepare()
	d.walk(d.record)
}

// count walks a chunk's record headers without decoding any record: the
// accounting of a file whose channel nobody asked for (every live and slack
// record is still counted, so nothing goes unaccounted).
func (d *chunkDecoder) count() {
	if !d.checkHeader() {
		return
	}
	d.walk(func(_, _ int, recovered bool) {
		if recovered {
			d.stats.RecordsRecovered++
		} else {
			d.stats.Records++
		}
	})
}

// checkHeader checks the chunk magic and records the checksum results; it
// reports false when the slot is no chunk.
func (d *chunkDecoder) checkHeader() bool {
	b := d.data
	if !bytes.Equal(b[:8], chunkMagic) {
		d.stats.fail("bad chunk magic")
		return false
	}
	hok, dok := checkCRCs(b, parseChunkHeader(b))
	d.stats.BadHeaderCRC, d.stats.BadDataCRC = !hok, !dok
	return true
}

// walk calls visit for each live record (up to the header's last record
// offset) and then, unless slack recovery is off, for each record found in
// the slack after them (recovered true).
func (d *chunkDecoder) walk(visit func(off, size int, recovered bool)) {
	b := d.data
	h := parseChunkHeader(b)
	limit := int(min(h.lastRecOff, chunkSize-recordMinSize))
	off, end := chunkHeaderSize, chunkHeaderSize
	for off <= limit {
		size, ok := recordAt(b, off)
		if !ok {
			// Like libevtx, the live walk ends at a broken record header;
			// records after it are found by the slack scan and flagged Recovered.
			d.stats.RecordsFailed++
			d.stats.fail("bad record header")
			break
		}
		visit(off, size, false)
		off += size
		end = off
	}
	if d.noSlack {
		return
	}
	for off = end; ; {
		next := nextRecord(b, off, chunkSize-recordMinSize+1)
		if next < 0 {
			break
		}
		size, _ := recordAt(b, next)
		if (next-end)%4 != 0 || !binXMLStart(b[next+recordHeaderLen:next+size-4]) {
			off = next + 1
			continue
		}
		visit(next, size, true)
		off = next + size
	}
}

// prepare parses the templates of the chunk's template table with the fast
// path. golang-evtx's own parse of the table (setup) is put off until a
// record needs golang-evtx, unless one of these templates is refused: then
// it runs at once, so a broken template table is counted as before.
func (d *chunkDecoder) prepare() {
	if d.noFast {
		d.lib()
		return
	}
	le := binary.LittleEndian
	for i := 0; i < 32; i++ {
		off := int32(le.Uint32(d.data[384+4*i:]))
		if off > 0 && d.template(int(off)) == nil {
			d.lib()
			return
		}
	}
	d.tableOK = true
}

// lib makes sure golang-evtx's chunk is set up. When the fast path has
// parsed the whole template table, golang-evtx's table is left empty:
// golang-evtx then parses a record's template from the record's own
// template instance (the same definition bytes) instead of parsing every
// template of the chunk for one record.
func (d *chunkDecoder) lib() {
	if d.libReady {
		return
	}
	d.libReady = true
	if !d.tableOK {
		d.setup()
		return
	}
	d.c = gevtx.NewChunk()
	d.c.Data = d.data
	d.c.Offset = d.base
	_ = catch(func() error {
		d.c.ParseChunkHeader(d.reader())
		return nil
	})
}

// setup prepares the golang-evtx chunk: header and template table. The string
// table is not parsed: golang-evtx reads element names in place and never
// consults it. A template table failure is counted; templates are then parsed
// where records use them.
func (d *chunkDecoder) setup() {
	d.c = gevtx.NewChunk()
	d.c.Data = d.data
	d.c.Offset = d.base
	err := catch(func() error {
		r := d.reader()
		d.c.ParseChunkHeader(r)
		// Template offsets start at byte 384 of the chunk, after the string offsets.
		if _, err := r.Seek(384, io.SeekStart); err != nil {
			return err
		}
		return d.c.ParseTemplateTable(r)
	})
	if err != nil {
		d.stats.fail("template table: " + reason(err))
		d.c.TemplateTable = make(gevtx.TemplateTable)
	}
}

// record decodes the record at off, counting it as live or recovered.
func (d *chunkDecoder) record(off, size int, recovered bool) {
	if recovered {
		d.stats.RecordsRecovered++
	}
	if !d.filter.all {
		if ch, eid, ok := d.peek(off); ok {
			if d.channels == nil {
				d.channels = map[string]bool{}
			}
			d.channels[ch] = true
			if !d.filter.want(ch, eid) {
				if !recovered {
					d.stats.Records++
				}
				return
			}
		}
	}
	var rec Record
	err := catch(func() error { return d.build(off, &rec) })
	if err != nil {
		if recovered {
			d.stats.RecoveredFailed++
			d.stats.fail(recoveredPrefix + reason(err))
		} else {
			d.stats.RecordsFailed++
			d.stats.fail(reason(err))
		}
		return
	}
	if !recovered {
		d.stats.Records++
	}
	if d.channels == nil {
		d.channels = map[string]bool{}
	}
	d.channels[rec.Channel] = true
	if !d.filter.want(rec.Channel, rec.EventID) {
		return
	}
	rec.Source = d.src
	rec.Chunk = d.index
	rec.Offset = d.base + int64(off)
	rec.Recovered = recovered
	if recovered {
		d.stats.WantedRecovered++
	} else {
		d.stats.Wanted++
	}
	d.records = append(d.records, rec)
}

// recoveredPrefix marks the failure reasons of slack records, which are
// expected (slack is partly overwritten) and do not make a file "partial".
const recoveredPrefix = "recovered: "

// catch runs fn and turns a panic into an error.
func catch(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}

// reason shortens an error into a bounded failure reason.
func reason(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// build parses the BinXML of the record at off with golang-evtx and fills rec
// from the System element and EventData/UserData.
func (d *chunkDecoder) build(off int, rec *Record) error {
	if !d.noFast {
		if ok, err := d.fastBuild(off, rec); ok {
			return err
		}
	}
	d.fallbacks++
	d.lib()
	d.budget.startRecord()
	r := d.reader()
	if _, err := r.Seek(int64(off+recordHeaderLen), io.SeekStart); err != nil {
		return err
	}
	elt, err := gevtx.Parse(r, &d.c, false)
	if err != nil && err != io.EOF {
		return fmt.Errorf("binxml: %w", err)
	}
	frag, ok := elt.(*gevtx.Fragment)
	if !ok {
		return fmt.Errorf("binxml: record is not a fragment (%T)", elt)
	}
	ti, ok := frag.BinXMLElement.(*gevtx.TemplateInstance)
	if !ok {
		return fmt.Errorf("binxml: fragment holds no template instance (%T)", frag.BinXMLElement)
	}
	root := d.tree(ti)
	var event tnode
	for _, c := range (tnode{root, ti}).children() {
		if c.name() == "Event" {
			event = c
			break
		}
	}
	if event.n == nil {
		return fmt.Errorf("binxml: no Event element")
	}
	rec.RecordID = binary.LittleEndian.Uint64(d.data[off+8:])
	rec.Time = filetime(binary.LittleEndian.Uint64(d.data[off+16:]))
	rec.Data = map[string]string{}
	for _, part := range event.children() {
		switch part.name() {
		case "System":
			system(part, rec)
		case "EventData":
			eventData(part, rec.Data)
		case "UserData":
			userData(part, rec.Data)
		}
	}
	d.fallbacksBuilt++
	return nil
}

// tree returns the element tree of a template, cached per template offset.
func (d *chunkDecoder) tree(ti *gevtx.TemplateInstance) *gevtx.Node {
	key := ti.Definition.Header.DataOffset
	if key > 0 {
		if n, ok := d.trees[key]; ok {
			return n
		}
	}
	n, _ := gevtx.NodeTree(ti.Definition.Data.Elements, 0)
	if key > 0 {
		if d.trees == nil {
			d.trees = map[int32]*gevtx.Node{}
		}
		d.trees[key] = &n
	}
	return &n
}

// element is a decoded XML element of either decoding path: golang-evtx's
// tree (tnode) or the fast path's (xnode).
type element[N any] interface {
	name() string
	children() []N
	attr(name string) (string, bool)
	attrTime(name string) (time.Time, bool)
	text() string
}

// system fills the record's System values.
func system[N element[N]](sys N, rec *Record) {
	for _, c := range sys.children() {
		switch c.name() {
		case "Provider":
			rec.Provider, _ = c.attr("Name")
		case "EventID":
			rec.EventID = atoi(c.text())
		case "Version":
			rec.Version = atoi(c.text())
		case "TimeCreated":
			if t, ok := c.attrTime("SystemTime"); ok {
				rec.Time = t
			}
		case "EventRecordID":
			if id, ok := atou(c.text()); ok {
				rec.RecordID = id
			}
		case "Channel":
			rec.Channel = c.text()
		case "Computer":
			rec.Computer = c.text()
		}
	}
}

func eventData[N element[N]](ed N, data map[string]string) {
	for i, c := range ed.children() {
		key := c.name()
		if key == "Data" {
			if name, ok := c.attr("Name"); ok {
				key = name
			} else {
				key = fmt.Sprintf("Data[%d]", i+1)
			}
		}
		put(data, key, c.text())
	}
}

// userData flattens UserData's leaf elements to name -> value.
func userData[N element[N]](n N, data map[string]string) {
	for _, c := range n.children() {
		if len(c.children()) == 0 {
			put(data, c.name(), c.text())
			continue
		}
		userData(c, data)
	}
}

// put stores a value without overwriting an earlier one of the same name.
func put(data map[string]string, key, v string) {
	if _, dup := data[key]; !dup {
		data[key] = v
		return
	}
	for i := 2; ; i++ {
		k := fmt.Sprintf("%s#%d", key, i)
		if _, dup := data[k]; !dup {
			data[k] = v
			return
		}
	}
}

func atoi(s string) int {
	n := 0
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return n
		}
		n = n*10 + int(r-'0')
		if n > 1<<31 {
			return n
		}
	}
	return n
}

func atou(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	var n uint64
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + uint64(r-'0')
	}
	return n, true
}

// filetimeEpoch is 1601-01-01 in Unix seconds.
const filetimeEpoch = -11644473600

// filetime converts a Windows FILETIME (100 ns ticks since 1601) to UTC exactly.
func filetime(ft uint64) time.Time {
	sec := int64(ft / 1e7)
	ns := int64(ft%1e7) * 100
	return time.Unix(sec+filetimeEpoch, ns).UTC()
}
