package evtx

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// EVTX layout constants (see the libevtx "Windows XML Event Log (EVTX)" format notes).
const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512 // header (128) + string offsets (256) + template offsets (128)
	recordHeaderLen = 24  // magic, size, record id, FILETIME
	recordMinSize   = recordHeaderLen + 4
)

var (
	fileMagic   = []byte("ElfFile\x00")
	chunkMagic  = []byte("ElfChnk\x00")
	recordMagic = []byte{0x2a, 0x2a, 0x00, 0x00}
)

// ChunkStats is the accounting of one decoded chunk.
type ChunkStats struct {
	// BadHeaderCRC and BadDataCRC report a chunk header or event records checksum mismatch.
	BadHeaderCRC, BadDataCRC bool
	// Records, RecordsFailed and RecordsRecovered count live, failed and slack records.
	Records, RecordsFailed, RecordsRecovered int
	// RecoveredFailed counts the slack records (included in RecordsRecovered) that could not be decoded.
	RecoveredFailed int
	// Wanted and WantedRecovered count the live and recovered records that matched the filter.
	Wanted, WantedRecovered int
	// Failures counts failed records (and chunk-level problems) by reason.
	Failures map[string]int
}

func (cs *ChunkStats) fail(reason string) {
	if cs.Failures == nil {
		cs.Failures = map[string]int{}
	}
	cs.Failures[reason]++
}

// chunkHeader holds the fields of the 128-byte chunk header that the reader uses.
type chunkHeader struct {
	lastRecOff uint32
	freeOff    uint32
	dataCRC    uint32
	headerCRC  uint32
}

func parseChunkHeader(b []byte) chunkHeader {
	le := binary.LittleEndian
	return chunkHeader{
		lastRecOff: le.Uint32(b[44:]),
		freeOff:    le.Uint32(b[48:]),
		dataCRC:    le.Uint32(b[52:]),
		headerCRC:  le.Uint32(b[124:]),
	}
}

// checkCRCs verifies the chunk header checksum (bytes 0-120 and 128-512) and
// the event records checksum (bytes 512 up to the free space offset).
func checkCRCs(b []byte, h chunkHeader) (headerOK, dataOK bool) {
	crc := crc32.ChecksumIEEE(b[:120])
	crc = crc32.Update(crc, crc32.IEEETable, b[128:chunkHeaderSize])
	headerOK = crc == h.headerCRC
	if h.freeOff >= chunkHeaderSize && h.freeOff <= chunkSize {
		dataOK = crc32.ChecksumIEEE(b[chunkHeaderSize:h.freeOff]) == h.dataCRC
	}
	return headerOK, dataOK
}

// recordAt returns the size of a plausible record at off: magic, a size that
// fits in the chunk and the size copy at its end.
func recordAt(b []byte, off int) (int, bool) {
	if off < chunkHeaderSize || off+recordMinSize > len(b) {
		return 0, false
	}
	if !bytes.Equal(b[off:off+4], recordMagic) {
		return 0, false
	}
	size := int(binary.LittleEndian.Uint32(b[off+4:]))
	if size < recordMinSize || size > len(b)-off {
		return 0, false
	}
	if int(binary.LittleEndian.Uint32(b[off+size-4:])) != size {
		return 0, false
	}
	return size, true
}

// binXMLStart reports whether a slack record's data begins like BinXML: a
// fragment header (0x0f 0x01 0x01 0x00) or a processing instruction (0x0a).
// With the 4-byte alignment, this is libevtx's test for a recoverable record.
func binXMLStart(x []byte) bool {
	return (len(x) >= 5 && x[0] == 0x0a) || (len(x) >= 4 && x[0] == 0x0f && x[1] == 0x01 && x[2] == 0x01 && x[3] == 0x00)
}

// nextRecord finds the next plausible record header at or after from and
// before limit, or returns -1.
func nextRecord(b []byte, from, limit int) int {
	for from < limit {
		i := bytes.Index(b[from:min(limit+4, len(b))], recordMagic)
		if i < 0 {
			return -1
		}
		off := from + i
		if off >= limit {
			return -1
		}
		if _, ok := recordAt(b, off); ok {
			return off
		}
		from = off + 1
	}
	return -1
}
