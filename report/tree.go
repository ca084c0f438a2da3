package report

import (
	"context"
	"errors"

	"evtxhunt/normalize"
)

// StoreTrees returns a BuildOptions.Tree function that reads ancestry trees
// from the store: the chain from the causality actor down to the process and
// its children. A row without a process node (not a process start) has no tree.
func StoreTrees(st *normalize.Store) func(ctx context.Context, rowid int64) (*TreeNode, error) {
	return func(ctx context.Context, rowid int64) (*TreeNode, error) {
		t, err := st.ProcessTree(ctx, rowid)
		if errors.Is(err, normalize.ErrNoProcessNode) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return TreeFromStore(t), nil
	}
}

// TreeFromStore converts a normalize process tree to the report's model.
// The report model has no Elided/ChildrenOmitted counts; they are dropped.
// It returns nil for a nil tree and never recurses (chains may be 10,000 deep).
func TreeFromStore(root *normalize.TreeNode) *TreeNode {
	if root == nil {
		return nil
	}
	conv := func(n *normalize.TreeNode) *TreeNode {
		return &TreeNode{Name: n.Name, Image: n.Image, CommandLine: n.CommandLine, User: n.User, PID: n.PID,
			Start: n.Start, Synthetic: n.Synthetic, IsMatch: n.IsMatch, CausalityRoot: n.CausalityRoot, Source: n.Source}
	}
	type pair struct {
		from *normalize.TreeNode
		to   *TreeNode
	}
	out := conv(root)
	stack := []pair{{root, out}}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range p.from.Children {
			rc := conv(c)
			p.to.Children = append(p.to.Children, rc)
			stack = append(stack, pair{c, rc})
		}
	}
	return out
}
