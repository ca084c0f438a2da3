package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

//go:embed html/report.tmpl html/report.css html/report.js
var htmlFiles embed.FS

var (
	htmlCSS  = mustRead("html/report.css")
	htmlJS   = mustRead("html/report.js")
	htmlTmpl = template.Must(template.New("report.tmpl").Funcs(template.FuncMap{
		"segs":      func(s string) []segment { return segments(s, false) },
		"segsLines": func(s string) []segment { return segments(s, true) },
		"neut":      Neutralize,
	}).ParseFS(htmlFiles, "html/report.tmpl"))
)

// HTMLContentSecurityPolicy is the policy the report's meta tag sets: no
// network access of any kind (default-src 'none'), and only the report's
// own inline style sheet and script, pinned by their SHA-256 hashes.
var HTMLContentSecurityPolicy = "default-src 'none'; style-src " + cspHash(htmlCSS) +
	"; script-src " + cspHash(htmlJS) + "; img-src 'none'; base-uri 'none'; form-action 'none'"

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// HTML writes the report as one self-contained HTML file that is safe to
// open and to pass on:
//
//   - nothing is loaded from the network: CSS and a little JS are inline,
//     pinned by a strict Content-Security-Policy (HTMLContentSecurityPolicy);
//     the only URLs are plain links to attack.mitre.org technique pages,
//     with rel="noopener noreferrer";
//   - every evidence string goes through html/template escaping, and
//     control, bidirectional and invisible characters are shown as styled
//     escapes (as Neutralize writes them); the script reads no data, it
//     filters matches by their DOM text;
//   - it reads without JS (the filter box stays hidden, trees are open
//     <details>), and prints with every section expanded and no filter box.
//
// The page holds a summary (evidence, parse health, lint), then per hunt its
// metadata, description, ATT&CK links, false positives, response actions,
// query and lint, and per match a row, its provenance, its ancestry tree
// (causality actor down to the process and its children, the match
// highlighted) and all its columns. After the script ran, <body> carries
// data-js="ready", data-total (all matches) and data-visible (matches the
// filter shows); each hunt section carries data-count and data-visible.
// Opening the file with "#q=text" pre-fills the filter.
func HTML(w io.Writer, r *Report) error {
	if err := htmlTmpl.Execute(w, newHTMLView(r)); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// htmlView is what the template reads: the report with times formatted,
// counts summed and maps ordered.
type htmlView struct {
	Title, Version, Zone, CSP          string
	Generated, GeneratedISO            string
	CSS                                template.CSS
	JS                                 template.JS
	Summary                            summary
	MatchFirst, MatchFirstISO          string
	MatchLast, MatchLastISO            string
	Evidence                           Evidence
	EvidenceFirst, EvidenceFirstISO    string
	EvidenceLast, EvidenceLastISO      string
	Records, Processes                 string
	FilesOK, FilesPartial, FilesFailed int
	FilesSkipped                       int
	RecordsFailed                      string
	FailedReasons                      []keyValue
	Recovered, BadChunks, Duplicates   string
	Files                              []htmlFile
	Lint                               []htmlLint
	Hunts                              []htmlHunt
}

type keyValue struct{ Key, Value string }

type htmlFile struct {
	FileHealth
	StatusClass, RecordsText string
}

type htmlLint struct {
	LintFinding
	SevClass string
}

type htmlTechnique struct {
	Technique
	URL string
}

type htmlHunt struct {
	HuntResult
	Anchor, SevClass, Status string
	Attack                   []htmlTechnique
	Lint                     []htmlLint
	PathSepOnly              int
	Matches                  []htmlMatch
}

type htmlMatch struct {
	Match
	Anchor, Time, TimeISO string
	Values                []keyValue
	Tree                  *htmlNode
	TreeSize              int
}

type htmlNode struct {
	TreeNode
	Start, StartISO string
	Children        []*htmlNode
}

func newHTMLView(r *Report) *htmlView {
	loc := r.displayZone()
	s := summarize(r)
	v := &htmlView{
		Title: r.Title, Version: r.Version, Zone: zoneName(loc), CSP: HTMLContentSecurityPolicy,
		Generated: displayTime(r.Generated, time.UTC), GeneratedISO: rfc3339(r.Generated),
		CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS),
		Summary:    s,
		MatchFirst: displayTime(s.First, loc), MatchFirstISO: rfc3339(s.First),
		MatchLast: displayTime(s.Last, loc), MatchLastISO: rfc3339(s.Last),
		Evidence:      r.Evidence,
		EvidenceFirst: displayTime(r.Evidence.First, loc), EvidenceFirstISO: rfc3339(r.Evidence.First),
		EvidenceLast: displayTime(r.Evidence.Last, loc), EvidenceLastISO: rfc3339(r.Evidence.Last),
		Records: itoa(r.Evidence.Records), Processes: itoa(r.Evidence.Processes),
		FilesOK: s.FilesByStatus[FileOK], FilesPartial: s.FilesByStatus[FilePartial],
		FilesFailed: s.FilesByStatus[FileFailed], FilesSkipped: s.FilesByStatus[FileSkipped],
		RecordsFailed: itoa(s.RecordsFailed),
		Recovered:     itoa(r.Health.Recovered), BadChunks: itoa(r.Health.BadChunks), Duplicates: itoa(r.Health.Duplicates),
	}
	if v.Title == "" {
		v.Title = "evtxhunt report"
	}
	for k, n := range r.Health.RecordsFailed {
		v.FailedReasons = append(v.FailedReasons, keyValue{k, itoa(n)})
	}
	slices.SortFunc(v.FailedReasons, func(a, b keyValue) int { return strings.Compare(a.Key, b.Key) })
	for _, f := range r.Health.Files {
		v.Files = append(v.Files, htmlFile{f, classOf(f.Status, FileOK, FilePartial, FileFailed, FileSkipped), itoa(f.Records)})
	}
	for _, l := range r.Lint {
		v.Lint = append(v.Lint, newHTMLLint(l))
	}
	for i := range r.Hunts {
		h := &r.Hunts[i]
		hv := htmlHunt{HuntResult: *h, Anchor: fmt.Sprintf("hunt-%d", i+1), SevClass: normSeverity(h.Severity)}
		hv.Status = plural(len(h.Matches), "match", "matches")
		switch {
		case h.Skipped != "":
			hv.Status = "not run"
		case h.Error != "":
			hv.Status += " before it failed"
		}
		for _, t := range h.Attack {
			hv.Attack = append(hv.Attack, htmlTechnique{t, attackURL(t.ID)})
		}
		for _, l := range h.Lint {
			if l.Hunt == "" {
				l.Hunt = h.ID
			}
			hv.Lint = append(hv.Lint, newHTMLLint(l))
			v.Lint = append(v.Lint, newHTMLLint(l))
		}
		for j := range h.Matches {
			m := &h.Matches[j]
			mv := htmlMatch{Match: *m, Anchor: fmt.Sprintf("m-%d-%d", i+1, j+1),
				Time: displayTime(m.Time, loc), TimeISO: rfc3339(m.Time), Values: orderedValues(h.Columns, m.Values)}
			mv.Tree, mv.TreeSize = newHTMLNode(m.Tree, loc)
			if m.PathSepOnly {
				hv.PathSepOnly++
			}
			hv.Matches = append(hv.Matches, mv)
		}
		v.Hunts = append(v.Hunts, hv)
	}
	return v
}

