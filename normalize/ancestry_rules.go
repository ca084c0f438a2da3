package normalize

import (
	"errors"
	"fmt"
	"strings"
)

// Start-row causality modes (xdr-model.md §2.2).
const (
	// ActorGroup gives a PROCESS_START row the causality group of its actor
	// (the parent): a spawner's children carry the spawner as causality
	// actor. This is the default.
	ActorGroup = "actor_group"
	// ChildGroup gives a PROCESS_START row the causality group of the new
	// process itself.
	ChildGroup = "child_group"
)

// Names of the rules that choose a causality group owner, stored in
// x_cgo_rule and process_nodes.cgo_rule.
const (
	// RuleSpawnerSelf: the process is a legitimate spawner and its own CGO.
	RuleSpawnerSelf = "spawner-self"
	// RuleForcedRoot: the spawner table marks the process as a causality
	// root although its parent is no spawner (WmiPrvSE.exe by default).
	RuleForcedRoot = "forced-root"
	// RuleChildOfSpawner: the parent is a spawner, so the process starts a
	// new causality group.
	RuleChildOfSpawner = "child-of-spawner"
	// RuleNoParent: nothing is known about the parent, so the process is
	// its own root.
	RuleNoParent = "no-parent"
	// RuleLoopCut: the parent edge closed a loop in corrupt data and was
	// cut, so the process is its own root.
	RuleLoopCut = "loop-cut"
	// RuleInherited: the process belongs to its parent's causality group.
	RuleInherited = "inherited"
)

// ErrBadAncestryOption is returned for an AncestryOptions value that cannot
// be used (an unknown StartRowCausality, an empty spawner name).
var ErrBadAncestryOption = errors.New("normalize: bad ancestry option")

// SpawnerRule is one row of the spawner table (xdr-model.md §2.3 step 3).
type SpawnerRule struct {
	// Name is the image file name, matched case-insensitively ("explorer.exe").
	Name string
	// Parents are the parent image names that make the process a spawner;
	// "system" also matches PID 4. Empty means any parent.
	Parents []string
	// UnknownParent lets a process whose parent is unknown count as well.
	UnknownParent bool
	// Dirs are the canonical directories of the image, written without the
	// volume (`\windows\system32`); the image must be in one of them
	// (anti-masquerade). Empty means any directory.
	Dirs []string
	// Root makes the process a causality root (its own CGO, inherited by its
	// descendants) instead of a spawner (whose children are roots).
	Root bool
}

// System directories of the spawner table.
const (
	dirSystem32 = `\windows\system32`
	dirSysWOW64 = `\windows\syswow64`
	dirWindows  = `\windows`
	dirWbem     = `\windows\system32\wbem`
	dirWbemWOW  = `\windows\syswow64\wbem`
)

// DefaultSpawnerRules returns the spawner table of xdr-model.md §2.3 without
// the two optional rows (svchost.exe as spawner, WmiPrvSE.exe as root),
// which AncestryOptions switches.
func DefaultSpawnerRules() []SpawnerRule {
	sys := []string{dirSystem32}
	return []SpawnerRule{
		{Name: "system", UnknownParent: true},
		{Name: "smss.exe", Parents: []string{"system", "smss.exe"}, UnknownParent: true, Dirs: sys},
		{Name: "csrss.exe", Parents: []string{"smss.exe"}, UnknownParent: true, Dirs: sys},
		{Name: "wininit.exe", Parents: []string{"smss.exe"}, UnknownParent: true, Dirs: sys},
		{Name: "winlogon.exe", Parents: []string{"smss.exe"}, UnknownParent: true, Dirs: sys},
		{Name: "services.exe", Parents: []string{"wininit.exe"}, UnknownParent: true, Dirs: sys},
		{Name: "userinit.exe", Parents: []string{"winlogon.exe"}, UnknownParent: true, Dirs: sys},
		{Name: "explorer.exe", Parents: []string{"userinit.exe", "winlogon.exe"}, UnknownParent: true, Dirs: []string{dirWindows}},
	}
}

