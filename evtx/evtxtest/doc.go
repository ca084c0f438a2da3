// Package evtxtest provides test helpers for EVTX code: a writer that turns a
// readable list of events into a valid Windows EVTX file (writer*.go,
// binxml*.go), the synthetic scenarios of testdata/scenarios that are turned
// into such events (scenario*.go), and the locator of the shared corpus that
// sits beside the checkout (shared.go).
//
// The writer works in the spirit of net/http/httptest: tests describe events
// as plain Go values (Event, Field) and Write lays them out the way Windows
// does, so that readers run their real code paths. The file header carries
// the ElfFile magic, chunk count, next record identifier, flags and CRC32;
// each 64 KiB chunk carries its header and event-records CRC32s, the name
// string table (64 hash buckets) and the template table (32 buckets). Each
// record is a BinXML fragment holding a template instance: an outer template
// for Event/System, whose last substitution is a nested BinXML fragment with
// a second template instance for EventData/Data. Template definitions and
// names are written inline the first time a chunk needs them and referenced
// by offset afterwards, as Windows does.
//
// Options damages a file on purpose (stale chunk count with the dirty flag,
// bad header or records checksums, truncation, deleted records left in the
// last chunk's slack) so that tests can check how readers account for
// damaged evidence.
//
// Values are written the way the oracles can check them: System values with
// the types Windows uses (UInt8/16/32/64, HexInt64, FILETIME, GUID, SID),
// every EventData value as a UTF-16 string. Strings are written as Go
// encodes them in UTF-16, so invalid UTF-8 becomes U+FFFD.
//
// The package is for tests and test-data generators only. It must not
// import any other evtxhunt package; its external tests import package evtx
// to check the reader against the writer.
package evtxtest
