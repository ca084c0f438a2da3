// Package hunt parses, lints, compiles and runs Cortex XQL queries against
// the xdr_data table built by package normalize, and loads hunt documents.
//
// It may import evtxhunt/normalize and evtxhunt/evtx, never report or cmd.
package hunt
