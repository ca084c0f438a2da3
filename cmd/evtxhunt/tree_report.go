package main

import (
	"context"
	"errors"

	"evtxhunt/normalize"
	"evtxhunt/report"
)

// processTree returns the report's ancestry tree of an xdr_data row: the
// chain from the causality actor down to the process and its children. A
// row without a process node (not a process start) has no tree.
func processTree(ctx context.Context, st *normalize.Store, rowid int64) (*report.TreeNode, error) {
	t, err := st.ProcessTree(ctx, rowid)
	if errors.Is(err, normalize.ErrNoProcessNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toReportTree(t), nil
}

// toReportTree converts a normalize tree to the report's model.
func toReportTree(n *normalize.TreeNode) *report.TreeNode {
	if n == nil {
		return nil
	}
	out := &report.TreeNode{
		Name: n.Name, Image: n.Image, CommandLine: n.CommandLine, User: n.User, PID: n.PID, Start: n.Start,
		Synthetic: n.Synthetic, IsMatch: n.IsMatch, CausalityRoot: n.CausalityRoot, Source: n.Source,
	}
	for _, c := range n.Children {
		out.Children = append(out.Children, toReportTree(c))
	}
	return out
}
