package report

import "time"

// Report is the whole presentation model of one run: what was read, how well
// it parsed, and what every hunt found. The cmd package fills it from the
// hunt engine's results; every renderer in this package reads only this
// model, so the renderers never depend on how the results were computed.
//
// All times in the model are absolute instants; renderers show them in TZ
// (UTC when TZ is nil) and always say which zone they use. Machine formats
// (JSON, JSONL, CSV) always write UTC.
type Report struct {
	// Title names the case or collection, e.g. "WS-FIN-0231 triage".
	Title string `json:"title"`
	// Generated is when the report was produced.
	Generated time.Time `json:"generated"`
	// Version is the evtxhunt version that produced the report.
	Version string `json:"version"`
	// TZ is the display time zone of the terminal and HTML output; nil means UTC.
	TZ *time.Location `json:"-"`
	// Evidence summarises the input that was read.
	Evidence Evidence `json:"evidence"`
	// Health accounts for everything that could not be read cleanly.
	Health Health `json:"health"`
	// Lint holds query findings that belong to no single hunt (for example a
	// hunt file that could not be loaded); findings of one hunt sit in
	// HuntResult.Lint.
	Lint []LintFinding `json:"lint,omitempty"`
	// Hunts holds one result per hunt that was run, skipped or failed, in
	// the order the report should show them.
	Hunts []HuntResult `json:"hunts"`
}

// Evidence summarises the input of a run.
type Evidence struct {
	// Files is the number of EVTX files (including archive members) examined.
	Files int `json:"files"`
	// Hosts lists the distinct computer names seen in the records, sorted.
	Hosts []string `json:"hosts"`
	// First and Last bound the time span of the records read; both are zero
	// when no record was read.
	First time.Time `json:"first"`
	// Last is the time of the latest record read (see First).
	Last time.Time `json:"last"`
	// Records is the number of event records decoded.
	Records int64 `json:"records"`
	// Processes is the number of process rows stored after normalisation
	// and de-duplication.
	Processes int64 `json:"processes"`
}

// File statuses used in FileHealth.Status.
const (
	FileOK      = "ok"      // every chunk and record decoded
	FilePartial = "partial" // some chunks or records were lost or recovered
	FileFailed  = "failed"  // the file could not be read at all
	FileSkipped = "skipped" // the file was not read on purpose (see Reason)
)

// Health is the parse-health account of a run: nothing that was lost or
// repaired while reading goes unmentioned.
type Health struct {
	// Files lists every input file with its outcome.
	Files []FileHealth `json:"files"`
	// RecordsFailed counts records that could not be decoded, by reason
	// (e.g. "bad checksum", "truncated record").
	RecordsFailed map[string]int64 `json:"records_failed,omitempty"`
	// Recovered counts records recovered from chunk slack space.
	Recovered int64 `json:"recovered"`
	// BadChunks counts chunks whose header or data checksum did not verify.
	BadChunks int64 `json:"bad_chunks"`
	// Duplicates counts records dropped as duplicates (the same record seen
	// twice, or a Sysmon 1 / Security 4688 pair merged into one process row).
	Duplicates int64 `json:"duplicates"`
}

// FileHealth is the outcome of reading one input file.
type FileHealth struct {
	// Path names the file; for an archive member it is "archive.zip!member".
	Path string `json:"path"`
	// Status is one of FileOK, FilePartial, FileFailed, FileSkipped.
	Status string `json:"status"`
	// Reason explains a partial, failed or skipped status.
	Reason string `json:"reason,omitempty"`
	// Records is the number of records decoded from this file.
	Records int64 `json:"records"`
}

// LintFinding is one static finding about a hunt query.
type LintFinding struct {
	// Hunt is the hunt ID (or hunt file) the finding is about.
	Hunt string `json:"hunt,omitempty"`
	// Pos is the "line:col" position in the query, empty when not known.
	Pos string `json:"pos,omitempty"`
	// Severity is "error", "warning" or "info".
	Severity string `json:"severity"`
	// Code is a short stable identifier of the kind of finding.
	Code string `json:"code,omitempty"`
	// Msg is the human-readable finding.
	Msg string `json:"msg"`
}

// Technique is one MITRE ATT&CK technique a hunt maps to.
type Technique struct {
	// Tactic is the tactic, e.g. "TA0002 - Execution".
	Tactic string `json:"tactic,omitempty"`
	// ID is the technique or sub-technique ID, e.g. "T1059.003".
	ID string `json:"id"`
	// Name is the technique name, e.g. "Command and Scripting Interpreter: Windows Command Shell".
	Name string `json:"name,omitempty"`
}

