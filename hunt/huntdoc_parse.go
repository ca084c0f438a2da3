package hunt

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// huntMarkdown parses GitHub-flavoured markdown (tables) for hunt documents.
var huntMarkdown = goldmark.New(goldmark.WithExtensions(extension.Table))

// section is one level-2 section of a hunt document while it is parsed.
type section struct {
	heading string
	nodes   []gast.Node
}

// ParseHunt parses a hunt document. name is used in the result's Path. A
// document without a fenced query is returned together with ErrNoQuery.
func ParseHunt(name string, src []byte) (*Hunt, error) {
	doc := huntMarkdown.Parser().Parse(text.NewReader(src))
	h := &Hunt{Path: name, Sections: map[string]string{}}
	// Sections start at the shallowest heading level below the title (## in
	// the seed; some documents use #### throughout); deeper headings stay
	// inside their section.
	sectionLevel := 0
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if hd, ok := n.(*gast.Heading); ok && hd.Level > 1 && (sectionLevel == 0 || hd.Level < sectionLevel) {
			sectionLevel = hd.Level
		}
	}
	var sections []*section
	cur := &section{}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if hd, ok := n.(*gast.Heading); ok {
			title := strings.TrimSpace(inlineText(hd, src))
			if hd.Level == 1 {
				if h.Title == "" {
					h.Title = title
				}
				continue
			}
			if hd.Level == sectionLevel {
				sections = append(sections, cur)
				cur = &section{heading: title}
				continue
			}
		}
		cur.nodes = append(cur.nodes, n)
	}
	sections = append(sections, cur)

	var queries, elsewhere []HuntQuery
	for _, s := range sections {
		key := canonicalSection(s.heading)
		if s.heading != "" {
			h.Sections[s.heading] = strings.TrimSpace(blockText(s.nodes, src))
			h.SectionOrder = append(h.SectionOrder, s.heading)
		}
		// Fenced blocks are queries when they name a language or sit in a
		// query section (some documents also fence a registry path or a log
		// sample in their prose); key/value metadata can sit in any section.
		for _, n := range s.nodes {
			if fc, ok := n.(*gast.FencedCodeBlock); ok {
				q := fencedQuery(fc, src)
				if q.Language != "" || strings.Contains(key, "query") {
					queries = append(queries, q)
				} else {
					elsewhere = append(elsewhere, q)
				}
			}
		}
		kv := keyValues(s.nodes, src)
		for k, v := range kv {
			switch k {
			case "risk score":
				if i, err := strconv.Atoi(firstNumber(v)); err == nil {
					h.RiskScore = i
				}
			case "severity":
				h.Severity = v
			case "id":
				h.ID = v
			case "operating systems", "operating system":
				for _, os := range strings.Split(v, ",") {
					if os = strings.TrimSpace(os); os != "" {
						h.OperatingSystems = append(h.OperatingSystems, os)
					}
				}
			case "false positive rate":
				h.FalsePositiveRate = v
			case "query language":
				h.Language = v
			case "platform":
				h.Platform = v
			}
		}
		switch key {
		case "hunt analytics":
			h.Description = strings.TrimSpace(blockText(s.nodes, src))
		case "hunt query logic":
			if h.QueryLogic == "" {
				h.QueryLogic = strings.TrimSpace(blockText(s.nodes, src))
			}
		case "att&ck mapping", "att&amp;ck mapping":
			for _, row := range tableRows(s.nodes, src) {
				if len(row) < 2 {
					continue
				}
				t := Technique{Tactic: row[0], ID: row[1]}
				if len(row) >= 4 {
					t.Subtechnique, t.Name = row[2], row[3]
				} else if len(row) == 3 {
					t.Name = row[2]
				}
				h.Attack = append(h.Attack, t)
			}
		case "data sources":
			h.DataSources = strings.TrimSpace(blockText(s.nodes, src))
		case "execution requirements":
			h.ExecutionRequirements = listItems(s.nodes, src)
		case "considerations", "considerations and tuning":
			h.Considerations = append(h.Considerations, listItems(s.nodes, src)...)
		case "false positives":
			h.FalsePositives = listItems(s.nodes, src)
		case "recommended response actions", "response actions":
			h.ResponseActions = listItems(s.nodes, src)
		case "references":
			h.References = links(s.nodes, src)
		case "version history":
			for _, row := range tableRows(s.nodes, src) {
				v := VersionEntry{}
				fields := []*string{&v.Version, &v.Date, &v.Impact, &v.Notes}
				for i := 0; i < len(row) && i < len(fields); i++ {
					*fields[i] = row[i]
				}
				h.Versions = append(h.Versions, v)
			}
		}
	}
	h.Queries = queries
	if len(h.Queries) == 0 {
		h.Queries = elsewhere
	}
	if len(h.Queries) == 0 {
		return h, ErrNoQuery
	}
	return h, nil
}

// canonicalSection lower-cases a heading and drops trailing qualifiers such
// as "(Query 2)".
func canonicalSection(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "("); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

var numberRE = regexp.MustCompile(`\d+`)

func firstNumber(s string) string { return numberRE.FindString(s) }

// fencedQuery returns a fenced block's text byte for byte with its language.
func fencedQuery(fc *gast.FencedCodeBlock, src []byte) HuntQuery {
	var b bytes.Buffer
	lines := fc.Lines()
	line := 0
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		if i == 0 {
			line = bytes.Count(src[:seg.Start], []byte("\n")) + 1
		}
		b.Write(seg.Value(src))
	}
	lang := ""
	if fc.Info != nil {
		lang = strings.TrimSpace(string(fc.Language(src)))
	}
	return HuntQuery{Language: lang, Text: b.String(), Line: line}
}

