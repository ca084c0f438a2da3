package normalize

import (
	"sort"
	"strconv"
	"strings"
)

// This file holds the pure, in-memory half of the ancestry pass: the process
// graph of one host (nodes, merges, parent edges, synthetic parents, loop
// cuts). ancestry_rules.go adds spawners and causality group owners; the
// SQLite side is ancestry_store.go. Nothing here touches a database, so
// every rule can be tested on hand-written nodes.

// ancKind says where a process node comes from.
type ancKind uint8

const (
	ancSysmon    ancKind = iota + 1 // Sysmon Event ID 1
	ancSecurity                     // Security 4688
	ancSynthetic                    // a parent named by a child whose own record is absent
)

// ancLink says how a node's parent edge was found.
type ancLink uint8

const (
	linkNone      ancLink = iota // no parent known
	linkGUID                     // Sysmon ParentProcessGuid = the parent's ProcessGuid
	linkPID                      // creator PID + time (4688, or Sysmon whose parent has no Sysmon record)
	linkSynthetic                // parent is a synthetic node built from what the child says
	linkLoopCut                  // the edge closed a loop (corrupt data) and was cut
)

// String returns the name process_nodes.link stores.
func (l ancLink) String() string {
	switch l {
	case linkGUID:
		return "guid"
	case linkPID:
		return "pid-time"
	case linkSynthetic:
		return "synthetic"
	case linkLoopCut:
		return "loop-cut"
	}
	return "none"
}

// mergeWindow is the largest start-time difference, in 100 ns ticks, between
// a Sysmon EID 1 and a 4688 record of the same process (2 s).
const mergeWindow = 2 * 10_000_000

// ancNode is one process instance of one host. The input fields are what
// the process's own record (or, for a synthetic node, its child's record)
// says; the result fields are filled by buildGraph and assignCausality.
type ancNode struct {
	// Row is the xdr_data rowid of the node's record, 0 for synthetic nodes.
	Row  int64
	Kind ancKind
	// GUID and ParentGUID are Sysmon ProcessGuid / ParentProcessGuid ("" for 4688).
	GUID, ParentGUID string
	// PID and ParentPID are the process and creator PIDs, -1 when unknown.
	PID, ParentPID int64
	// Image, CmdLine and User describe the process itself.
	Image, CmdLine, User string
	// ParentImage, ParentCmdLine and ParentUser are what the record says
	// about the parent (Sysmon Parent*, 4688 ParentProcessName/Subject*).
	ParentImage, ParentCmdLine, ParentUser string
	// Start is the start time in 100 ns ticks since the Unix epoch. For a
	// synthetic node it is an estimate (see StartFromGUID).
	Start int64
	// StartFromGUID is set on a synthetic node whose Start was decoded from
	// its Sysmon ProcessGuid (whole seconds) rather than copied from its
	// first child.
	StartFromGUID bool

	// End is the stop time (4689 / Sysmon 5) in 100 ns ticks, 0 when unknown.
	End int64
	// Parent is the index of the parent node, -1 when none.
	Parent int
	// Link says how Parent was found.
	Link ancLink
	// MergedInto is, for a 4688 node merged into a Sysmon node, that node's
	// index; -1 otherwise. Merged nodes take no further part in the graph.
	MergedInto int
	// Merged lists the nodes merged into this one.
	Merged []int
	// Children counts the nodes whose Parent is this node.
	Children int
	// Spawner and Root are the spawner-table verdicts (ancestry_rules.go).
	Spawner, Root bool
	// CGO is the index of the node's causality group owner.
	CGO int
	// Rule names the rule that chose CGO.
	Rule string
	// Depth is the number of ancestors.
	Depth int
}

// synthetic reports whether the node was built from a child's record.
func (n *ancNode) synthetic() bool { return n.Kind == ancSynthetic }

// name returns the lower-case file name of the node's image.
func (n *ancNode) name() string { return strings.ToLower(imageBase(n.Image)) }

// ancStop is one process end (Sysmon 5 / 4689).
type ancStop struct {
	Row   int64
	GUID  string
	PID   int64
	Image string
	Time  int64
	// Node is the index of the process that ended, -1 when not found.
	Node int
}

