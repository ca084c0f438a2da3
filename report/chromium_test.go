package report

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests open the HTML report in headless Chromium (Debian's
// /usr/bin/chromium, which .ci/run installs) and check the DOM after the
// page's script ran. The dumped DOM is checked with regular expressions
// over Chromium's own serialisation (no HTML parser module is available):
// Chromium writes attributes with double quotes and escapes <, > and & in
// text, so tags in the dump are real elements and text stays text.

// chromiumPath returns the browser to use; a missing browser fails the
// test (CI installs it), except under -short.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("headless Chromium test skipped with -short")
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("chromium not found: install Debian's chromium package (.ci/run does) or run with -short")
	return ""
}

// runChromium runs headless Chromium with the isolation flags and extra,
// and returns its stdout and stderr.
func runChromium(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	bin := chromiumPath(t)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--enable-logging=stderr", "--v=0", "--user-data-dir=" + t.TempDir()}
	args = append(args, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\nstderr:\n%s", extra, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// writeFile writes content to dir/name and returns its file:// URL.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: path}).String()
}

// attr returns the value of attribute name in the first start tag of the
// dump matching tagRx (a regexp for the tag's opening, e.g. `<body`).
func attr(t *testing.T, dom, tagRx, name string) (string, bool) {
	t.Helper()
	tag := regexp.MustCompile(tagRx + `[^>]*>`).FindString(dom)
	if tag == "" {
		t.Fatalf("no %s tag in the DOM", tagRx)
	}
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// matchBody returns the dumped <tbody class="match" id="id"> element.
func matchBody(t *testing.T, dom, id string) string {
	t.Helper()
	start := strings.Index(dom, `<tbody class="match" id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no match %s in the DOM", id)
	}
	end := strings.Index(dom[start:], "</tbody>")
	return dom[start : start+end]
}

func TestHTMLInChromium(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := HTML(&buf, scenarioB7zip()); err != nil {
		t.Fatal(err)
	}
	page := writeFile(t, dir, "report.html", buf.String())

	t.Run("dom", func(t *testing.T) {
		dom, stderr := runChromium(t, "--dump-dom", page)
		if strings.Contains(stderr, "Content Security Policy") {
			t.Errorf("the page's own style or script violated its CSP:\n%s", stderr)
		}
		if v, _ := attr(t, dom, `<body`, "data-js"); v != "ready" {
			t.Fatalf(`the script did not run to the end (body data-js=%q)`, v)
		}
		if v, _ := attr(t, dom, `<body`, "data-total"); v != "3" {
			t.Errorf("data-total = %q, want 3", v)
		}
		if v, _ := attr(t, dom, `<body`, "data-visible"); v != "3" {
			t.Errorf("data-visible = %q, want 3 (empty filter shows all)", v)
		}
		if _, hidden := attr(t, dom, `<div id="filter"`, "hidden"); hidden {
			t.Errorf("the script should reveal the filter box")
		}
		for _, tc := range []struct{ hunt, count string }{{"hunt-1", "2"}, {"hunt-2", "1"}, {"hunt-3", "0"}, {"hunt-4", "0"}} {
			if v, _ := attr(t, dom, `<section class="hunt[^"]*" id="`+tc.hunt+`"`, "data-count"); v != tc.count {
				t.Errorf("%s data-count = %q, want %s", tc.hunt, v, tc.count)
			}
		}
		// Trees (hand-counted from the fixture): explorer → 7zFM → cmd → net → net1
		// for both net use matches; explorer → 7zFM → cmd → {net, wscript} for the .bat.
		node := regexp.MustCompile(`<li class="node[^"]*" data-pid="(\d+)"( data-match="true")?`)
		for _, tc := range []struct{ match, pids, hit string }{
			{"m-1-1", "4120 6312 7044 7180 2716", "7180"},
			{"m-1-2", "4120 6312 7044 7180 2716", "2716"},
			{"m-2-1", "4120 6312 7044 7180 5532", "7044"},
		} {
			var pids, hits []string
			for _, m := range node.FindAllStringSubmatch(matchBody(t, dom, tc.match), -1) {
				pids = append(pids, m[1])
				if m[2] != "" {
					hits = append(hits, m[1])
				}
			}
			if got := strings.Join(pids, " "); got != tc.pids {
				t.Errorf("%s tree nodes (document order) = %s, want %s", tc.match, got, tc.pids)
			}
			if got := strings.Join(hits, " "); got != tc.hit {
				t.Errorf("%s highlighted nodes = %s, want %s", tc.match, got, tc.hit)
			}
		}
		if !strings.Contains(dom, `<a href="https://attack.mitre.org/techniques/T1059/003/" rel="noopener noreferrer" target="_blank">T1059.003</a>`) {
			t.Errorf("ATT&CK link for T1059.003 missing")
		}
	})

	t.Run("filter from fragment", func(t *testing.T) {
		// net1.exe appears in both net use matches (as the match or as net.exe's
		// child) but not in the .bat match's tree.
		dom, _ := runChromium(t, "--dump-dom", page+"#q=NET1.EXE")
		if v, _ := attr(t, dom, `<body`, "data-visible"); v != "2" {
			t.Errorf("data-visible = %q, want 2", v)
		}
		if v, _ := attr(t, dom, `<section class="hunt[^"]*" id="hunt-2"`, "data-visible"); v != "0" {
			t.Errorf("hunt-2 data-visible = %q, want 0", v)
		}
		if _, hidden := attr(t, dom, `<tbody class="match" id="m-2-1"`, "hidden"); !hidden {
			t.Errorf("m-2-1 should be hidden by the filter")
		}
		if _, hidden := attr(t, dom, `<tbody class="match" id="m-1-2"`, "hidden"); hidden {
			t.Errorf("m-1-2 should stay visible")
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		out := artifactsDir(t)
		png, err := filepath.Abs(filepath.Join(out, "report-b7zip.png"))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(png)
		runChromium(t, "--screenshot="+png, "--window-size=1280,2000", "--hide-scrollbars", page)
		b, err := os.ReadFile(png)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 20000 {
			t.Fatalf("screenshot %s is not a plausible PNG (%d bytes)", png, len(b))
		}
		t.Logf("screenshot: %s", png)
	})
}

