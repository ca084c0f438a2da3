// Package normalize maps process-creation records (Sysmon Event ID 1 and 5,
// Security 4688 and 4689) to rows of the Cortex XDR xdr_data model, stores
// them in SQLite with ingest accounting, and rebuilds process ancestry and
// causality actors.
//
// FromRecord maps one record to an Event (column name -> value); Open, Insert
// and Ingest manage the database, whose tables, columns and dedup rules are
// described in the README ("The database schema").
//
// It may import evtxhunt/evtx and nothing else of evtxhunt.
package normalize

//go:generate go run ./internal/gencolumns -tsv ../../shared/docs/xdr_data-fields.tsv -out columns_xdr.go
