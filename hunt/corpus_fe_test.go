package hunt

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evtxhunt/evtx/evtxtest"
)

// publicQuery is one line of ../shared/xql/public-queries.jsonl.
type publicQuery struct {
	Source string `json:"source"`
	Query  string `json:"query"`
	Expect string `json:"expect"` // "parse" or "questionable"
}

func loadPublicQueries(t testing.TB) []publicQuery {
	t.Helper()
	path := filepath.Join(evtxtest.SharedDir(t), "xql", "public-queries.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open public queries: %v", err)
	}
	defer f.Close()
	var out []publicQuery
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var q publicQuery
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fencedBlocks returns the bodies of the query fences of a Markdown text
// (``` with no info string or xql, bash, shell, sh, sql, text), or the whole
// text when it has no fence. As in CommonMark, a closing fence has no info
// string.
func fencedBlocks(text string) []string {
	if !strings.Contains(text, "```") {
		return []string{text}
	}
	var blocks []string
	var cur []string
	in, keep := false, false
	for _, line := range strings.Split(text, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case !in && strings.HasPrefix(trim, "```"):
			info := strings.ToLower(strings.TrimSpace(strings.TrimLeft(trim, "`")))
			in = true
			keep = info == "" || info == "xql" || info == "bash" || info == "shell" ||
				info == "sh" || info == "sql" || info == "text"
			cur = nil
		case in && strings.Trim(trim, "`") == "" && strings.HasPrefix(trim, "```"):
			if keep {
				blocks = append(blocks, strings.Join(cur, "\n"))
			}
			in = false
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

// entryQueries turns one corpus entry into query texts: the fences of a
// Markdown document, each split into its queries.
func entryQueries(text string) []string {
	var out []string
	for _, b := range fencedBlocks(text) {
		out = append(out, SplitQueries(b)...)
	}
	return out
}

// corpusDefect is a query of the public corpus that cannot parse because the
// source document itself is broken; each one must still fail, so the list
// cannot go stale.
type corpusDefect struct {
	source, snippet, reason string
}

var corpusDefects = []corpusDefect{
	{"throwawaybean/hunt-detect:XQL/CVE-2024-47575 FortiJump", "attributed to known activity",
		"a // comment wrapped onto a second line leaves prose outside the comment"},
	{"SimOnPanw/cortex-xql-library:xql-for-vulnerabilities.md", "|join (dataset = findings \n",
		"the fenced block ends inside an unclosed join sub-query"},
	{"SimOnPanw/cortex-xql-library:xql-for-vulnerabilities.md", "``\n## With EPSS",
		"a fence closed with two backquotes swallows a heading and the next block"},
}

// isXQLStart reports whether text begins (after comments) with a stage word;
// other pieces of the corpus are prose or BIOC text.
func isXQLStart(text string) bool {
	it := newLexer(text, nil).next()
	return isStageWord(it)
}

// TestPublicQueries parses every query of ../shared/xql/public-queries.jsonl.
// Entries are Markdown documents or files holding several queries: the
// fences are taken out and the text is split with SplitQueries. Every XQL
// query of an "expect: parse" entry must parse (unsupported stages are not
// parse errors), except the documented corpusDefects; pieces that are not
// XQL (prose, BIOC rules) must be rejected. "questionable" entries (LLM
// content with invalid constructs such as stats and ENUM.AUTH) only have
// their ratio logged, but those using the non-XQL stats stage must fail.
func TestPublicQueries(t *testing.T) {
	entries := loadPublicQueries(t)
	if len(entries) == 0 {
		t.Fatal("no entries")
	}
	var nParse, okParse, nQuest, okQuest, nProse, entriesParse int
	defectHit := make([]bool, len(corpusDefects))
	for _, e := range entries {
		if e.Expect == "parse" {
			entriesParse++
		}
		for _, q := range entryQueries(e.Query) {
			_, err := Parse(q)
			if !isXQLStart(q) {
				nProse++
				if err == nil {
					t.Errorf("%s: text that is not XQL parsed:\n%s", e.Source, q)
				}
				continue
			}
			switch e.Expect {
			case "parse":
				nParse++
				if err == nil {
					okParse++
					t.Run("roundtrip", func(t *testing.T) {
						q1, _ := Parse(q)
						checkRoundTrip(t, q, q1)
					})
					continue
				}
				excused := false
				for i, d := range corpusDefects {
					if d.source == e.Source && strings.Contains(q, d.snippet) {
						defectHit[i], excused = true, true
					}
				}
				if !excused {
					t.Errorf("%s:\n%s", e.Source, err.(ErrorList).Format(q))
				}
			case "questionable":
				nQuest++
				if err == nil {
					okQuest++
				}
				if strings.Contains(q, "| stats ") && err == nil {
					t.Errorf("%s: stats is not an XQL stage but the query parsed", e.Source)
				}
			default:
				t.Fatalf("%s: unknown expect %q", e.Source, e.Expect)
			}
		}
	}
	for i, hit := range defectHit {
		if !hit {
			t.Errorf("corpus defect %q of %s no longer fails: remove it from corpusDefects", corpusDefects[i].snippet, corpusDefects[i].source)
		}
	}
	t.Logf("expect=parse: %d entries, %d XQL queries, %d parse (%.1f%%), %d documented source defects; %d non-XQL pieces rejected",
		entriesParse, nParse, okParse, 100*float64(okParse)/float64(nParse), len(corpusDefects), nProse)
	t.Logf("expect=questionable: %d queries, %d parse (%.1f%%)", nQuest, okQuest, 100*float64(okQuest)/float64(nQuest))
	if okParse+len(corpusDefects) < nParse {
		t.Errorf("only %d of %d public queries parse", okParse, nParse)
	}
}