// ancGraph is the process graph of one host.
type ancGraph struct {
	Nodes []ancNode
	Stops []ancStop
	// LoopCuts counts the parent edges cut to break loops.
	LoopCuts int
	// Merges counts the 4688 nodes merged into Sysmon nodes.
	Merges int
}

// imageBase returns the file-name part of a Windows (or slash-separated) path.
func imageBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// imageKey reduces an image path to a comparable form: lower case, with the
// volume part (C:, \\?\C:, \??\C:, \Device\HarddiskVolumeN, \SystemRoot as
// \Windows) removed, so that the Sysmon and 4688 spellings of one file match.
func imageKey(p string) string {
	s := strings.ToLower(strings.TrimSpace(p))
	for _, pfx := range []string{`\\?\`, `\??\`} {
		s = strings.TrimPrefix(s, pfx)
	}
	switch {
	case len(s) >= 2 && s[1] == ':' && s[0] >= 'a' && s[0] <= 'z':
		s = s[2:]
	case strings.HasPrefix(s, `\device\harddiskvolume`):
		rest := s[len(`\device\harddiskvolume`):]
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		s = rest[i:]
	case strings.HasPrefix(s, `\systemroot\`):
		s = `\windows\` + s[len(`\systemroot\`):]
	}
	return s
}

// sameImage reports whether two image paths name the same file. An empty
// path matches nothing.
func sameImage(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return imageKey(a) == imageKey(b)
}

// buildGraph sorts the nodes by start time and fills every graph field:
// merges, process ends, parent edges, synthetic parents and loop cuts.
// Causality is assigned separately by assignCausality.
func buildGraph(nodes []ancNode, stops []ancStop) *ancGraph {
	sort.SliceStable(nodes, func(i, j int) bool {
		if nodes[i].Start != nodes[j].Start {
			return nodes[i].Start < nodes[j].Start
		}
		return nodes[i].Row < nodes[j].Row
	})
	for i := range nodes {
		// Sysmon writes the all-zero GUID for an unknown parent: it names
		// no process, and must not make unrelated orphans siblings.
		if isZeroGUID(nodes[i].ParentGUID) {
			nodes[i].ParentGUID = ""
		}
		if isZeroGUID(nodes[i].GUID) {
			nodes[i].GUID = ""
		}
		// ... and "-" for its image, command line and user.
		for _, f := range []*string{&nodes[i].ParentImage, &nodes[i].ParentCmdLine, &nodes[i].ParentUser} {
			if strings.TrimSpace(*f) == "-" {
				*f = ""
			}
		}
		nodes[i].Parent, nodes[i].MergedInto, nodes[i].CGO = -1, -1, -1
		nodes[i].Link, nodes[i].Merged, nodes[i].Children = linkNone, nil, 0
	}
	g := &ancGraph{Nodes: nodes, Stops: stops}
	g.merge()
	byPID := g.pidIndex()
	g.applyStops(byPID)
	g.link(byPID)
	g.cutLoops()
	for i := range g.Nodes {
		if p := g.Nodes[i].Parent; p >= 0 {
			g.Nodes[p].Children++
		}
	}
	return g
}

// merge folds each 4688 node into the Sysmon node of the same process: same
// PID and image, starts within mergeWindow and no stop of that PID between
// the two starts (which would make them two processes); the closest start
// wins and a Sysmon node absorbs at most one 4688 node.
func (g *ancGraph) merge() {
	stopsByPID := map[int64][]int64{}
	for _, st := range g.Stops {
		if st.PID >= 0 {
			stopsByPID[st.PID] = append(stopsByPID[st.PID], st.Time)
		}
	}
	for _, ts := range stopsByPID {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	}
	stoppedBetween := func(pid, a, b int64) bool {
		if a > b {
			a, b = b, a
		}
		ts := stopsByPID[pid]
		k := sort.Search(len(ts), func(x int) bool { return ts[x] >= a })
		return k < len(ts) && ts[k] < b
	}
	sysByPID := map[int64][]int{}
	for i := range g.Nodes {
		if n := &g.Nodes[i]; n.Kind == ancSysmon && n.PID >= 0 {
			sysByPID[n.PID] = append(sysByPID[n.PID], i)
		}
	}
	for i := range g.Nodes {
		s := &g.Nodes[i]
		if s.Kind != ancSecurity || s.PID < 0 {
			continue
		}
		best, bestDiff := -1, int64(mergeWindow)+1
		for _, j := range sysByPID[s.PID] {
			y := &g.Nodes[j]
			if len(y.Merged) > 0 || !sameImage(y.Image, s.Image) || stoppedBetween(s.PID, s.Start, y.Start) {
				continue
			}
			d := y.Start - s.Start
			if d < 0 {
				d = -d
			}
			if d < bestDiff {
				best, bestDiff = j, d
			}
		}
		if best >= 0 {
			s.MergedInto = best
			g.Nodes[best].Merged = append(g.Nodes[best].Merged, i)
			g.Merges++
		}
	}
}

// pidIndex maps each PID to the surviving (unmerged) nodes with that PID, in
// start order.
func (g *ancGraph) pidIndex() map[int64][]int {
	m := map[int64][]int{}
	for i := range g.Nodes {
		if n := &g.Nodes[i]; n.MergedInto < 0 && n.PID >= 0 {
			m[n.PID] = append(m[n.PID], i)
		}
	}
	return m
}

// applyStops sets End on the process each stop ends: by GUID for Sysmon 5,
// otherwise the latest process with that PID started before the stop. A
// stop for a process that already ended (the other log's copy, or a process
// started before the logs) changes nothing.
func (g *ancGraph) applyStops(byPID map[int64][]int) {
	byGUID := g.guidIndex()
	sort.SliceStable(g.Stops, func(i, j int) bool { return g.Stops[i].Time < g.Stops[j].Time })
	for k := range g.Stops {
		st := &g.Stops[k]
		st.Node = -1
		if st.GUID != "" {
			if i, ok := byGUID[st.GUID]; ok && g.Nodes[i].Start <= st.Time {
				st.Node = i
			}
		}
		if st.Node < 0 && st.PID >= 0 {
			cands := byPID[st.PID]
			// Latest start <= stop time.
			j := sort.Search(len(cands), func(x int) bool { return g.Nodes[cands[x]].Start > st.Time }) - 1
			if j >= 0 {
				st.Node = cands[j]
			}
		}
		if st.Node >= 0 && g.Nodes[st.Node].End == 0 {
			g.Nodes[st.Node].End = st.Time
		}
	}
}

// guidIndex maps each ProcessGuid to the earliest surviving node carrying it.
func (g *ancGraph) guidIndex() map[string]int {
	m := map[string]int{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.GUID == "" || n.MergedInto >= 0 {
			continue
		}
		if _, dup := m[n.GUID]; !dup {
			m[n.GUID] = i
		}
	}
	return m
}

// link finds every surviving node's parent: by GUID, then by creator PID and
// time, then a synthetic parent when the record names its parent.
func (g *ancGraph) link(byPID map[int64][]int) {
	byGUID := g.guidIndex()
	synth := map[string]int{}
	n0 := len(g.Nodes) // synthetic nodes are appended after the real ones
	for i := 0; i < n0; i++ {
		c := &g.Nodes[i]
		if c.MergedInto >= 0 {
			continue
		}
		if c.ParentGUID != "" {
			if p, ok := byGUID[c.ParentGUID]; ok && p != i {
				c.Parent, c.Link = p, linkGUID
				continue
			}
		}
		if p := g.pidParent(i, byPID); p >= 0 {
			c.Parent, c.Link = p, linkPID
			continue
		}
		if c.ParentImage == "" && c.ParentCmdLine == "" {
			continue // nothing is known about the parent
		}
		key := "p|" + strconv.FormatInt(c.ParentPID, 10) + "|" + imageKey(c.ParentImage)
		if c.ParentGUID != "" {
			key = "g|" + c.ParentGUID
		}
		p, ok := synth[key]
		if !ok {
			start, fromGUID := syntheticStart(c.ParentGUID, c.Start)
			p = len(g.Nodes)
			synth[key] = p
			g.Nodes = append(g.Nodes, ancNode{
				Kind: ancSynthetic, GUID: c.ParentGUID, PID: c.ParentPID, ParentPID: -1,
				Image: c.ParentImage, CmdLine: c.ParentCmdLine, User: c.ParentUser,
				Start: start, StartFromGUID: fromGUID,
				Parent: -1, MergedInto: -1, CGO: -1,
			})
			c = &g.Nodes[i] // the append may have moved the slice
		} else {
			s := &g.Nodes[p]
			if s.CmdLine == "" {
				s.CmdLine = c.ParentCmdLine
			}
			if s.User == "" {
				s.User = c.ParentUser
			}
			if s.Image == "" {
				s.Image = c.ParentImage
			}
		}
		c.Parent, c.Link = p, linkSynthetic
	}
}

// pidParent returns the parent of node i found by creator PID: among the
// surviving nodes with that PID that started no later than the child and had
// not ended before it started, the most recent one whose image is the
// parent image the child names; when the child names none, the most recent
// one. A Sysmon child only accepts a node without a GUID (a 4688 record):
// Sysmon names the GUID of every process it saw start, so a Sysmon node
// with another GUID (or one the child's record did not name) is another
// process. It returns -1 when nothing fits.
func (g *ancGraph) pidParent(i int, byPID map[int64][]int) int {
	c := &g.Nodes[i]
	if c.ParentPID < 0 {
		return -1
	}
	cands := byPID[c.ParentPID]
	j := sort.Search(len(cands), func(x int) bool { return g.Nodes[cands[x]].Start > c.Start }) - 1
	for ; j >= 0; j-- {
		k := cands[j]
		p := &g.Nodes[k]
		if k == i || (p.End != 0 && p.End < c.Start) {
			continue
		}
		if c.Kind == ancSysmon && p.GUID != "" {
			continue
		}
		if c.ParentImage != "" && !sameImage(c.ParentImage, p.Image) {
			continue
		}
		return k
	}
	return -1
}

// syntheticStart estimates when a synthetic parent started: the creation
// time a Sysmon ProcessGuid carries (whole seconds) when it is plausible,
// otherwise the child's start. The flag says whether the GUID was used.
func syntheticStart(guid string, child int64) (int64, bool) {
	if sec, ok := guidStartSeconds(guid); ok {
		t := sec * 10_000_000
		// Plausible: not after the child, not more than ten years before it.
		if t <= child && child-t < 10*365*24*3600*10_000_000 {
			return t, true
		}
	}
	return child, false
}

// isZeroGUID reports whether s is a GUID of zeros (with or without braces).
func isZeroGUID(s string) bool {
	g := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	return len(g) == 36 && strings.Trim(g, "0-") == ""
}

// guidStartSeconds decodes the process creation time (Unix seconds) that
// Sysmon writes into the second and third groups of a ProcessGuid
// ({mmmmmmmm-LLLL-HHHH-...}: time = HHHH<<16 | LLLL). This is an observed
// layout, not a documented one; callers treat the value as an estimate.
func guidStartSeconds(guid string) (int64, bool) {
	g := strings.TrimSuffix(strings.TrimPrefix(guid, "{"), "}")
	if len(g) != 36 || g[8] != '-' || g[13] != '-' || g[18] != '-' {
		return 0, false
	}
	lo, err1 := strconv.ParseUint(g[9:13], 16, 16)
	hi, err2 := strconv.ParseUint(g[14:18], 16, 16)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	v := int64(hi<<16 | lo)
	if v == 0 {
		return 0, false
	}
	return v, true
}

// cutLoops breaks every parent cycle (possible only in corrupt data, such as
// a ProcessGuid that names itself or its descendant as parent): in each
// cycle the edge of the earliest-starting node is cut. The walk is
// iterative, so neither long chains nor loops exhaust the stack.
func (g *ancGraph) cutLoops() {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(g.Nodes))
	pos := make([]int, len(g.Nodes))
	var path []int
	for i := range g.Nodes {
		if state[i] != unseen {
			continue
		}
		path = path[:0]
		j := i
		for j >= 0 && state[j] == unseen {
			state[j] = onPath
			pos[j] = len(path)
			path = append(path, j)
			j = g.Nodes[j].Parent
		}
		if j >= 0 && state[j] == onPath {
			cycle := path[pos[j]:]
			cut := cycle[0]
			for _, k := range cycle[1:] {
				if g.Nodes[k].Start < g.Nodes[cut].Start ||
					(g.Nodes[k].Start == g.Nodes[cut].Start && k < cut) {
					cut = k
				}
			}
			g.Nodes[cut].Parent, g.Nodes[cut].Link = -1, linkLoopCut
			g.LoopCuts++
		}
		for _, k := range path {
			state[k] = done
		}
	}
}
