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
		return treeFromStore(t), nil
	}
}

// treeFromStore converts a normalize tree to the report's model.
func treeFromStore(n *normalize.TreeNode) *TreeNode {
	if n == nil {
		return nil
	}
	out := &TreeNode{
		Name: n.Name, Image: n.Image, CommandLine: n.CommandLine, User: n.User, PID: n.PID, Start: n.Start,
		Synthetic: n.Synthetic, IsMatch: n.IsMatch, CausalityRoot: n.CausalityRoot, Source: n.Source,
	}
	for _, c := range n.Children {
		out.Children = append(out.Children, treeFromStore(c))
	}
	return out
}
