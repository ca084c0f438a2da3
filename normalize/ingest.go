package normalize

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"evtxhunt/evtx"
)

// DefaultBatchSize is the number of rows Ingest writes per transaction.
const DefaultBatchSize = 5000

// IngestOptions tunes Ingest.
type IngestOptions struct {
	// Args and Version are recorded in ingest_runs.
	Args    []string
	Version string
	// Progress, if set, is called (from the ingesting goroutine) as evidence
	// bytes are processed and after each file.
	Progress func(IngestProgress)
	// From and To bound _time (inclusive); zero means unbounded. Records
	// outside are counted (OutOfRange), not stored.
	From, To time.Time
	// Map tunes the record mapping (_vendor, _product). Its InsertTime is
	// replaced by the run's start time.
	Map MapOptions
	// BatchSize is the number of rows per transaction; 0 means DefaultBatchSize.
	BatchSize int
	// Workers is the reader's number of chunk decoders; 0 means one per CPU.
	Workers int
	// Ancestry tunes the ancestry rebuild that follows the ingest.
	Ancestry AncestryOptions
	// SkipAncestry leaves out the passes that run after the rows are stored
	// (the ancestry rebuild); the rows then hold only what their own record says.
	SkipAncestry bool
}

// IngestProgress is a snapshot of a running ingest.
type IngestProgress struct {
	// File is the file being read (path, plus "!member" inside a zip).
	File string
	// Files is the number of files finished.
	Files int
	// Bytes is the number of evidence bytes processed.
	Bytes int64
	// ProcessRecords is the number of process records delivered by the reader.
	ProcessRecords int64
	// ProcessRows is the number of new xdr_data rows.
	ProcessRows int64
}

// IngestSummary is the accounting of one Ingest run. Records, Failed and
// Recovered are the reader's counts over every record of every file;
// ProcessRecords = ProcessRows + Duplicates + OutOfRange + MapErrors.
type IngestSummary struct {
	// RunID is the ingest_runs row of this run.
	RunID int64
	// Files is the number of input files seen (EVTX or not).
	Files int
	// FilesSkipped is the number of files not ingested: skipped or failed by
	// the reader, or already ingested (FilesDuplicate).
	FilesSkipped int
	// SkippedByReason counts FilesSkipped by a short reason.
	SkippedByReason map[string]int
	// FilesDuplicate is the number of files whose SHA-256 was already fully
	// ingested (this run or an earlier one); their records were not mapped again.
	FilesDuplicate int
	// FilesPartial is the number of files with some bad chunks or records.
	FilesPartial int
	// Bytes is the evidence size read.
	Bytes int64
	// Records is the number of live records decoded, of any event type.
	Records int64
	// Failed is the number of live records that could not be decoded.
	Failed int64
	// Recovered is the number of records recovered from chunk slack.
	Recovered int64
	// ProcessRecords is the number of Sysmon 1/5 and Security 4688/4689
	// records (live and recovered) delivered by the reader.
	ProcessRecords int64
	// ProcessRows is the number of xdr_data rows added.
	ProcessRows int64
	// RecoveredRows is the number of those rows that came from slack.
	RecoveredRows int64
	// Duplicates is the number of process records already stored (another
	// copy of the same record, or a file ingested before).
	Duplicates int64
	// NewSources is the number of stored rows that gained a new source in x_sources.
	NewSources int64
	// OutOfRange is the number of process records outside From/To.
	OutOfRange int64
	// MapErrors is the number of process records that could not be mapped.
	MapErrors int64
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Ancestry is the accounting of the ancestry rebuild that followed.
	Ancestry AncestryStats
}

// fileAcc accumulates the per-file counts Ingest adds to the reader's.
type fileAcc struct {
	src           evtx.Source
	dupOf         string // first path of an identical, already ingested file
	process       int64
	inserted      int64
	recoveredRows int64
	duplicates    int64
	newSources    int64
	outOfRange    int64
	mapErrors     int64
	failures      map[string]int
	batch         []Event
}

