package hunt

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"evtxhunt/normalize"
)

// Diagnostic is a lint finding at a position of the query.
type Diagnostic struct {
	Pos      Pos
	Severity string // "warning" or "note"
	Code     string // one of the Lint* codes
	Msg      string
}

// String returns "line:col: severity: msg [code]".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%d:%d: %s: %s [%s]", d.Pos.Line, d.Pos.Col, d.Severity, d.Msg, d.Code)
}

// LintOptions tunes Lint.
type LintOptions struct {
	// PathSepInsensitive says the query will run with \ and / treated as
	// equal in path and command-line comparisons: forward-slash path
	// literals then give a note instead of a warning.
	PathSepInsensitive bool
}

// The lint codes.
const (
	// LintForwardSlash: a "/" path literal compared with a Windows path,
	// command-line or cwd field (*_path, *_command_line, *_cwd). xdr_data
	// stores Windows paths with backslashes, so the test never matches.
	LintForwardSlash = "forward-slash-path"
	// LintScriptImage: a *_process_image_name compared with a script name
	// (.bat, .cmd, .ps1, .vbs, ...). A script is never the process image:
	// its interpreter (cmd.exe, powershell.exe, wscript.exe) is.
	LintScriptImage = "script-image-name"
	// Lint7zConsole: 7z.exe as the parent or causality process, the archiver
	// a user opens. 7z.exe is the console program; the GUIs are 7zFM.exe
	// and 7zG.exe.
	Lint7zConsole = "7z-console-archiver"
	// LintCmdImageTemp: cmd.exe's own image path (action_process_image_path)
	// required to be under Temp or Downloads; it is
	// C:\Windows\System32\cmd.exe and the batch path is in its command line.
	LintCmdImageTemp = "cmd-image-in-temp"
	// LintUnknownField: a name that is neither an xdr_data field nor created
	// by an earlier stage (alter, comp, fields ... as), or that an earlier
	// fields or comp stage dropped.
	LintUnknownField = "unknown-field"
	// LintNeverFilled: an xdr_data field that EVTX process events never fill
	// (not stored by evtxhunt, or in neverFilled); it is always NULL.
	LintNeverFilled = "never-filled"
)

// neverFilled lists the stored process-field families (matched as
// substrings of the column name) that Sysmon 1/5 and Security 4688/4689
// records never fill, with the reason. The compiler returns NULL for them.
var neverFilled = []struct{ part, why string }{
	{"_signature_", "Sysmon and 4688 process events carry no Authenticode signature verdict"},
	{"_image_auth_sha", "Sysmon and 4688 process events carry no Authenticode hashes"},
	{"_requested_parent_", "EVTX process events do not record a requested (PPID-spoofed) parent"},
	{"_remote_", "EVTX process events carry no remote RPC/SMB/session origin"},
	{"_rpc_", "EVTX process events carry no RPC interface data"},
	{"_is_injected_thread", "EVTX process events carry no thread-injection data"},
	{"_thread_thread_id", "EVTX process events carry no creating-thread id"},
	{"_container_", "EVTX process events carry no container data"},
	{"_local_session_", "EVTX process events carry no session network endpoint"},
}

// alwaysKept are the columns XQL keeps through a fields stage.
var alwaysKept = map[string]bool{"_time": true, "_insert_time": true, "_product": true, "_vendor": true}

var (
	schemaOnce map[string]bool
	schemaInit sync.Once
	// pathLikeRx finds a slash path in a literal: a drive with "/", a
	// /segment/, or /name.ext of an executable or script.
	pathLikeRx = regexp.MustCompile(`(?i)(^\*?[a-z]:/|/[a-z0-9 _.$~()\-]*[a-z][a-z0-9 _.$~()\-]*/|/[a-z0-9_.$~\-]+\.(exe|dll|bat|cmd|ps1|vbs|js|lnk|sys|scr|com|hta|msi|zip)\b)`)
	// cmdPathLikeRx is pathLikeRx without spaces inside a segment, for
	// command lines, where "/a /b" are switches.
	cmdPathLikeRx = regexp.MustCompile(`(?i)(^\*?[a-z]:/|/[a-z0-9_.$~()\-]*[a-z][a-z0-9_.$~()\-]*/|/[a-z0-9_.$~\-]+\.(exe|dll|bat|cmd|ps1|vbs|js|lnk|sys|scr|com|hta|msi|zip)\b)`)
	// unixRootRx matches macOS/Linux absolute paths, which are legitimate.
	unixRootRx = regexp.MustCompile(`^[*=]?/(tmp|usr|etc|var|bin|sbin|opt|home|root|users|library|private|dev|proc|system|applications|volumes|mnt|run|srv|lib|snap)(/|$)`)
	scriptRx   = regexp.MustCompile(`(?i)\.(bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|hta)\b`)
)

