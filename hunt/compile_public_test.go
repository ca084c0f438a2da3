package hunt

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx/evtxtest"
)

// publicEntry is one line of ../shared/xql/public-queries.jsonl.
type publicEntry struct {
	Source string `json:"source"`
	Query  string `json:"query"`
	Expect string `json:"expect"`
}

// backendPublicQueries returns the query texts of the "expect: parse"
// entries: the ``` fences of Markdown entries (else the whole text), each
// split with SplitQueries.
func backendPublicQueries(t *testing.T) (sources, queries []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(evtxtest.SharedDir(t), "xql", "public-queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e publicEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Expect != "parse" {
			continue
		}
		for _, block := range markdownFences(e.Query) {
			for _, q := range SplitQueries(block) {
				sources = append(sources, e.Source)
				queries = append(queries, q)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sources, queries
}

// markdownFences returns the bodies of ``` fences, or the text itself when
// it has none.
func markdownFences(text string) []string {
	if !strings.Contains(text, "```") {
		return []string{text}
	}
	var out, cur []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case !in && strings.HasPrefix(trim, "```"):
			in, cur = true, nil
		case in && strings.HasPrefix(trim, "```"):
			out = append(out, strings.Join(cur, "\n"))
			in = false
		case in:
			cur = append(cur, line)
		}
	}
	return out
}

// backendEligible reports whether a parsed query reads only xdr_data
// (dataset = xdr_data, preset = xdr_process, or no data stage) and has only
// stages the back end supports (view is ignored); why says otherwise.
func backendEligible(q *Query) (ok bool, why string) {
	for _, st := range q.Stages {
		switch s := st.(type) {
		case *DatasetStage:
			n := strings.ToLower(s.Name)
			if !(s.Kind == "dataset" && n == "xdr_data") && !((s.Preset || s.Kind == "preset") && n == "xdr_process") {
				return false, "data source " + s.Kind + " = " + s.Name
			}
		case *UnsupportedStage:
			if !strings.EqualFold(s.Name, "view") {
				return false, "stage " + s.Name
			}
		case *JoinStage:
			if s.Sub != nil {
				if ok, why := backendEligible(s.Sub); !ok {
					return false, "join: " + why
				}
			}
		case *UnionStage:
			if s.Sub != nil {
				if ok, why := backendEligible(s.Sub); !ok {
					return false, "union: " + why
				}
			}
			if s.Dataset != "" && !strings.EqualFold(s.Dataset, "xdr_data") {
				return false, "union dataset " + s.Dataset
			}
		}
	}
	return true, ""
}

// TestPublicQueriesCompileAndRun compiles and runs every "expect: parse"
// public query that reads xdr_data with supported stages, on the
// hand-made database of the semantics table. None may fail.
func TestPublicQueriesCompileAndRun(t *testing.T) {
	sources, queries := backendPublicQueries(t)
	db, _ := beNewTestDB(t, beSemRows)
	ctx := context.Background()
	var parseErr, eligible, compiled, ran, withRows int
	skipped := map[string]int{}
	for i, src := range queries {
		q, err := Parse(src)
		if err != nil {
			parseErr++
			continue
		}
		ok, why := backendEligible(q)
		if !ok {
			if j := strings.IndexAny(why, " "); j > 0 && strings.HasPrefix(why, "data source") {
				why = "other data source"
			}
			skipped[why]++
			continue
		}
		eligible++
		if _, err := Compile(q, CompileOptions{Now: time.UnixMilli(4000)}); err != nil {
			t.Errorf("%s: compile: %v\n%s", sources[i], err, src)
			continue
		}
		compiled++
		res, err := Run(ctx, db, q, RunOptions{})
		if err != nil {
			t.Errorf("%s: run: %v\n%s", sources[i], err, src)
			continue
		}
		ran++
		if len(res.Rows) > 0 {
			withRows++
		}
	}
	var why []string
	for k, n := range skipped {
		why = append(why, k+": "+itoa(n))
	}
	sort.Strings(why)
	t.Logf("public queries: %d texts, %d parse errors (front end), %d eligible (xdr_data, supported stages), %d compiled, %d ran, %d returned rows on the hand-made DB",
		len(queries), parseErr, eligible, compiled, ran, withRows)
	t.Logf("not eligible: %s", strings.Join(why, "; "))
	if eligible == 0 {
		t.Fatal("no eligible public query")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
