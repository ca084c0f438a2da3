package evtx

import "time"

// Source identifies the evidence file a record was read from.
type Source struct {
	// Path is the file on disk as given by the caller (or found by walking a directory).
	Path string
	// Member is the path of the file inside a zip archive, empty for plain files.
	Member string
	// SHA256 is the lower-case hex SHA-256 of the EVTX bytes (the zip member's bytes for zip members).
	SHA256 string
}

// Record is one event record decoded from an EVTX chunk.
type Record struct {
	// Source is shared by every record of one file; callers must not modify it.
	Source *Source
	// Chunk is the index of the 64 KiB chunk slot after the file header (0-based).
	Chunk int
	// Offset is the record's byte offset in the file.
	Offset int64
	// RecordID is System/EventRecordID.
	RecordID uint64
	// Time is System/TimeCreated/@SystemTime in UTC with 100 ns precision.
	Time time.Time
	// Channel, Provider and Computer come from the System element.
	Channel, Provider, Computer string
	// EventID and Version come from the System element.
	EventID, Version int
	// Data holds EventData/Data (or UserData's leaf elements) as name -> value,
	// exactly as Windows wrote it.
	Data map[string]string
	// Recovered is true for a record found in a chunk's slack space (deleted evidence).
	Recovered bool
}

// FileStats is the accounting of one input file: every chunk and record is
// counted as parsed, recovered or failed.
type FileStats struct {
	Source
	// Bytes is the size of the file (or zip member).
	Bytes int64
	// Chunks is the number of chunk slots with the ElfChnk magic.
	Chunks int
	// ChunksBad is the number of chunks with a bad header or records checksum.
	ChunksBad int
	// HeaderChunks is the chunk count claimed by the file header.
	HeaderChunks int
	// Records is the number of live records decoded.
	Records int
	// RecordsFailed is the number of live records that could not be decoded.
	RecordsFailed int
	// RecordsRecovered is the number of record headers found in chunk slack
	// (libevtx's "recovered" count); RecoveredFailed of them could not be decoded.
	RecordsRecovered, RecoveredFailed int
	// Wanted is the number of live records that matched the caller's filter.
	Wanted int
	// WantedRecovered is the number of recovered records that matched the filter.
	WantedRecovered int
	// Failures counts failed records and chunks by reason; reasons of slack
	// records start with "recovered: ".
	Failures map[string]int
	// SlotsNotChunk is the number of non-empty 64 KiB slots without the ElfChnk magic.
	SlotsNotChunk int
	// Status is "ok", "partial" (some live records or chunks failed; slack
	// records that cannot be decoded do not count), "skipped" or "failed".
	Status string
	// Reason explains a skipped or failed status.
	Reason string
	// Err is the error behind a skipped or failed status (ErrNotEVTX, ErrZipMember, ...),
	// for errors.Is; nil for "ok" and "partial".
	Err error
}