func newHTMLLint(l LintFinding) htmlLint {
	return htmlLint{l, classOf(strings.ToLower(l.Severity), "error", "warning", "info")}
}

// classOf returns s when it is one of known, else "other", so only fixed
// words ever reach a class attribute.
func classOf(s string, known ...string) string {
	if slices.Contains(known, s) {
		return s
	}
	return "other"
}

// attackIDPattern matches an ATT&CK technique or sub-technique ID.
var attackIDPattern = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

// attackURL returns the attack.mitre.org page of a technique ID
// ("T1059.003" → https://attack.mitre.org/techniques/T1059/003/), or ""
// when id is not a technique ID, so no other URL can be built from a hunt.
func attackURL(id string) string {
	id = strings.TrimSpace(id)
	if !attackIDPattern.MatchString(id) {
		return ""
	}
	return "https://attack.mitre.org/techniques/" + strings.Replace(id, ".", "/", 1) + "/"
}

// orderedValues lists a match's values in column order, then any value
// whose key is not a column, by key.
func orderedValues(columns []string, values map[string]string) []keyValue {
	var out []keyValue
	seen := map[string]bool{}
	for _, c := range columns {
		if v, ok := values[c]; ok && !seen[c] {
			out = append(out, keyValue{c, v})
			seen[c] = true
		}
	}
	var rest []string
	for k := range values {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, keyValue{k, values[k]})
	}
	return out
}

func newHTMLNode(n *TreeNode, loc *time.Location) (*htmlNode, int) {
	if n == nil {
		return nil, 0
	}
	v := &htmlNode{TreeNode: *n}
	if !n.Start.IsZero() {
		v.Start, v.StartISO = displayTime(n.Start, loc), rfc3339(n.Start)
	}
	size := 1
	for _, c := range n.Children {
		cv, cs := newHTMLNode(c, loc)
		if cv != nil {
			v.Children = append(v.Children, cv)
			size += cs
		}
	}
	return v, size
}

// rfc3339 formats t for a <time datetime> attribute (UTC, milliseconds).
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