// Ingest reads inputs (files, directories, zip archives) with the evtx
// reader, maps the process records and stores them, recording the run in
// ingest_runs and every file in ingest_files. A file's last rows and its
// ingest_files row are committed together, so after a crash a re-run
// re-reads exactly the files without a row and adds only what is missing.
func (s *Store) Ingest(ctx context.Context, inputs []string, opt IngestOptions) (IngestSummary, error) {
	started := time.Now()
	sum := IngestSummary{SkippedByReason: map[string]int{}}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	mopt := opt.Map
	mopt.InsertTime = started
	args, _ := json.Marshal(append([]string{}, opt.Args...))
	res, err := s.db.ExecContext(ctx, "INSERT INTO ingest_runs (started, version, arguments) VALUES (?, ?, ?)",
		started.UnixMilli(), opt.Version, string(args))
	if err != nil {
		return sum, fmt.Errorf("normalize: record ingest run: %w", err)
	}
	if sum.RunID, err = res.LastInsertId(); err != nil {
		return sum, fmt.Errorf("normalize: record ingest run: %w", err)
	}
	var fromMs, toMs int64
	if !opt.From.IsZero() {
		fromMs = opt.From.UnixMilli()
	}
	if !opt.To.IsZero() {
		toMs = opt.To.UnixMilli()
	}

	var cur *fileAcc
	var prog IngestProgress
	report := func() {
		if opt.Progress != nil {
			opt.Progress(prog)
		}
	}
	flush := func(final *evtx.FileStats) error {
		return s.inTx(ctx, func(tx *sql.Tx) error {
			if len(cur.batch) > 0 {
				r, err := s.insertTx(ctx, tx, cur.batch)
				if err != nil {
					return err
				}
				cur.inserted += r.Inserted
				cur.recoveredRows += r.InsertedRecovered
				cur.duplicates += r.Duplicates
				cur.newSources += r.NewSources
				cur.batch = cur.batch[:0]
			}
			if final == nil {
				return nil
			}
			if cur.dupOf != "" {
				n, err := s.addSourceToRows(ctx, tx, final.Source)
				if err != nil {
					return err
				}
				cur.newSources += n
			}
			return s.recordFile(ctx, tx, sum.RunID, final, cur)
		})
	}

	h := evtx.Handler{
		FileStart: func(src evtx.Source, size int64) error {
			cur = &fileAcc{src: src, failures: map[string]int{}}
			prog.File = displayName(src)
			if src.SHA256 != "" {
				first, err := s.ingestedCopy(ctx, src.SHA256)
				if err != nil {
					return err
				}
				cur.dupOf = first
			}
			report()
			return nil
		},
		Record: func(r *evtx.Record) error {
			if cur == nil || (r.Source != nil && *r.Source != cur.src) {
				src := evtx.Source{}
				if r.Source != nil {
					src = *r.Source
				}
				cur = &fileAcc{src: src, failures: map[string]int{}}
			}
			cur.process++
			prog.ProcessRecords++
			if cur.dupOf != "" {
				cur.duplicates++
				return nil
			}
			ev, err := FromRecord(r, mopt)
			if err != nil {
				cur.mapErrors++
				key := "map: other"
				if errors.Is(err, ErrNotProcessEvent) {
					key = "map: not a process event"
				}
				cur.failures[key]++
				return nil
			}
			if t, ok := ev.Int("_time"); ok && ((fromMs != 0 && t < fromMs) || (toMs != 0 && t > toMs)) {
				cur.outOfRange++
				return nil
			}
			cur.batch = append(cur.batch, ev)
			if len(cur.batch) >= opt.BatchSize {
				before := cur.inserted
				if err := flush(nil); err != nil {
					return err
				}
				prog.ProcessRows += cur.inserted - before
				report()
			}
			return nil
		},
		FileDone: func(st evtx.FileStats) error {
			if cur == nil || st.Source != cur.src {
				cur = &fileAcc{src: st.Source, failures: map[string]int{}}
			}
			before := cur.inserted
			if err := flush(&st); err != nil {
				return err
			}
			prog.ProcessRows += cur.inserted - before
			prog.Files++
			sum.addFile(&st, cur)
			cur = nil
			report()
			return nil
		},
		Progress: func(n int64) {
			prog.Bytes += n
			report()
		},
	}
	scanErr := evtx.Scan(ctx, inputs, evtx.Options{Want: Wanted, Workers: opt.Workers}, h)
	status := "done"
	if scanErr == nil && !opt.SkipAncestry {
		// Call site for the passes that need every row (ancestry).
		scanErr = s.afterIngest(ctx, opt, &sum)
	}
	if scanErr == nil {
		scanErr = s.Analyze(ctx)
	}
	if scanErr != nil {
		status = "failed"
		if ctx.Err() != nil {
			status = "cancelled"
		}
	}
	sum.Elapsed = time.Since(started)
	js, _ := json.Marshal(sum)
	// The run row is closed even when ctx is cancelled.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(endCtx, "UPDATE ingest_runs SET ended = ?, status = ?, summary = ? WHERE run_id = ?",
		time.Now().UnixMilli(), status, string(js), sum.RunID); err != nil && scanErr == nil {
		scanErr = fmt.Errorf("normalize: close ingest run: %w", err)
	}
	if scanErr != nil {
		return sum, fmt.Errorf("normalize: ingest: %w", scanErr)
	}
	return sum, nil
}

