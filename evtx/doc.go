// Package evtx reads Windows EVTX event log files and streams their records.
//
// It owns input discovery (files, directories, zip archives), chunk and
// record decoding through github.com/0xrawsec/golang-evtx driven chunk by
// chunk, checksum verification, slack-space recovery and per-file accounting.
// It knows nothing about Sysmon or Security semantics beyond the
// (channel, event id) filter its callers pass in.
//
// It must not import any other evtxhunt package.
package evtx
