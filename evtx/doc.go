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
// Records are built by this package's own BinXML decoder (binxml.go,
// fastbuild.go): a record's template is parsed once per chunk into a small
// element tree, and the record's substitution values are read straight from
// its raw substitution array and rendered by type (GUIDs with braces, hex
// integers as 0x%x, FILETIMEs exact to 100 ns), nested BinXML values
// (EventData in a template of its own) included. This path reproduces,
// value for value, what building the record from golang-evtx's tree gives
// (TestFastPathMatchesLibrary compares both on every record of the corpus).
// Any record it does not handle (a template it refuses, an unknown value
// type, a value whose size does not match its type) is decoded with
// golang-evtx as before: its chunk-level API only (NewChunk,
// ParseChunkHeader, ParseTemplateTable, Parse of each record's BinXML over a
// reader on the chunk), never its Events/FastEvents helpers, whose
// goroutines panic out of reach of any recover. golang-evtx's own template
// table is parsed only when this package refuses one of the table's
// templates (so a broken table is still counted); otherwise golang-evtx
// parses a fallback record's template from the record itself. Its string
// table is not parsed: element names are read in place. Each record is built from the template tree by this package
// (see render.go for the golang-evtx path). A panic or error in one
// record is recovered and counted by reason in FileStats.Failures; the chunk
// goes on. All reads golang-evtx makes go through a byte budget per record
// and per chunk (budget.go), and the templates this package parses are
// charged to the same chunk budget (and the building of one record is
// bounded by maxRecordWork), so crafted BinXML cannot make one chunk
// cost more than a fraction of a second. golang-evtx's logger is silenced; it
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