// Analyze refreshes SQLite's statistics of xdr_data and its indices
// (sqlite_stat1), so that the query planner knows how selective each index
// is: without them it prefers the event-type index, which selects every row
// of a process-only database, over the image-name index. It reads every
// index once (about 1 s per million rows) and runs at the end of Ingest.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "ANALYZE xdr_data"); err != nil {
		return fmt.Errorf("normalize: analyze xdr_data: %w", err)
	}
	return nil
}

// afterIngest runs the passes that need every row of the run: the ancestry
// rebuild, which fills the actor, causality-actor and OS-actor columns (a
// later ingest that supplies a missing parent fixes its descendants).
func (s *Store) afterIngest(ctx context.Context, opt IngestOptions, sum *IngestSummary) error {
	stats, err := s.RebuildAncestry(ctx, opt.Ancestry)
	sum.Ancestry = stats
	return err
}

// addFile adds one finished file to the summary.
func (sum *IngestSummary) addFile(st *evtx.FileStats, acc *fileAcc) {
	sum.Files++
	sum.Bytes += st.Bytes
	sum.Records += int64(st.Records)
	sum.Failed += int64(st.RecordsFailed)
	sum.Recovered += int64(st.RecordsRecovered)
	sum.ProcessRecords += acc.process
	sum.ProcessRows += acc.inserted
	sum.RecoveredRows += acc.recoveredRows
	sum.Duplicates += acc.duplicates
	sum.NewSources += acc.newSources
	sum.OutOfRange += acc.outOfRange
	sum.MapErrors += acc.mapErrors
	switch {
	case st.Status == evtx.StatusSkipped || st.Status == evtx.StatusFailed:
		sum.FilesSkipped++
		sum.SkippedByReason[SkipReason(st)]++
	case acc.dupOf != "":
		sum.FilesSkipped++
		sum.FilesDuplicate++
		sum.SkippedByReason["duplicate (already ingested)"]++
	case st.Status == evtx.StatusPartial:
		sum.FilesPartial++
	}
}

// SkipReason returns a short, stable reason for a skipped or failed file,
// suitable for grouping in a summary table.
func SkipReason(st *evtx.FileStats) string {
	switch {
	case errors.Is(st.Err, evtx.ErrNotEVTX):
		return "not an EVTX file"
	case errors.Is(st.Err, evtx.ErrChannelNotWanted):
		return "no Sysmon/Security records"
	case errors.Is(st.Err, evtx.ErrZipMember):
		return "unsafe zip member path"
	case errors.Is(st.Err, evtx.ErrZipBomb):
		return "zip member over size/ratio cap"
	case errors.Is(st.Err, evtx.ErrTruncated):
		return "truncated"
	case st.Status == evtx.StatusSkipped:
		return "skipped"
	}
	return "failed to read"
}

