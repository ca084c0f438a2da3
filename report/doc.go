// Package report renders hunt results as terminal tables, machine formats
// (JSON, JSONL, CSV) and a self-contained HTML report.
//
// It may import evtxhunt/hunt, evtxhunt/normalize and evtxhunt/evtx, never cmd.
//
// The renderers read one presentation model, Report (model.go), which cmd
// fills from the hunt engine's results; no renderer queries anything.
//
//   - Terminal (terminal.go): per hunt a header (ID, title, severity, risk
//     score, match count, lint findings) and a tablewriter table of matches
//     fitted to TerminalOptions.Width (Wide shows every cell whole), then a
//     closing summary. Every evidence string goes through Neutralize
//     (neutralize.go), so control characters, ANSI/OSC sequences, C1
//     controls, line separators and bidi/invisible characters print as
//     visible escapes and never reach the terminal.
//   - JSON, JSONL, CSV (machine.go): the whole report; one Timesketch event
//     per match; one Timeline Explorer row per match. Always UTC.
//   - HTML (html.go, html/report.{tmpl,css,js}): one offline file pinned by a
//     Content-Security-Policy, html/template escaping for every string, the
//     ancestry tree of each match as nested <details>, a DOM-text filter.
//
// Times are instants; Terminal and HTML show them in Report.TZ (UTC when
// nil) and say which zone they use.
package report