// inlineText flattens the inline content of a node to plain text.
func inlineText(n gast.Node, src []byte) string {
	var b strings.Builder
	var walk func(gast.Node)
	walk = func(n gast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch t := c.(type) {
			case *gast.Text:
				b.Write(t.Value(src))
				if t.SoftLineBreak() || t.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *gast.String:
				b.Write(t.Value)
			case *gast.AutoLink:
				b.Write(t.URL(src))
			case *gast.RawHTML:
				segs := t.Segments
				for i := 0; i < segs.Len(); i++ {
					s := segs.At(i)
					b.Write(s.Value(src))
				}
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// blockText renders block nodes as plain text, one paragraph or item per line.
func blockText(nodes []gast.Node, src []byte) string {
	var b strings.Builder
	var walk func(gast.Node, string)
	walk = func(n gast.Node, indent string) {
		switch t := n.(type) {
		case *gast.Paragraph, *gast.TextBlock, *gast.Heading:
			b.WriteString(indent + strings.TrimSpace(inlineText(t, src)) + "\n")
		case *gast.List:
			for it := t.FirstChild(); it != nil; it = it.NextSibling() {
				for c := it.FirstChild(); c != nil; c = c.NextSibling() {
					if _, isList := c.(*gast.List); isList {
						walk(c, indent+"  ")
						continue
					}
					b.WriteString(indent + "- " + strings.TrimSpace(inlineText(c, src)) + "\n")
				}
			}
		case *gast.FencedCodeBlock:
			b.WriteString(fencedQuery(t, src).Text)
		case *east.Table:
			for _, row := range tableRows([]gast.Node{t}, src) {
				b.WriteString(indent + strings.Join(row, " | ") + "\n")
			}
		case *gast.ThematicBreak:
		default:
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				walk(c, indent)
			}
		}
	}
	for _, n := range nodes {
		walk(n, "")
	}
	return b.String()
}

// keyValues collects "**Key:** value" pairs from paragraphs and list items.
func keyValues(nodes []gast.Node, src []byte) map[string]string {
	kv := map[string]string{}
	var visit func(gast.Node)
	visit = func(n gast.Node) {
		switch n.(type) {
		case *gast.Paragraph, *gast.TextBlock:
			// A paragraph may hold several "**Key:** value" lines.
			var line strings.Builder
			flush := func() {
				s := strings.TrimSpace(line.String())
				line.Reset()
				if k, v, ok := strings.Cut(s, ":"); ok && len(k) < 40 {
					k = strings.ToLower(strings.TrimSpace(strings.TrimLeft(k, "-* ")))
					if _, seen := kv[k]; !seen {
						kv[k] = strings.TrimSpace(v)
					}
				}
			}
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*gast.Text); ok {
					line.Write(t.Value(src))
					if t.SoftLineBreak() || t.HardLineBreak() {
						flush()
					}
					continue
				}
				line.WriteString(inlineNodeText(c, src))
			}
			flush()
			return
		}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			visit(c)
		}
	}
	for _, n := range nodes {
		visit(n)
	}
	return kv
}

// inlineNodeText is the plain text of one inline node (itself included).
func inlineNodeText(n gast.Node, src []byte) string {
	switch t := n.(type) {
	case *gast.Text:
		return string(t.Value(src))
	case *gast.String:
		return string(t.Value)
	case *gast.AutoLink:
		return string(t.URL(src))
	}
	return inlineText(n, src)
}

// listItems returns the items of the first-level lists (or the paragraphs
// when the section has no list).
func listItems(nodes []gast.Node, src []byte) []string {
	var items []string
	for _, n := range nodes {
		l, ok := n.(*gast.List)
		if !ok {
			continue
		}
		for it := l.FirstChild(); it != nil; it = it.NextSibling() {
			var parts []string
			for c := it.FirstChild(); c != nil; c = c.NextSibling() {
				if s := strings.TrimSpace(inlineText(c, src)); s != "" {
					parts = append(parts, s)
				}
			}
			if len(parts) > 0 {
				items = append(items, strings.Join(parts, " "))
			}
		}
	}
	if len(items) == 0 {
		for _, n := range nodes {
			if p, ok := n.(*gast.Paragraph); ok {
				if s := strings.TrimSpace(inlineText(p, src)); s != "" {
					items = append(items, s)
				}
			}
		}
	}
	return items
}

// tableRows returns the body rows of the tables among nodes.
func tableRows(nodes []gast.Node, src []byte) [][]string {
	var rows [][]string
	for _, n := range nodes {
		t, ok := n.(*east.Table)
		if !ok {
			continue
		}
		for r := t.FirstChild(); r != nil; r = r.NextSibling() {
			if _, header := r.(*east.TableHeader); header {
				continue
			}
			var row []string
			for c := r.FirstChild(); c != nil; c = c.NextSibling() {
				row = append(row, strings.TrimSpace(inlineText(c, src)))
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// links returns the links of the nodes, in order.
func links(nodes []gast.Node, src []byte) []Link {
	var out []Link
	for _, n := range nodes {
		_ = gast.Walk(n, func(c gast.Node, entering bool) (gast.WalkStatus, error) {
			if !entering {
				return gast.WalkContinue, nil
			}
			switch l := c.(type) {
			case *gast.Link:
				out = append(out, Link{Text: strings.TrimSpace(inlineText(l, src)), URL: string(l.Destination)})
				return gast.WalkSkipChildren, nil
			case *gast.AutoLink:
				u := string(l.URL(src))
				out = append(out, Link{Text: u, URL: u})
			}
			return gast.WalkContinue, nil
		})
	}
	return out
}