// HuntResult is the outcome of one hunt: its metadata and its matches, or
// why it did not run.
type HuntResult struct {
	// ID is the hunt's stable identifier.
	ID string `json:"id"`
	// Title is the hunt's one-line title.
	Title string `json:"title"`
	// Severity is "critical", "high", "medium", "low" or "informational"
	// (case-insensitive; other values are shown as given and counted as
	// "other" in summaries).
	Severity string `json:"severity"`
	// RiskScore is the hunt's risk score (0–100), 0 when not given.
	RiskScore int `json:"risk_score"`
	// Description explains what the hunt detects; it may hold newlines.
	Description string `json:"description,omitempty"`
	// Attack lists the ATT&CK techniques the hunt maps to.
	Attack []Technique `json:"attack,omitempty"`
	// FalsePositives lists known benign causes of matches.
	FalsePositives []string `json:"false_positives,omitempty"`
	// ResponseActions lists recommended steps when the hunt matches.
	ResponseActions []string `json:"response_actions,omitempty"`
	// Query is the hunt's query text as written.
	Query string `json:"query,omitempty"`
	// Lint holds the static findings about Query.
	Lint []LintFinding `json:"lint,omitempty"`
	// Skipped, when not empty, says why the hunt was not run
	// (e.g. "query language KQL not supported"); Matches is then empty.
	Skipped string `json:"skipped,omitempty"`
	// Error, when not empty, is the error that stopped the hunt; Matches
	// holds whatever was found before it.
	Error string `json:"error,omitempty"`
	// Columns lists the hunt's output columns in query order; they are the
	// keys of Match.Values.
	Columns []string `json:"columns,omitempty"`
	// Matches holds the rows the hunt returned, in the order to show them.
	Matches []Match `json:"matches"`
}

// Match is one row a hunt returned, with the fields every view shows and
// the process ancestry around it.
type Match struct {
	// Time is when the matched event happened.
	Time time.Time `json:"time"`
	// Host is the computer name.
	Host string `json:"host"`
	// User is the user the process ran as, e.g. "CORP\a.novak".
	User string `json:"user"`
	// Process is the matched process's image (name or full path).
	Process string `json:"process"`
	// CommandLine is the matched process's command line.
	CommandLine string `json:"command_line"`
	// Parent is the parent process's image (name or full path).
	Parent string `json:"parent"`
	// CausalityActor is the causality group owner's image: the root of the
	// chain the process belongs to.
	CausalityActor string `json:"causality_actor"`
	// Values maps every column of the hunt's row (HuntResult.Columns) to
	// its value as text.
	Values map[string]string `json:"values,omitempty"`
	// PathSepOnly is true when the row matched only because the engine
	// compared '/' and '\' in paths as the same character (the query was
	// written with the other separator); the reader should double-check it.
	PathSepOnly bool `json:"path_sep_only,omitempty"`
	// Source is the provenance of the matched record: file (or
	// "archive.zip!member"), channel and record id.
	Source string `json:"source"`
	// Tree is the ancestry from the causality actor down to the matched
	// process, plus the process's children; nil when unknown.
	Tree *TreeNode `json:"tree,omitempty"`
}

// TreeNode is one process in a match's ancestry tree.
type TreeNode struct {
	// Name is the image file name, e.g. "cmd.exe".
	Name string `json:"name"`
	// Image is the full image path.
	Image string `json:"image,omitempty"`
	// CommandLine is the process's command line.
	CommandLine string `json:"command_line,omitempty"`
	// User is the user the process ran as.
	User string `json:"user,omitempty"`
	// PID is the operating-system process id.
	PID int64 `json:"pid"`
	// Start is the process creation time; zero when not known.
	Start time.Time `json:"start"`
	// Synthetic is true when no creation record of this process was read
	// and the node was inferred from its children's parent fields.
	Synthetic bool `json:"synthetic,omitempty"`
	// IsMatch marks the matched process.
	IsMatch bool `json:"is_match,omitempty"`
	// CausalityRoot marks the causality actor (the root of the chain).
	CausalityRoot bool `json:"causality_root,omitempty"`
	// Source is the provenance of the node's creation record.
	Source string `json:"source,omitempty"`
	// Children are the processes this one started, oldest first.
	Children []*TreeNode `json:"children,omitempty"`
}
