// Package report renders hunt results as terminal tables, machine formats
// (JSON, JSONL, CSV) and a self-contained HTML report.
//
// It may import evtxhunt/hunt, evtxhunt/normalize and evtxhunt/evtx, never cmd.
package report
