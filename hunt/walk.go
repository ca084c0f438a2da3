package hunt

// Pos returns the position of the first stage, so that a *Query is a Node
// for Inspect.
func (q *Query) Pos() Pos {
	if q == nil || len(q.Stages) == 0 {
		return Pos{}
	}
	return q.Stages[0].Pos()
}

// Inspect traverses the tree rooted at n in depth-first order, as
// go/ast.Inspect does: it calls f(n); if f returns true it visits the
// children of n (stages of a *Query, the expressions and sub-queries of a
// stage, the operands of an expression), then calls f(nil).
func Inspect(n Node, f func(Node) bool) {
	if n == nil || isNilNode(n) || !f(n) {
		return
	}
	switch x := n.(type) {
	case *Query:
		for _, st := range x.Stages {
			Inspect(st, f)
		}
	case *FilterStage:
		inspectExpr(x.Cond, f)
	case *AlterStage:
		for _, a := range x.Assignments {
			inspectExpr(a.Value, f)
		}
	case *CompStage:
		for _, a := range x.Aggregates {
			for _, e := range a.Args {
				inspectExpr(e, f)
			}
		}
	case *JoinStage:
		if x.Sub != nil {
			Inspect(x.Sub, f)
		}
		inspectExpr(x.Cond, f)
	case *UnionStage:
		if x.Sub != nil {
			Inspect(x.Sub, f)
		}
	case *Unary:
		inspectExpr(x.X, f)
	case *Binary:
		inspectExpr(x.X, f)
		inspectExpr(x.Y, f)
	case *InExpr:
		inspectExpr(x.X, f)
		for _, e := range x.List {
			inspectExpr(e, f)
		}
		if x.Sub != nil {
			Inspect(x.Sub, f)
		}
	case *Call:
		for _, e := range x.Args {
			inspectExpr(e, f)
		}
	case *JSONPath:
		inspectExpr(x.X, f)
	case *Paren:
		inspectExpr(x.X, f)
	}
	f(nil)
}

func inspectExpr(e Expr, f func(Node) bool) {
	if e != nil {
		Inspect(e, f)
	}
}

// isNilNode reports whether n holds a nil pointer of a node type.
func isNilNode(n Node) bool {
	switch x := n.(type) {
	case *Query:
		return x == nil
	case *Ident:
		return x == nil
	case *Binary:
		return x == nil
	case *Unary:
		return x == nil
	case *InExpr:
		return x == nil
	case *Call:
		return x == nil
	case *JSONPath:
		return x == nil
	case *Paren:
		return x == nil
	case *StringLit:
		return x == nil
	}
	return false
}