// schemaFields returns the lower-case names a query may use: the xdr_data
// schema's fields and evtxhunt's own x_ provenance columns.
func schemaFields() map[string]bool {
	schemaInit.Do(func() {
		m := make(map[string]bool, len(normalize.XDRFields)+len(normalize.ProvenanceColumns))
		for _, f := range normalize.XDRFields {
			m[strings.ToLower(f.Name)] = true
		}
		for _, c := range normalize.ProvenanceColumns {
			m[c.Name] = true
		}
		schemaOnce = m
	})
	return schemaOnce
}

// Lint checks a parsed query for mistakes that make an XQL hunt silently
// miss on Windows data, and for field names evtxhunt does not know. The
// diagnostics are sorted by position.
func Lint(q *Query, opt LintOptions) []Diagnostic {
	l := &linter{opt: opt, seen: map[string]bool{}}
	if q != nil {
		l.query(q)
	}
	sort.SliceStable(l.diags, func(i, j int) bool { return l.diags[i].Pos.Offset < l.diags[j].Pos.Offset })
	return l.diags
}

type linter struct {
	opt   LintOptions
	diags []Diagnostic
	seen  map[string]bool // code + name already reported
}

func (l *linter) add(pos Pos, sev, code, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{Pos: pos, Severity: sev, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// comparison is a field compared with string literals.
type comparison struct {
	field   *Ident
	name    string // lower-case field name
	lits    []*StringLit
	negated bool // !=, not contains, not in, !~=
}

// unwrapField finds the field under parentheses and case or trim functions.
func unwrapField(e Expr) *Ident {
	for {
		switch x := e.(type) {
		case *Ident:
			return x
		case *Paren:
			e = x.X
		case *Call:
			switch x.Name {
			case "lowercase", "uppercase", "trim", "ltrim", "rtrim", "to_string", "coalesce":
				if len(x.Args) == 0 {
					return nil
				}
				e = x.Args[0]
			default:
				return nil
			}
		default:
			return nil
		}
	}
}

func unwrapString(e Expr) *StringLit {
	for {
		switch x := e.(type) {
		case *StringLit:
			return x
		case *Paren:
			e = x.X
		default:
			return nil
		}
	}
}

// asComparison recognises field-versus-literal tests.
func asComparison(n Node) (comparison, bool) {
	switch x := n.(type) {
	case *Binary:
		switch x.Op {
		case "=", "!=", "contains", "not contains", "~=", "!~=":
		default:
			return comparison{}, false
		}
		f, s := unwrapField(x.X), unwrapString(x.Y)
		if f == nil || s == nil {
			f, s = unwrapField(x.Y), unwrapString(x.X)
		}
		if f == nil || s == nil {
			return comparison{}, false
		}
		neg := x.Op == "!=" || x.Op == "not contains" || x.Op == "!~="
		return comparison{field: f, name: strings.ToLower(f.Name), lits: []*StringLit{s}, negated: neg}, true
	case *InExpr:
		f := unwrapField(x.X)
		if f == nil {
			return comparison{}, false
		}
		c := comparison{field: f, name: strings.ToLower(f.Name), negated: x.Not}
		for _, e := range x.List {
			if s := unwrapString(e); s != nil {
				c.lits = append(c.lits, s)
			}
		}
		return c, len(c.lits) > 0
	}
	return comparison{}, false
}

// query lints one query and its sub-queries.
func (l *linter) query(q *Query) {
	var cmps []comparison
	Inspect(q, func(n Node) bool {
		if c, ok := asComparison(n); ok {
			cmps = append(cmps, c)
		}
		return true
	})
	nonWindows := targetsNonWindows(q)
	for _, c := range cmps {
		if !nonWindows {
			l.forwardSlash(c)
		}
		l.scriptImage(c)
	}
	l.sevenZip(cmps)
	l.scope(q)
	Inspect(q, func(n Node) bool {
		if sub, ok := n.(*Query); ok {
			l.cmdImageTemp(sub)
		}
		return true
	})
}

// targetsNonWindows reports whether the query filters agent_os_type on
// macOS or Linux, where forward slashes are right.
func targetsNonWindows(q *Query) bool {
	found := false
	Inspect(q, func(n Node) bool {
		b, ok := n.(*Binary)
		if !ok || b.Op != "=" {
			return true
		}
		f := unwrapField(b.X)
		if f == nil || !strings.EqualFold(f.Name, "agent_os_type") {
			return true
		}
		switch v := b.Y.(type) {
		case *EnumLit:
			found = found || strings.EqualFold(v.Name, "AGENT_OS_LINUX") || strings.EqualFold(v.Name, "AGENT_OS_MAC")
		case *Ident:
			found = found || strings.EqualFold(v.Name, "AGENT_OS_LINUX") || strings.EqualFold(v.Name, "AGENT_OS_MAC")
		case *NumberLit:
			found = found || v.Int == 2 || v.Int == 4
		}
		return true
	})
	return found
}

// windowsSlashPath reports whether rx finds a slash path in v that is not
// a macOS/Linux path (/tmp/, /dev/null, ...).
func windowsSlashPath(rx *regexp.Regexp, v string) bool {
	lower := strings.ToLower(v)
	for _, m := range rx.FindAllStringIndex(v, -1) {
		if !unixRootRx.MatchString(lower[m[0]:]) {
			return true
		}
	}
	return false
}

// xqlQuote shows a literal as XQL writes it ("raw", backslashes single),
// or Go-quoted when it holds control characters.
func xqlQuote(v string) string {
	for _, r := range v {
		if r < 0x20 || r == 0x7f || r == '"' {
			return fmt.Sprintf("%q", v)
		}
	}
	return `"` + v + `"`
}

func isWindowsPathField(name string) bool {
	return strings.HasSuffix(name, "_path") || strings.HasSuffix(name, "_command_line") || strings.HasSuffix(name, "_cwd")
}

func (l *linter) forwardSlash(c comparison) {
	if !isWindowsPathField(c.name) {
		return
	}
	rx := pathLikeRx
	if strings.HasSuffix(c.name, "_command_line") {
		rx = cmdPathLikeRx // "/online /enable-feature" are switches
	}
	for _, s := range c.lits {
		v := s.Value
		// A URL, a macOS/Linux path, or a literal that also spells the
		// backslash form (a both-platforms regex) is deliberate.
		if strings.Contains(v, "://") || strings.Contains(v, `\`) || !windowsSlashPath(rx, v) {
			continue
		}
		if l.opt.PathSepInsensitive {
			l.add(s.At, "note", LintForwardSlash,
				"forward-slash path literal %s compared with %s: with --path-sep-insensitive it is compared with \\ and / treated as equal",
				xqlQuote(v), c.field.Name)
			continue
		}
		l.add(s.At, "warning", LintForwardSlash,
			"forward-slash path literal %s compared with Windows path field %s: xdr_data paths use backslashes, so this never matches (write %s, or run with --path-sep-insensitive)",
			xqlQuote(v), c.field.Name, xqlQuote(strings.ReplaceAll(v, "/", `\`)))
	}
}

// interpreter names the program that runs a script extension.
func interpreter(ext string) string {
	switch strings.ToLower(ext) {
	case "bat", "cmd":
		return "cmd.exe"
	case "ps1", "psm1":
		return "powershell.exe"
	case "hta":
		return "mshta.exe"
	}
	return "wscript.exe or cscript.exe"
}

func (l *linter) scriptImage(c comparison) {
	if c.negated || !strings.HasSuffix(c.name, "process_image_name") {
		return
	}
	cmdField := "action_process_image_command_line"
	if p := strings.TrimSuffix(c.name, "_image_name"); p != "action_process" {
		cmdField = p + "_command_line"
	}
	for _, s := range c.lits {
		m := scriptRx.FindStringSubmatch(s.Value)
		if m == nil {
			continue
		}
		l.add(s.At, "warning", LintScriptImage,
			"%s compared with %s, but a script is never the process image: .%s files run in %s; look for the script in %s",
			c.field.Name, xqlQuote(s.Value), strings.ToLower(m[1]), interpreter(m[1]), cmdField)
	}
}

func isParentImageField(name string) bool {
	if !strings.HasSuffix(name, "_image_name") && !strings.HasSuffix(name, "_image_path") {
		return false
	}
	return strings.HasPrefix(name, "actor_") || strings.HasPrefix(name, "causality_actor_") || strings.HasPrefix(name, "os_actor_")
}

func is7zConsole(v string) bool {
	v = strings.ToLower(strings.Trim(v, "*"))
	return v == "7z.exe" || strings.HasSuffix(v, `\7z.exe`) || strings.HasSuffix(v, "/7z.exe")
}

func (l *linter) sevenZip(cmps []comparison) {
	hasGUI := map[string]bool{}
	for _, c := range cmps {
		for _, s := range c.lits {
			v := strings.ToLower(s.Value)
			if strings.Contains(v, "7zfm") || strings.Contains(v, "7zg.exe") {
				hasGUI[c.name] = true
			}
		}
	}
	for _, c := range cmps {
		if c.negated || !isParentImageField(c.name) || hasGUI[c.name] {
			continue
		}
		for _, s := range c.lits {
			if is7zConsole(s.Value) {
				l.add(s.At, "warning", Lint7zConsole,
					"%s compared with %s: 7z.exe is 7-Zip's console program; a user who opens an archive runs 7zFM.exe (File Manager) or 7zG.exe (extraction GUI), so also match those",
					c.field.Name, xqlQuote(s.Value))
			}
		}
	}
}

// conjuncts flattens the and-terms of the filter stages of q.
func conjuncts(q *Query) []Expr {
	var out []Expr
	var walk func(e Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *Paren:
			walk(x.X)
		case *Binary:
			if x.Op == "and" {
				walk(x.X)
				walk(x.Y)
				return
			}
			out = append(out, e)
		default:
			out = append(out, e)
		}
	}
	for _, st := range q.Stages {
		if f, ok := st.(*FilterStage); ok && f.Cond != nil {
			walk(f.Cond)
		}
	}
	return out
}

// alternatives flattens the or-terms of e.
func alternatives(e Expr) []Expr {
	switch x := e.(type) {
	case *Paren:
		return alternatives(x.X)
	case *Binary:
		if x.Op == "or" {
			return append(alternatives(x.X), alternatives(x.Y)...)
		}
	}
	return []Expr{e}
}

func mentionsTempOrDownloads(v string) bool {
	v = strings.ToLower(v)
	return strings.Contains(v, "temp") || strings.Contains(v, "download")
}

// cmdImageTemp warns when one and-term lets action_process_image_name be
// cmd.exe and another requires action_process_image_path to be under Temp
// or Downloads.
func (l *linter) cmdImageTemp(q *Query) {
	var allowsCmd bool
	var pathTerm *comparison
	for _, term := range conjuncts(q) {
		alts := alternatives(term)
		allTemp := true
		var first *comparison
		for _, a := range alts {
			c, ok := asComparison(a)
			if !ok || c.negated {
				allTemp = false
				continue
			}
			switch c.name {
			case "action_process_image_name":
				for _, s := range c.lits {
					if v := strings.ToLower(strings.Trim(s.Value, "*")); v == "cmd.exe" || strings.HasSuffix(v, `\cmd.exe`) {
						allowsCmd = true
					}
				}
				allTemp = false
			case "action_process_image_path":
				for _, s := range c.lits {
					if !mentionsTempOrDownloads(s.Value) {
						allTemp = false
					}
				}
				if first == nil {
					cc := c
					first = &cc
				}
			default:
				allTemp = false
			}
		}
		if allTemp && first != nil && pathTerm == nil {
			pathTerm = first
		}
	}
	if allowsCmd && pathTerm != nil {
		l.add(pathTerm.field.At, "warning", LintCmdImageTemp,
			`cmd.exe's image is C:\Windows\System32\cmd.exe, never under Temp or Downloads; the batch path is in its command line (action_process_image_command_line)`)
	}
}
