package evtxtest

import (
	"encoding/binary"
	"hash/crc32"
)

// chunk is one 64 KiB chunk being filled.
type chunkBuf struct {
	buf       []byte
	free      int // offset of the next record
	liveEnd   int // end of the last live record
	names     map[string]uint32
	tmpls     map[string]uint32
	strHeads  [64]uint32
	tmplHeads [32]uint32
	first     uint64 // identifier of the first live record
	last      uint64 // identifier of the last live record
	lastOff   uint32 // offset of the last live record
	n         int    // live records
}

func newChunk() *chunkBuf {
	return &chunkBuf{
		buf:     make([]byte, chunkSize),
		free:    chunkDataStart,
		liveEnd: chunkDataStart,
		names:   map[string]uint32{},
		tmpls:   map[string]uint32{},
	}
}

// commit copies rec to the chunk's free space and adds the names and
// templates it defined. Live records also enter the chunk's string and
// template tables; slack records do not, as they are not part of the chunk.
func (c *chunkBuf) commit(rec []byte, t *txn, id uint64, live bool) {
	off := c.free
	copy(c.buf[off:], rec)
	c.free += len(rec)
	for s, o := range t.names {
		c.names[s] = o
	}
	for k, o := range t.tmpls {
		c.tmpls[k] = o
	}
	if !live {
		return
	}
	for _, o := range t.newNames {
		b := binary.LittleEndian.Uint16(c.buf[o+4:]) % 64
		binary.LittleEndian.PutUint32(c.buf[o:], c.strHeads[b])
		c.strHeads[b] = o
	}
	for _, o := range t.newTmpls {
		b := binary.LittleEndian.Uint32(c.buf[o+4:]) % 32
		binary.LittleEndian.PutUint32(c.buf[o:], c.tmplHeads[b])
		c.tmplHeads[b] = o
	}
	if c.n == 0 {
		c.first = id
	}
	c.last = id
	c.lastOff = uint32(off)
	c.liveEnd = c.free
	c.n++
}

// finish writes the chunk header and tables and returns the chunk bytes.
func (c *chunkBuf) finish(badHeaderCRC, badDataCRC bool) []byte {
	b := c.buf
	le := binary.LittleEndian
	copy(b[0:8], "ElfChnk\x00")
	le.PutUint64(b[0x08:], c.first) // first event record number
	le.PutUint64(b[0x10:], c.last)  // last event record number
	le.PutUint64(b[0x18:], c.first) // first event record identifier
	le.PutUint64(b[0x20:], c.last)  // last event record identifier
	le.PutUint32(b[0x28:], 0x80)    // header size
	le.PutUint32(b[0x2c:], c.lastOff)
	le.PutUint32(b[0x30:], uint32(c.liveEnd)) // free space offset
	for i, o := range c.strHeads {
		le.PutUint32(b[0x80+4*i:], o)
	}
	for i, o := range c.tmplHeads {
		le.PutUint32(b[0x180+4*i:], o)
	}
	dataCRC := crc32.ChecksumIEEE(b[chunkDataStart:c.liveEnd])
	if badDataCRC {
		dataCRC = ^dataCRC
	}
	le.PutUint32(b[0x34:], dataCRC)
	h := crc32.NewIEEE()
	h.Write(b[:0x78])
	h.Write(b[0x80:chunkDataStart])
	hdrCRC := h.Sum32()
	if badHeaderCRC {
		hdrCRC = ^hdrCRC
	}
	le.PutUint32(b[0x7c:], hdrCRC)
	return b
}

// fileHeader returns the 4 KiB file header block.
func fileHeader(chunks []*chunkBuf, nextID uint64, opt Options) []byte {
	b := make([]byte, fileHeaderBlock)
	le := binary.LittleEndian
	n := len(chunks)
	var flags uint32
	if opt.StaleChunkCount {
		flags |= fileFlagDirty
		if n > 1 {
			n = 1
			nextID = chunks[0].last + 1
		}
	}
	copy(b[0:8], "ElfFile\x00")
	le.PutUint64(b[0x08:], 0) // first chunk number
	last := uint64(0)
	if n > 0 {
		last = uint64(n - 1)
	}
	le.PutUint64(b[0x10:], last)
	le.PutUint64(b[0x18:], nextID)
	le.PutUint32(b[0x20:], fileHeaderSize)
	le.PutUint16(b[0x24:], 2) // minor version
	le.PutUint16(b[0x26:], 3) // major version
	le.PutUint16(b[0x28:], fileHeaderBlock)
	le.PutUint16(b[0x2a:], uint16(n))
	le.PutUint32(b[0x78:], flags)
	le.PutUint32(b[0x7c:], crc32.ChecksumIEEE(b[:0x78]))
	return b
}
