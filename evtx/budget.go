package evtx

import (
	"bytes"
	"errors"
)

// Work budgets. golang-evtx reads BinXML through many tiny reflective reads
// and follows offsets found in the data (element names are re-read at every
// reference), so a crafted chunk can make it read megabytes to decode a few
// records. Every read it makes goes through a budgetReader; when a budget is
// spent the read panics with errBudget, which the record's recover turns into
// a counted failure. The budgets are far above what real chunks need
// (the corpus tests fail if a real record ever hits them).
const (
	recordBudget = 1 << 20 // bytes golang-evtx may read to decode one record (corpus max: 0.3 MiB)
	chunkBudget  = 4 << 20 // bytes it may read for one chunk, templates included (corpus max: 1.4 MiB)
)

var errBudget = errors.New("work budget exceeded")

// budget tracks the bytes read for the current chunk and record.
type budget struct {
	chunk, record int64
	maxRecord     int64 // largest record spend seen (for tests)
	chunkUsed     int64
}

// budgetReader is a bytes.Reader over the chunk that charges every read.
type budgetReader struct {
	*bytes.Reader
	b *budget
}

func (d *chunkDecoder) reader() *budgetReader {
	return &budgetReader{Reader: bytes.NewReader(d.data), b: &d.budget}
}

func (r *budgetReader) Read(p []byte) (int, error) {
	n := int64(len(p))
	r.b.chunk -= n
	r.b.record -= n
	r.b.chunkUsed += n
	if r.b.chunk < 0 || r.b.record < 0 {
		panic(errBudget)
	}
	return r.Reader.Read(p)
}

// startRecord resets the per-record budget.
func (b *budget) startRecord() {
	if used := recordBudget - b.record; used > b.maxRecord {
		b.maxRecord = used
	}
	b.record = recordBudget
}
