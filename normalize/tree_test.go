package normalize

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"evtxhunt/evtx"
)

// msDur is k milliseconds.
func msDur(k int) time.Duration { return time.Duration(k) * time.Millisecond }

// treeShape renders a tree as "name[pid]" lines indented by depth, with
// flags, for comparison with hand-written expectations.
func treeShape(n *TreeNode) string {
	var b strings.Builder
	type item struct {
		n     *TreeNode
		depth int
	}
	stack := []item{{n, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fmt.Fprintf(&b, "%s%s[%d]", strings.Repeat("  ", it.depth), it.n.Name, it.n.PID)
		if it.n.Synthetic {
			b.WriteString(" synthetic")
		}
		if it.n.CausalityRoot {
			b.WriteString(" root")
		}
		if it.n.IsMatch {
			b.WriteString(" match")
		}
		if it.n.Elided > 0 {
			fmt.Fprintf(&b, " elided=%d", it.n.Elided)
		}
		if it.n.ChildrenOmitted > 0 {
			fmt.Fprintf(&b, " omitted=%d", it.n.ChildrenOmitted)
		}
		b.WriteString("\n")
		for i := len(it.n.Children) - 1; i >= 0; i-- {
			stack = append(stack, item{it.n.Children[i], it.depth + 1})
		}
	}
	return b.String()
}

// treeFixture stores the logon chain with a merged 4688 copy of cmd and two
// children of net.
func treeFixture(t *testing.T) *Store {
	s := openTestStore(t)
	b := newRecBuilder("WS01", `C:\logs\Sysmon.evtx`)
	se := newRecBuilder("WS01", `C:\logs\Security.evtx`)
	se.next = 5000
	ingestRecords(t, s,
		b.sysmon1(at(t, "09:00:01.000"), "{00000000-0000-0000-0000-0000000000A1}", 600, pUserinit, `userinit.exe`, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A0}", 500, pWinlogon, "winlogon.exe", `NT AUTHORITY\SYSTEM`),
		b.sysmon1(at(t, "09:00:02.000"), "{00000000-0000-0000-0000-0000000000A2}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A1}", 600, pUserinit, `userinit.exe`, `WS01\bob`),
		b.sysmon1(at(t, "09:00:03.000"), "{00000000-0000-0000-0000-0000000000A3}", 5120, pCmd, batCmd, `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A2}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, `WS01\bob`),
		se.sec4688(at(t, "09:00:03.500"), 5120, pCmd, batCmd, 4012, pExplorer),
		b.sysmon1(at(t, "09:00:04.000"), "{00000000-0000-0000-0000-0000000000A4}", 6100, pNet, "net use \x1b[31mZ:", `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A3}", 5120, pCmd, batCmd, `WS01\bob`),
		b.sysmon1(at(t, "09:00:05.000"), "{00000000-0000-0000-0000-0000000000A5}", 6200, `C:\Windows\System32\net1.exe`, "net1 use", `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A4}", 6100, pNet, "net use", `WS01\bob`),
		b.sysmon1(at(t, "09:00:06.000"), "{00000000-0000-0000-0000-0000000000A6}", 6300, `C:\Windows\System32\conhost.exe`, "conhost", `WS01\bob`,
			"{00000000-0000-0000-0000-0000000000A4}", 6100, pNet, "net use", `WS01\bob`),
		b.sysmon5(at(t, "09:00:07.000"), "{00000000-0000-0000-0000-0000000000A4}", 6100, pNet),
	)
	rebuild(t, s, AncestryOptions{})
	return s
}

// rowOf returns the rowid of a query's single PROCESS_START row.
func rowOf(t *testing.T, s *Store, q ProcessQuery) int64 {
	t.Helper()
	ids, err := s.FindProcesses(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("%+v: %d rows, want 1", q, len(ids))
	}
	return ids[0]
}

func TestProcessTree(t *testing.T) {
	s := treeFixture(t)
	ctx := context.Background()
	net := rowOf(t, s, ProcessQuery{Host: "ws01", PID: 6100, HasPID: true})
	tests := []struct {
		name string
		opt  TreeOptions
		want string
	}{
		{"from the causality actor's parent", TreeOptions{}, `explorer.exe[4012] root
  cmd.exe[5120] root
    net.exe[6100] match
      net1.exe[6200]
      conhost.exe[6300]
`},
		{"from the root", TreeOptions{FromRoot: true}, `winlogon.exe[500] synthetic root
  userinit.exe[600] root
    explorer.exe[4012] root
      cmd.exe[5120] root
        net.exe[6100] match
          net1.exe[6200]
          conhost.exe[6300]
`},
		{"bounded", TreeOptions{FromRoot: true, MaxAncestors: 3, MaxDescendants: 1}, `winlogon.exe[500] synthetic root
  cmd.exe[5120] root elided=2
    net.exe[6100] match omitted=1
      net1.exe[6200]
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := s.ProcessTreeWith(ctx, net, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := treeShape(tree); got != tc.want {
				t.Errorf("tree:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	tree, err := s.ProcessTree(ctx, net)
	if err != nil {
		t.Fatal(err)
	}
	m := tree.Children[0].Children[0]
	if m.CommandLine != "net use \x1b[31mZ:" || m.User != `WS01\bob` || m.Start.Format("15:04:05.000") != "09:00:04.000" ||
		m.End.Format("15:04:05.000") != "09:00:07.000" || !strings.HasSuffix(m.Source, `Sysmon.evtx#104`) || m.RowID != net {
		t.Errorf("match node = %+v", m)
	}
	if cmd := tree.Children[0]; !strings.Contains(cmd.Source, "; "+`C:\logs\Security.evtx#5001`) {
		t.Errorf("cmd source %q lacks the merged 4688", cmd.Source)
	}
}

func TestProcessTreeLookups(t *testing.T) {
	s := treeFixture(t)
	ctx := context.Background()
	// The merged 4688 row leads to the Sysmon process.
	var mergedRow int64
	if err := s.DB().QueryRow("SELECT orig_rowid FROM xdr_data_merged").Scan(&mergedRow); err != nil {
		t.Fatal(err)
	}
	tree, err := s.ProcessTree(ctx, mergedRow)
	if err != nil {
		t.Fatal(err)
	}
	// cmd's row has causality actor explorer, shown from its parent userinit.
	if got := tree.Children[0].Children[0]; !got.IsMatch || got.PID != 5120 || tree.PID != 600 {
		t.Errorf("merged row's tree: %s", treeShape(tree))
	}
	var stopRow int64
	if err := s.DB().QueryRow("SELECT rowid FROM xdr_data WHERE event_sub_type = 2").Scan(&stopRow); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProcessTree(ctx, stopRow); !errors.Is(err, ErrNoProcessNode) {
		t.Errorf("stop row: err = %v, want ErrNoProcessNode", err)
	}
	fresh := openTestStore(t)
	if _, err := fresh.ProcessTree(ctx, 1); !errors.Is(err, ErrNoProcessNode) {
		t.Errorf("no ancestry tables: err = %v, want ErrNoProcessNode", err)
	}
	finds := []struct {
		name string
		q    ProcessQuery
		want int
	}{
		{"match is case-insensitive", ProcessQuery{Match: `\X.BAT`}, 1},
		{"match is literal", ProcessQuery{Match: `%`}, 0},
		{"guid without braces", ProcessQuery{Instance: "00000000-0000-0000-0000-0000000000a4"}, 1},
		{"instance id", ProcessQuery{Instance: "Adpu24KrK4AAABQAAAAAAA=="}, 1},
		{"other host", ProcessQuery{Host: "ws02", Match: "net"}, 0},
		{"limit", ProcessQuery{Match: "exe", Limit: 2}, 2},
	}
	for _, tc := range finds {
		t.Run(tc.name, func(t *testing.T) {
			ids, err := s.FindProcesses(ctx, tc.q)
			if err != nil || len(ids) != tc.want {
				t.Errorf("%d rows (%v), want %d", len(ids), err, tc.want)
			}
		})
	}
}

func TestProcessTreeDeepChain(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000-row chain")
	}
	const depth = 10_000
	s := openTestStore(t)
	b := newRecBuilder("DEEP", "deep.evtx")
	base := at(t, "00:00:00.000")
	recs := make([]*evtx.Record, 0, depth)
	for k := 1; k <= depth; k++ {
		g := fmt.Sprintf("{00000000-0000-0000-0000-%012d}", k)
		pg := fmt.Sprintf("{00000000-0000-0000-0000-%012d}", k-1)
		recs = append(recs, b.sysmon1(base.Add(msDur(k)), g, 10+k, pCmd, "cmd", `D\u`, pg, 9+k, pCmd, "cmd", `D\u`))
	}
	// A loop on top: the first process names the last as its parent.
	recs[0].Data["ParentProcessGuid"] = fmt.Sprintf("{00000000-0000-0000-0000-%012d}", depth)
	ingestRecords(t, s, recs...)
	st := rebuild(t, s, AncestryOptions{})
	if st.LoopCuts != 1 {
		t.Errorf("loop cuts = %d, want 1", st.LoopCuts)
	}
	last := rowOf(t, s, ProcessQuery{PID: 10 + depth, HasPID: true})
	tree, err := s.ProcessTreeWith(context.Background(), last, TreeOptions{FromRoot: true})
	if err != nil {
		t.Fatal(err)
	}
	shape := treeShape(tree)
	// 10,000 processes in the chain, 200 kept: the top and the 199 nearest.
	if !strings.HasPrefix(shape, "cmd.exe[11] root\n  cmd.exe[9812] elided=9800\n") ||
		strings.Count(shape, "\n") != 200 || !strings.Contains(shape, "cmd.exe[10010] match\n") {
		t.Errorf("deep tree (%d lines) starts:\n%.300s", strings.Count(shape, "\n"), shape)
	}
	anc := startRow(t, s.DB(), "DEEP", 10+depth, "x_ancestry")["x_ancestry"]
	if want := "cmd.exe[11] > ...(9990 more) > cmd.exe[10002]"; !strings.HasPrefix(anc, want) {
		t.Errorf("x_ancestry = %q, want prefix %q", anc, want)
	}
}