// pwnedRx finds the marker any payload sets when it runs: a data-pwned
// attribute on <html>.
var pwnedRx = regexp.MustCompile(`<html[^>]*\sdata-pwned=`)

func TestHTMLXSSInChromium(t *testing.T) {
	dir := t.TempDir()

	// Positive control: the marker is detected when a payload does run, so a
	// clean result below means something.
	t.Run("control", func(t *testing.T) {
		page := writeFile(t, dir, "control.html", "<!DOCTYPE html><html><body>"+xssPayloads[1]+"</body></html>")
		dom, _ := runChromium(t, "--dump-dom", page)
		if !pwnedRx.MatchString(dom) {
			t.Fatalf("the control payload did not set the marker; the XSS checks would prove nothing:\n%s", dom)
		}
	})

	report := renderHTML(t, hostileReport())
	csp := `<meta http-equiv="Content-Security-Policy"`
	i := strings.Index(report, csp)
	if i < 0 {
		t.Fatal("no CSP meta tag")
	}
	// Without the CSP, escaping alone must keep the payloads inert.
	noCSP := report[:i] + report[i+strings.Index(report[i:], ">")+1:]
	for _, tc := range []struct{ name, html, fragment string }{
		{"with CSP", report, ""},
		{"escaping alone", noCSP, ""},
		{"payload in fragment", noCSP, "#q=" + url.QueryEscape(xssPayloads[1])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".html", tc.html)
			dom, _ := runChromium(t, "--dump-dom", page+tc.fragment)
			if pwnedRx.MatchString(dom) {
				t.Fatalf("a payload ran: %s", pwnedRx.FindString(dom))
			}
			if v, _ := attr(t, dom, `<body`, "data-js"); v != "ready" {
				t.Errorf("the report's script did not finish (data-js=%q)", v)
			}
			if n := strings.Count(dom, "<script"); n != 1 {
				t.Errorf("%d <script> elements in the DOM, want 1 (ours)", n)
			}
			for _, el := range []string{"<img", "<svg", "<iframe", "<object", "<embed"} {
				if strings.Contains(dom, el) {
					t.Errorf("payload element %s… became part of the DOM", el)
				}
			}
			// The payloads are shown as text (Chromium escapes < > & in text nodes).
			for _, want := range []string{
				`"&gt;&lt;script&gt;document.documentElement.setAttribute("data-pwned","script")&lt;/script&gt;`,
				`&lt;img src=x onerror="document.documentElement.setAttribute('data-pwned','img')"&gt;`,
				`&lt;/script&gt;&lt;script&gt;document.documentElement.setAttribute('data-pwned','endscript')&lt;/script&gt;`,
				`&lt;details open ontoggle="document.documentElement.setAttribute('data-pwned','toggle')"&gt;`,
				`javascript:document.documentElement.setAttribute('data-pwned','jsurl')`,
				`line<span class="esc">\u2028</span>sep<span class="esc">\u2029</span>para&lt;/style&gt;`,
			} {
				if !strings.Contains(dom, want) {
					t.Errorf("DOM lacks the literal text %s", want)
				}
			}
			if strings.Contains(dom, `href="javascript`) {
				t.Errorf("javascript: URL became a link")
			}
		})
	}
}

// artifactsDir returns $CI_ARTIFACTS_DIR (a relative path is taken from the
// module root, where .ci/run runs, not from this package's directory), or a
// temporary directory when it is not set.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CI_ARTIFACTS_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		root, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatalf("no go.mod above the test directory to resolve CI_ARTIFACTS_DIR=%s", dir)
			}
			root = parent
		}
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