// svchostSpawnerRule is the optional svchost.exe row.
var svchostSpawnerRule = SpawnerRule{Name: "svchost.exe", Parents: []string{"services.exe"}, Dirs: []string{dirSystem32, dirSysWOW64}}

// wmiprvseRootRule is the optional WmiPrvSE.exe row.
var wmiprvseRootRule = SpawnerRule{Name: "wmiprvse.exe", Parents: []string{"svchost.exe"}, Dirs: []string{dirWbem, dirWbemWOW}, Root: true}

// AncestryOptions configures the ancestry pass. The zero value gives the
// defaults of xdr-model.md §2.3: the default spawner table, svchost.exe not
// a spawner, WmiPrvSE.exe a causality root, actor_group start rows.
type AncestryOptions struct {
	// Spawners replaces DefaultSpawnerRules when not nil.
	Spawners []SpawnerRule
	// SvchostSpawner adds svchost.exe (parent services.exe, System32 or
	// SysWOW64) as a spawner, so that its children start causality groups.
	SvchostSpawner bool
	// WmiPrvSEInherit drops the default rule that makes WmiPrvSE.exe
	// (parent svchost.exe, System32\wbem) a causality root; it then inherits
	// its parent's group.
	WmiPrvSEInherit bool
	// StartRowCausality is ActorGroup (the default when empty) or ChildGroup.
	StartRowCausality string
	// Hosts limits RebuildAncestry to these hosts (agent_hostname or
	// agent_id, case-insensitive); empty means every host.
	Hosts []string
}

// ancRules is the resolved spawner table, keyed by lower-case image name.
type ancRules struct {
	byName    map[string]SpawnerRule
	childMode bool
}

