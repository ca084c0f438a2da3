// Package evtx reads Windows EVTX event log files and streams their records.
//
// It owns input discovery (files, directories, zip archives), chunk and
// record decoding through github.com/0xrawsec/golang-evtx driven chunk by
// chunk, checksum verification, slack-space recovery and per-file accounting.
// It knows nothing about Sysmon or Security semantics beyond the
// (channel, event id) filter its callers pass in.
//
// It must not import any other evtxhunt package.
//
// # Inputs
//
// Scan takes any mix of files, directories (walked recursively in lexical
// order) and zip archives. A file is EVTX when it starts with "ElfFile\x00",
// whatever its name (collections hold ".evtx_data" and renamed copies); any
// other file is reported as skipped with ErrNotEVTX. Zip archives, recognised
// by their magic, are read in place: stored members through ReadAt on the
// archive, compressed ones as a stream, never extracted to disk. Members
// with absolute or ".." paths are refused (ErrZipMember), and so are members
// larger than Options.MaxZipMember or, above 16 MiB, with a compression ratio
// beyond Options.MaxZipRatio (ErrZipBomb). Zips inside zips are not opened.
//
// # Chunks and records
//
// Every 64 KiB slot after the 4 KiB file header is read with ReadAt (never a
// whole file) and decoded when it carries the "ElfChnk\x00" magic; the
// header's chunk count is recorded but not trusted. The chunk header CRC32
// (bytes 0-120 and 128-512) and the event records CRC32 (512 to the free
// space offset) are verified; a mismatch is counted in FileStats.ChunksBad and
// the chunk is decoded anyway. Live records are walked from offset 512 to the
// header's last record offset; like libevtx, the walk stops at the first
// broken record header. The rest of the chunk is then scanned for record
// headers with a valid size and size copy: those are slack records, delivered
// with Recovered set and counted apart (RecordsRecovered, WantedRecovered),
// never as live records.
//
// Records are decoded with golang-evtx's chunk-level API only (NewChunk,
// ParseChunkHeader, ParseTemplateTable, Parse of each record's BinXML over a
// reader on the chunk), never with its Events/FastEvents helpers, whose
// goroutines panic out of reach of any recover. Its string table is not
// parsed: golang-evtx reads element names in place and never consults it.
// Each record is built from the template tree by this package (see render.go):
// GUIDs are written with braces, hex integers as 0x%x, and times come from the
// raw FILETIME, so Record.Time is exact to 100 ns. A panic or error in one
// record is recovered and counted by reason in FileStats.Failures; the chunk
// goes on. All reads golang-evtx makes go through a byte budget per record
// and per chunk (budget.go), so crafted BinXML cannot make one chunk cost
// more than a fraction of a second. golang-evtx's logger is silenced; it
// writes through the standard library's default logger, whose output Scan
// therefore discards (evtxhunt itself never logs through it).
//
// # Filtering
//
// With Options.Want set, each record's channel and event id are read before
// it is built: the record's template (parsed once per chunk) says where the
// two values are, and only those are read from the raw substitution array.
// Unwanted records are counted but never built. A file is skipped (status
// "skipped", ErrChannelNotWanted) once its first chunk with records holds no
// record of a wanted channel; deciding on a whole chunk rather than on the
// first record keeps exported logs that mix channels. The rest of a skipped
// file is still read, but only its record headers are walked: its live and
// slack records are counted (its accounting equals libevtx's), none is built.
//
// # Parallelism, ordering and memory
//
// One producer goroutine walks the inputs, hashes each file (SHA-256,
// streamed) and reads its chunk slots; Options.Workers goroutines (default
// GOMAXPROCS) decode chunks; the caller's goroutine receives the results in
// order and calls the Handler, so callbacks see files in walk order and
// records in chunk and record order, whatever the number of workers. The
// queue between the stages holds at most 2×Workers+2 chunks, which bounds
// memory whatever the input sizes. golang-evtx globals (ModeCarving, Debug)
// are never changed.
package evtx