// displayName names a source for progress output.
func displayName(src evtx.Source) string {
	if src.Member != "" {
		return src.Path + "!" + src.Member
	}
	return src.Path
}

// ingestedCopy returns the path of a file with this SHA-256 that an earlier
// file of this or another run ingested completely (no record left out by a
// time window), or "".
func (s *Store) ingestedCopy(ctx context.Context, sha string) (string, error) {
	var path, member string
	err := s.db.QueryRowContext(ctx, `SELECT path, member FROM ingest_files
		WHERE sha256 = ? AND status IN ('ok', 'partial') AND out_of_range = 0
		ORDER BY file_id LIMIT 1`, sha).Scan(&path, &member)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("normalize: look up sha256 %s: %w", sha, err)
	}
	return displayName(evtx.Source{Path: path, Member: member}), nil
}

// addSourceToRows records src (a byte-identical copy of an ingested file) in
// the x_sources of every row read from that content, and returns the number
// of rows that gained the source.
func (s *Store) addSourceToRows(ctx context.Context, tx *sql.Tx, src evtx.Source) (int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT rowid, x_sources FROM xdr_data WHERE instr(x_sources, ?) > 0", src.SHA256)
	if err != nil {
		return 0, fmt.Errorf("normalize: find rows of %s: %w", src.SHA256, err)
	}
	type upd struct {
		rowid int64
		js    string
	}
	var updates []upd
	for rows.Next() {
		var id int64
		var js string
		if err := rows.Scan(&id, &js); err != nil {
			rows.Close()
			return 0, fmt.Errorf("normalize: find rows of %s: %w", src.SHA256, err)
		}
		refs, err := ParseSources(js)
		if err != nil {
			continue
		}
		var add []SourceRef
		for _, r := range refs {
			if r.SHA256 == src.SHA256 {
				c := r
				c.Path, c.Member = src.Path, src.Member
				add = append(add, c)
			}
		}
		addJS := sourcesJSON(add)
		if merged, ok := mergeSources(js, addJS); ok {
			updates = append(updates, upd{id, merged})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("normalize: find rows of %s: %w", src.SHA256, err)
	}
	for _, u := range updates {
		if _, err := tx.ExecContext(ctx, "UPDATE xdr_data SET x_sources = ? WHERE rowid = ?", u.js, u.rowid); err != nil {
			return 0, fmt.Errorf("normalize: add source to row %d: %w", u.rowid, err)
		}
	}
	return int64(len(updates)), nil
}

// recordFile writes the ingest_files row of a finished file.
func (s *Store) recordFile(ctx context.Context, tx *sql.Tx, runID int64, st *evtx.FileStats, acc *fileAcc) error {
	failures := map[string]int{}
	for k, v := range st.Failures {
		failures[k] += v
	}
	for k, v := range acc.failures {
		failures[k] += v
	}
	fj, _ := json.Marshal(failures)
	status, reason := st.Status, st.Reason
	if acc.dupOf != "" && (status == evtx.StatusOK || status == evtx.StatusPartial) {
		status, reason = "duplicate", "same SHA-256 as "+acc.dupOf+" (already ingested)"
	}
	if status == "" {
		status = evtx.StatusOK
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ingest_files (run_id, path, member, sha256, bytes,
		header_chunks, chunks, chunks_bad, records, records_failed, records_recovered, wanted, wanted_recovered,
		process_records, rows_inserted, rows_duplicate, out_of_range, map_errors, status, reason, failures, ingested)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		runID, st.Path, st.Member, st.SHA256, st.Bytes,
		st.HeaderChunks, st.Chunks, st.ChunksBad, st.Records, st.RecordsFailed, st.RecordsRecovered, st.Wanted, st.WantedRecovered,
		acc.process, acc.inserted, acc.duplicates, acc.outOfRange, acc.mapErrors, status, strings.TrimSpace(reason), string(fj),
		time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("normalize: record file %s: %w", displayName(st.Source), err)
	}
	return nil
}
