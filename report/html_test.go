package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestHTMLGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(&buf, scenarioB7zip()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "b7zip.golden.html", buf.Bytes())
}

// Payloads that would run script if evidence reached the page unescaped.
// Each one, if it ran, would set data-pwned on <html>; the Chromium test
// looks for that attribute.
var xssPayloads = []string{
	`"><script>document.documentElement.setAttribute("data-pwned","script")</script>`,
	`<img src=x onerror="document.documentElement.setAttribute('data-pwned','img')">`,
	`</script><script>document.documentElement.setAttribute('data-pwned','endscript')</script>`,
	`<details open ontoggle="document.documentElement.setAttribute('data-pwned','toggle')">`,
	`<svg onload="document.documentElement.setAttribute('data-pwned','svg')">`,
	`javascript:document.documentElement.setAttribute('data-pwned','jsurl')`,
	`' autofocus onfocus='document.documentElement.setAttribute("data-pwned","attr")`,
	"line\u2028sep\u2029para</style><style>*{display:none}</style>",
}

// hostileReport puts the payloads into every evidence and metadata string.
func hostileReport() *Report {
	r := scenarioB7zip()
	p := func(i int) string { return xssPayloads[i%len(xssPayloads)] }
	r.Title = p(0)
	r.Version = p(1)
	r.Evidence.Hosts = []string{p(2)}
	r.Health.Files = append(r.Health.Files, FileHealth{Path: p(3), Status: p(4), Reason: p(5)})
	r.Health.RecordsFailed[p(6)] = 1
	r.Lint = append(r.Lint, LintFinding{Hunt: p(7), Pos: p(0), Severity: p(1), Code: p(2), Msg: p(3)})
	h := &r.Hunts[0]
	h.ID, h.Title, h.Severity, h.Description, h.Query = p(4), p(5), p(6), p(7), p(0)
	h.Attack = append(h.Attack, Technique{Tactic: p(1), ID: "javascript:alert(1)", Name: p(2)}, Technique{ID: `T1059" onmouseover="x`})
	h.FalsePositives = append(h.FalsePositives, p(3))
	h.ResponseActions = append(h.ResponseActions, p(4))
	h.Columns = append(h.Columns, p(5))
	for j := range h.Matches {
		m := &h.Matches[j]
		m.Host, m.User, m.Process, m.Parent, m.CausalityActor, m.Source = p(j), p(j+1), p(j+2), p(j+3), p(j+4), p(j+5)
		m.Values[p(6)] = p(7)
		m.Values[p(5)] = p(0)
	}
	// One match per payload in the command line, with the tree carrying them too.
	for i, pl := range xssPayloads {
		m := h.Matches[0]
		m.CommandLine = pl
		m.Tree = &TreeNode{Name: p(i + 1), Image: p(i + 2), CommandLine: pl, User: p(i + 3), Source: p(i + 4), IsMatch: true, CausalityRoot: true,
			Children: []*TreeNode{{Name: pl, CommandLine: pl}}}
		h.Matches = append(h.Matches, m)
	}
	r.Hunts[3].Skipped = p(1)
	r.Hunts[2].Error = p(2)
	return r
}

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	tagPattern  = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>`)
	attrPattern = regexp.MustCompile(`\s([^\s="'>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?`)
	urlAttrs    = map[string]bool{"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "poster": true, "data": true, "background": true, "xlink:href": true, "ping": true}
	mitreLink   = regexp.MustCompile(`^https://attack\.mitre\.org/techniques/T[0-9]{4}/([0-9]{3}/)?$`)
)

// The output is checked as markup: the only elements and URLs in it are the
// report's own, whatever the evidence holds.
func TestHTMLStaticSafety(t *testing.T) {
	for name, r := range map[string]*Report{"b7zip": scenarioB7zip(), "hostile": hostileReport()} {
		t.Run(name, func(t *testing.T) {
			out := renderHTML(t, r)
			if n := strings.Count(out, "<script"); n != 1 {
				t.Errorf("want exactly one <script> (ours), got %d", n)
			}
			if n := strings.Count(out, "<style"); n != 1 {
				t.Errorf("want exactly one <style> (ours), got %d", n)
			}
			allowedTags := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
				"header": true, "h1": true, "h2": true, "h3": true, "p": true, "time": true, "span": true, "strong": true, "nav": true,
				"ul": true, "ol": true, "li": true, "a": true, "section": true, "div": true, "b": true, "dl": true, "dt": true, "dd": true,
				"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "code": true, "details": true,
				"summary": true, "pre": true, "label": true, "input": true, "main": true, "footer": true, "script": true, "mark": true, "colgroup": true, "col": true}
			body := out[strings.Index(out, "</style>"):]
			body = body[:strings.Index(body, "<script>")]
			for _, m := range tagPattern.FindAllStringSubmatch(body, -1) {
				if !allowedTags[strings.ToLower(m[2])] {
					t.Errorf("unexpected element <%s%s>", m[2], m[3])
				}
				for _, a := range attrPattern.FindAllStringSubmatch(m[3], -1) {
					name, value := strings.ToLower(a[1]), strings.Trim(a[2], `"'`)
					if strings.HasPrefix(name, "on") {
						t.Errorf("event-handler attribute %s in <%s%s>", name, m[2], m[3])
					}
					if name == "style" {
						t.Errorf("inline style attribute in <%s%s>", m[2], m[3])
					}
					if urlAttrs[name] && !(name == "href" && (strings.HasPrefix(value, "#") || mitreLink.MatchString(value))) {
						t.Errorf("URL attribute %s=%s not allowed", name, a[2])
					}
				}
			}
			for _, a := range regexp.MustCompile(`<a href="https://[^>]*>`).FindAllString(body, -1) {
				if !strings.Contains(a, `rel="noopener noreferrer"`) {
					t.Errorf("external link without rel=noopener noreferrer: %s", a)
				}
			}
			if strings.Contains(out, "url(") || strings.Contains(out, "@import") {
				t.Errorf("CSS must not load anything")
			}
			if strings.ContainsRune(out, '\u2028') || strings.ContainsRune(out, '\u2029') {
				t.Errorf("raw U+2028/U+2029 in output")
			}
		})
	}
}

func TestHTMLShowsPayloadsAsText(t *testing.T) {
	out := renderHTML(t, hostileReport())
	// html/template escaping of the first payload, written out by hand.
	for _, want := range []string{
		`&#34;&gt;&lt;script&gt;document.documentElement.setAttribute(&#34;data-pwned&#34;,&#34;script&#34;)&lt;/script&gt;`,
		`&lt;img src=x onerror=&#34;document.documentElement.setAttribute(&#39;data-pwned&#39;,&#39;img&#39;)&#34;&gt;`,
		`line<span class="esc">\u2028</span>sep<span class="esc">\u2029</span>para&lt;/style&gt;`,
		`javascript:alert(1)`, // shown as text, not linked
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(out, `href="javascript`) {
		t.Errorf("a javascript: URL became a link")
	}
}

// The Content-Security-Policy hashes pin exactly the inline style and script
// the page carries (otherwise browsers would block them).
func TestHTMLCSPMatchesInlineCode(t *testing.T) {
	out := renderHTML(t, scenarioB7zip())
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "&#39;sha256-" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(sum[:]), "+", "&#43;") + "&#39;"
	}
	between := func(open, close string) string {
		i := strings.Index(out, open)
		j := strings.Index(out, close)
		if i < 0 || j < i {
			t.Fatalf("no %s…%s in output", open, close)
		}
		return out[i+len(open) : j]
	}
	meta := between(`<meta http-equiv="Content-Security-Policy" content="`, `">
<meta name="referrer"`)
	for _, want := range []string{
		"default-src &#39;none&#39;",
		"style-src " + hash(between("<style>", "</style>")),
		"script-src " + hash(between("<script>", "</script>")),
	} {
		if !strings.Contains(meta, want) {
			t.Errorf("CSP %q lacks %q", meta, want)
		}
	}
}

func TestAttackURL(t *testing.T) {
	tests := []struct{ id, want string }{
		{"T1059.003", "https://attack.mitre.org/techniques/T1059/003/"},
		{"T1105", "https://attack.mitre.org/techniques/T1105/"},
		{" T1204.002 ", "https://attack.mitre.org/techniques/T1204/002/"},
		{"TA0002", ""},
		{"javascript:alert(1)", ""},
		{"T1059.003/../../x", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if got := attackURL(tc.id); got != tc.want {
				t.Errorf("attackURL(%q) = %q, want %q", tc.id, got, tc.want)
			}
		})
	}
}