// resolve checks the options and builds the rule lookup.
func (o AncestryOptions) resolve() (*ancRules, error) {
	r := &ancRules{byName: map[string]SpawnerRule{}}
	switch o.StartRowCausality {
	case "", ActorGroup:
	case ChildGroup:
		r.childMode = true
	default:
		return nil, fmt.Errorf("%w: StartRowCausality %q (want %q or %q)", ErrBadAncestryOption, o.StartRowCausality, ActorGroup, ChildGroup)
	}
	rules := o.Spawners
	if rules == nil {
		rules = DefaultSpawnerRules()
	}
	add := func(sr SpawnerRule) error {
		name := strings.ToLower(strings.TrimSpace(sr.Name))
		if name == "" {
			return fmt.Errorf("%w: spawner rule with an empty name", ErrBadAncestryOption)
		}
		sr.Name = name
		for i, p := range sr.Parents {
			sr.Parents[i] = strings.ToLower(strings.TrimSpace(p))
		}
		for i, d := range sr.Dirs {
			sr.Dirs[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), `\`)
		}
		r.byName[name] = sr
		return nil
	}
	for _, sr := range rules {
		sr.Parents = append([]string(nil), sr.Parents...)
		sr.Dirs = append([]string(nil), sr.Dirs...)
		if err := add(sr); err != nil {
			return nil, err
		}
	}
	if o.SvchostSpawner {
		sr := svchostSpawnerRule
		sr.Parents, sr.Dirs = append([]string(nil), sr.Parents...), append([]string(nil), sr.Dirs...)
		if err := add(sr); err != nil {
			return nil, err
		}
	}
	if !o.WmiPrvSEInherit {
		if _, set := r.byName["wmiprvse.exe"]; !set {
			sr := wmiprvseRootRule
			sr.Parents, sr.Dirs = append([]string(nil), sr.Parents...), append([]string(nil), sr.Dirs...)
			if err := add(sr); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// verdict applies the spawner table to node i: it returns whether the node
// is a spawner and whether it is a forced causality root. The name, the
// parent condition and the canonical directory must all match.
func (r *ancRules) verdict(g *ancGraph, i int) (spawner, root bool) {
	n := &g.Nodes[i]
	sr, ok := r.byName[n.name()]
	if !ok {
		return false, false
	}
	if !inDirs(n.Image, sr.Dirs) {
		return false, false
	}
	if !parentAllowed(g, n, sr) {
		return false, false
	}
	return !sr.Root, sr.Root
}

// inDirs reports whether an image path lies directly in one of dirs
// (volume-independent); any path passes when dirs is empty.
func inDirs(image string, dirs []string) bool {
	if len(dirs) == 0 {
		return true
	}
	k := imageKey(image)
	i := strings.LastIndexByte(k, '\\')
	if i < 0 {
		return false
	}
	dir := k[:i]
	for _, d := range dirs {
		if dir == d {
			return true
		}
	}
	return false
}

// parentAllowed checks a rule's parent condition for node n.
func parentAllowed(g *ancGraph, n *ancNode, sr SpawnerRule) bool {
	if n.Parent < 0 {
		return sr.UnknownParent || len(sr.Parents) == 0
	}
	if len(sr.Parents) == 0 {
		return true
	}
	p := &g.Nodes[n.Parent]
	pname := p.name()
	for _, want := range sr.Parents {
		if pname == want || (want == "system" && p.PID == 4) {
			return true
		}
	}
	return false
}

// assignCausality sets Spawner, Root, CGO, Rule and Depth on every node
// (xdr-model.md §2.3 step 4). Nodes are decided parents first: each walk up
// stops at a node already decided, so the whole pass is linear in the number
// of nodes however deep the chains are, and uses no recursion. It relies on
// buildGraph having cut every loop; a walk longer than len(Nodes) is cut
// anyway.
func (r *ancRules) assignCausality(g *ancGraph) {
	for i := range g.Nodes {
		g.Nodes[i].Spawner, g.Nodes[i].Root = r.verdict(g, i)
		g.Nodes[i].CGO, g.Nodes[i].Rule, g.Nodes[i].Depth = -1, "", 0
	}
	done := make([]bool, len(g.Nodes))
	var stack []int
	for i := range g.Nodes {
		if g.Nodes[i].MergedInto >= 0 {
			continue
		}
		stack = stack[:0]
		for j := i; j >= 0 && !done[j] && len(stack) <= len(g.Nodes); j = g.Nodes[j].Parent {
			stack = append(stack, j)
		}
		for k := len(stack) - 1; k >= 0; k-- {
			j := stack[k]
			decideCGO(g, j, done)
			done[j] = true
		}
	}
	for i := range g.Nodes {
		if m := g.Nodes[i].MergedInto; m >= 0 {
			g.Nodes[i].CGO, g.Nodes[i].Rule, g.Nodes[i].Depth = g.Nodes[m].CGO, g.Nodes[m].Rule, g.Nodes[m].Depth
		}
	}
}

// decideCGO applies the CGO rules to node j, whose parent is decided.
func decideCGO(g *ancGraph, j int, done []bool) {
	n := &g.Nodes[j]
	p := n.Parent
	if p >= 0 && !done[p] { // only after a defensive cut in a surviving loop
		p = -1
	}
	if p >= 0 {
		n.Depth = g.Nodes[p].Depth + 1
	}
	switch {
	case n.Spawner:
		n.CGO, n.Rule = j, RuleSpawnerSelf
	case n.Root:
		n.CGO, n.Rule = j, RuleForcedRoot
	case p < 0 && n.Link == linkLoopCut:
		n.CGO, n.Rule = j, RuleLoopCut
	case p < 0:
		n.CGO, n.Rule = j, RuleNoParent
	case g.Nodes[p].Spawner:
		n.CGO, n.Rule = j, RuleChildOfSpawner
	default:
		n.CGO, n.Rule = g.Nodes[p].CGO, RuleInherited
	}
}
