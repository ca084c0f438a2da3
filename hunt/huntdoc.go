package hunt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Technique is one row of a hunt document's ATT&CK mapping table.
type Technique struct {
	Tactic       string // e.g. "TA0002 - Execution"
	ID           string // e.g. "T1059.003"
	Subtechnique string // as written ("—" when none)
	Name         string // e.g. "Command and Scripting Interpreter: Windows Command Shell"
}

// Link is a reference of a hunt document.
type Link struct {
	Text, URL string
}

// VersionEntry is one row of a hunt document's version history.
type VersionEntry struct {
	Version, Date, Impact, Notes string
}

// HuntQuery is one fenced query of a hunt document.
type HuntQuery struct {
	// Language is the fence's info string ("xql", "cql", …), or the document's
	// declared language when the fence has none.
	Language string
	// Text is the fenced text, byte for byte.
	Text string
	// Line is the 1-based line of the document where the query text starts.
	Line int
}

// Hunt is a hunt document in the "Hunt Analytics" markdown format of the
// seed hunt: metadata, prose sections and one or more fenced queries.
type Hunt struct {
	// Path is where the document was loaded from ("builtin:NAME" for the
	// embedded pack).
	Path string
	// Title is the first level-1 heading.
	Title string
	// RiskScore and Severity come from "Severity or Impact of the Detected Behavior".
	RiskScore int
	Severity  string
	// ID, OperatingSystems and FalsePositiveRate come from "Hunt Analytics Metadata".
	ID                string
	OperatingSystems  []string
	FalsePositiveRate string
	// Description is the text of the "Hunt Analytics" section.
	Description string
	// Attack is the ATT&CK mapping table.
	Attack []Technique
	// QueryLogic is the text of the "Hunt Query Logic" section.
	QueryLogic string
	// Language is the declared "Query Language" (e.g. "XQL (Cortex Query Language)").
	Language string
	// Platform is the declared "Platform".
	Platform string
	// Queries are the fenced queries of the document, in order.
	Queries []HuntQuery
	// DataSources is the text of the "Data Sources" section.
	DataSources string
	// ExecutionRequirements, Considerations, FalsePositives and ResponseActions
	// are the list items (or paragraphs) of their sections.
	ExecutionRequirements []string
	Considerations        []string
	FalsePositives        []string
	ResponseActions       []string
	// References are the links of the "References" section.
	References []Link
	// Versions is the version history table.
	Versions []VersionEntry
	// Sections holds the text of every level-2 section by its heading,
	// including sections this model does not name.
	Sections map[string]string
	// SectionOrder lists the level-2 headings in document order.
	SectionOrder []string
}

// ErrNoQuery is returned for a hunt document without any fenced query.
var ErrNoQuery = errors.New("hunt document has no fenced query")

// IsXQL reports whether the document's queries are XQL.
func (h *Hunt) IsXQL() bool {
	return languageIsXQL(h.Language) || (h.Language == "" && len(h.Queries) > 0 && languageIsXQL(h.Queries[0].Language))
}

// XQLQueries returns the document's queries written in XQL.
func (h *Hunt) XQLQueries() []HuntQuery {
	var out []HuntQuery
	for _, q := range h.Queries {
		if languageIsXQL(q.Language) || (q.Language == "" && languageIsXQL(h.Language)) {
			out = append(out, q)
		}
	}
	return out
}

// SkipReason says why the hunt cannot run here ("" when it can).
func (h *Hunt) SkipReason() string {
	if len(h.Queries) == 0 {
		return "no fenced query"
	}
	if len(h.XQLQueries()) == 0 {
		lang := h.Language
		if lang == "" {
			lang = h.Queries[0].Language
		}
		if lang == "" {
			lang = "unknown"
		}
		return fmt.Sprintf("language %s not supported", lang)
	}
	return ""
}

func languageIsXQL(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "xql") || strings.Contains(s, "cortex query language")
}

// LoadHuntFile reads and parses one hunt document.
func LoadHuntFile(path string) (*Hunt, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hunt: read %s: %w", path, err)
	}
	h, err := ParseHunt(path, src)
	if err != nil {
		return h, fmt.Errorf("hunt: %s: %w", path, err)
	}
	return h, nil
}

// LoadHunts loads every hunt document (*.md) under the given files and
// directories (recursively), sorted by path. Documents that fail to parse
// are returned in errs, never dropped silently.
func LoadHunts(paths []string) (hunts []*Hunt, errs []error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("hunt: %w", err))
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".md") && !strings.EqualFold(d.Name(), "README.md") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("hunt: walk %s: %w", p, err))
		}
	}
	sort.Strings(files)
	for _, f := range files {
		h, err := LoadHuntFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hunts = append(hunts, h)
	}
	return hunts, errs
}
