package normalize

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"strconv"
	"strings"
)

// chainShown bounds x_ancestry: a longer chain keeps its head and the last
// chainTail elements and says how many it leaves out.
const (
	chainShown = 12
	chainTail  = 9
)

// rowCausality returns, for the PROCESS_START row of surviving node i, the
// actor (parent) node, the causality-actor node and the rule that chose it
// (xdr-model.md §2.3 step 5). The actor is -1 when the parent is unknown;
// the causality actor is then the process itself.
func (r *ancRules) rowCausality(g *ancGraph, i int) (actor, cgo int, rule string) {
	n := &g.Nodes[i]
	actor = n.Parent
	switch {
	case r.childMode:
		return actor, n.CGO, n.Rule
	case actor >= 0:
		return actor, g.Nodes[actor].CGO, g.Nodes[actor].Rule
	default:
		return -1, i, n.Rule
	}
}

// nodeLabel renders a node as "name[pid]", with "?" for an unknown part and
// a "(synthetic)" mark.
func nodeLabel(n *ancNode) string {
	name := imageBase(n.Image)
	if name == "" {
		name = "?"
	}
	pid := "?"
	if n.PID >= 0 {
		pid = strconv.FormatInt(n.PID, 10)
	}
	s := name + "[" + pid + "]"
	if n.synthetic() {
		s += "(synthetic)"
	}
	return s
}

// ancestryText builds x_ancestry for node i whose row has causality actor
// cgo: the chain from the causality actor's parent (which shows why the
// causality actor is one) down to the process, e.g.
// "explorer.exe[4012] > cmd.exe[5120] > net.exe[6100]". Chains longer than
// chainShown elements are shortened in the middle ("...(N more)"). The cost
// is bounded by chainShown, not by the depth of the chain.
func ancestryText(g *ancGraph, i, cgo int) string {
	start := cgo
	if p := g.Nodes[cgo].Parent; p >= 0 {
		start = p
	}
	length := g.Nodes[i].Depth - g.Nodes[start].Depth + 1
	if length < 1 || length > len(g.Nodes) { // not an ancestor: inconsistent input
		return nodeLabel(&g.Nodes[i])
	}
	var parts []string
	if length <= chainShown {
		parts = make([]string, length)
		j := i
		for k := length - 1; k >= 0 && j >= 0; k-- {
			parts[k] = nodeLabel(&g.Nodes[j])
			j = g.Nodes[j].Parent
		}
		return strings.Join(parts, " > ")
	}
	head := []int{start}
	if start != cgo {
		head = append(head, cgo)
	}
	tail := make([]string, chainTail)
	j := i
	for k := chainTail - 1; k >= 0 && j >= 0; k-- {
		tail[k] = nodeLabel(&g.Nodes[j])
		j = g.Nodes[j].Parent
	}
	for _, h := range head {
		parts = append(parts, nodeLabel(&g.Nodes[h]))
	}
	parts = append(parts, "...("+strconv.Itoa(length-len(head)-chainTail)+" more)")
	parts = append(parts, tail...)
	return strings.Join(parts, " > ")
}

// syntheticInstanceID builds an instance id for a synthetic node in the XDR
// layout (FILETIME of the estimated start, PID) but with the last four
// bytes set to a non-zero hash of the host and the node's identity, so it
// never equals a real process's id and is stable across rebuilds.
func syntheticInstanceID(host string, n *ancNode) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(n.Start+116444736000000000))
	binary.BigEndian.PutUint32(b[8:12], uint32(n.PID))
	h := fnv.New32a()
	h.Write([]byte(host + "|" + n.GUID + "|" + imageKey(n.Image) + "|" + strconv.FormatInt(n.PID, 10)))
	binary.BigEndian.PutUint32(b[12:16], h.Sum32()|1)
	return base64.StdEncoding.EncodeToString(b[:])
}

// computeAncestry runs the whole in-memory pass over one host's process
// starts and stops.
func (r *ancRules) computeAncestry(nodes []ancNode, stops []ancStop) *ancGraph {
	g := buildGraph(nodes, stops)
	r.assignCausality(g)
	return g
}
