// Package evtxtest provides test helpers for EVTX code: a writer that turns a
// readable list of events into a valid Windows EVTX file, and the locator of
// the shared corpus that sits beside the checkout.
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
// The package is for tests only: it may import the standard library but no
// other evtxhunt package apart from what its own tests need.
package evtxtest
