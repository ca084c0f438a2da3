package normalize

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// Paths used by the hand-written scenarios.
const (
	pWinlogon = `C:\Windows\System32\winlogon.exe`
	pUserinit = `C:\Windows\System32\userinit.exe`
	pExplorer = `C:\Windows\explorer.exe`
	pCmd      = `C:\Windows\System32\cmd.exe`
	pNet      = `C:\Windows\System32\net.exe`
	p7zFM     = `C:\Program Files\7-Zip\7zFM.exe`
	pServices = `C:\Windows\System32\services.exe`
	pSvchost  = `C:\Windows\System32\svchost.exe`
	pWmiPrvSE = `C:\Windows\System32\wbem\WmiPrvSE.exe`
	pPwsh     = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	pTaskhost = `C:\Windows\System32\taskhostw.exe`
	batCmd    = `C:\Windows\system32\cmd.exe /c ""C:\Users\bob\Downloads\x.bat" "`
)

// ms converts milliseconds to the 100 ns ticks ancNode uses.
func ms(v int64) int64 { return v * 10_000 }

// sysmonNode is a Sysmon EID 1 node; parent fields as the record says them.
func sysmonNode(row int64, atMs int64, guid string, pid int64, image, cmd, pguid string, ppid int64, pimage string) ancNode {
	return ancNode{Row: row, Kind: ancSysmon, GUID: guid, ParentGUID: pguid, PID: pid, ParentPID: ppid,
		Image: image, CmdLine: cmd, ParentImage: pimage, Start: ms(atMs)}
}

// secNode is a 4688 node (no GUIDs, no parent command line).
func secNode(row int64, atMs int64, pid int64, image string, ppid int64, pimage string) ancNode {
	return ancNode{Row: row, Kind: ancSecurity, PID: pid, ParentPID: ppid, Image: image, ParentImage: pimage, Start: ms(atMs)}
}

// runGraph resolves the options and runs the pass.
func runGraph(t *testing.T, opt AncestryOptions, nodes []ancNode, stops []ancStop) (*ancRules, *ancGraph) {
	t.Helper()
	r, err := opt.resolve()
	if err != nil {
		t.Fatal(err)
	}
	return r, r.computeAncestry(nodes, stops)
}

// byRow returns the index of the node with that rowid.
func byRow(t *testing.T, g *ancGraph, row int64) int {
	t.Helper()
	for i := range g.Nodes {
		if g.Nodes[i].Row == row {
			return i
		}
	}
	t.Fatalf("no node with row %d", row)
	return -1
}

// rowView is what a PROCESS_START row ends up with, in names.
type rowView struct {
	actor, causality, rule string
	root                   bool
}

func viewRow(t *testing.T, r *ancRules, g *ancGraph, row int64) rowView {
	t.Helper()
	i := byRow(t, g, row)
	a, c, rule := r.rowCausality(g, i)
	v := rowView{causality: g.Nodes[c].name(), rule: rule, root: g.Nodes[i].CGO == i}
	if a >= 0 {
		v.actor = g.Nodes[a].name()
	}
	return v
}

// logonChain is userinit → explorer → cmd (double-clicked .bat) → net, with
// winlogon absent from the log (userinit names it).
func logonChain() []ancNode {
	return []ancNode{
		sysmonNode(1, 1000, "{U}", 600, pUserinit, "userinit.exe", "{W}", 500, pWinlogon),
		sysmonNode(2, 2000, "{E}", 4012, pExplorer, `C:\Windows\Explorer.EXE`, "{U}", 600, pUserinit),
		sysmonNode(3, 3000, "{C}", 5120, pCmd, batCmd, "{E}", 4012, pExplorer),
		sysmonNode(4, 4000, "{N}", 6100, pNet, `net use Z: \\host@SSL\DavWWWRoot`, "{C}", 5120, pCmd),
	}
}

func TestCausalityExplorerBat(t *testing.T) {
	r, g := runGraph(t, AncestryOptions{}, logonChain(), nil)
	if e := byRow(t, g, 2); !g.Nodes[e].Spawner {
		t.Errorf("explorer started by userinit is not a spawner")
	}
	tests := []struct {
		name string
		row  int64
		want rowView
	}{
		{"explorer starts cmd", 3, rowView{actor: "explorer.exe", causality: "explorer.exe", rule: RuleSpawnerSelf, root: true}},
		{"cmd starts net", 4, rowView{actor: "cmd.exe", causality: "cmd.exe", rule: RuleChildOfSpawner, root: false}},
		// A spawner is its own CGO, so its start row marks a causality root.
		{"userinit starts explorer", 2, rowView{actor: "userinit.exe", causality: "userinit.exe", rule: RuleSpawnerSelf, root: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := viewRow(t, r, g, tc.row); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	net := byRow(t, g, 4)
	_, c, _ := r.rowCausality(g, net)
	if got, want := ancestryText(g, net, c), "explorer.exe[4012] > cmd.exe[5120] > net.exe[6100]"; got != want {
		t.Errorf("x_ancestry = %q, want %q", got, want)
	}
	cmd := byRow(t, g, 3)
	_, c, _ = r.rowCausality(g, cmd)
	if got, want := ancestryText(g, cmd, c), "userinit.exe[600] > explorer.exe[4012] > cmd.exe[5120]"; got != want {
		t.Errorf("x_ancestry = %q, want %q", got, want)
	}
	u := byRow(t, g, 1)
	if p := g.Nodes[u].Parent; p < 0 || !g.Nodes[p].synthetic() || g.Nodes[p].name() != "winlogon.exe" {
		t.Errorf("userinit's parent should be a synthetic winlogon.exe node, got %d", p)
	}
}

func TestCausalityArchiver(t *testing.T) {
	nodes := []ancNode{
		sysmonNode(2, 2000, "{E}", 4012, pExplorer, "", "", -1, ""),
		sysmonNode(3, 3000, "{Z}", 7000, p7zFM, `"C:\Program Files\7-Zip\7zFM.exe" C:\Users\bob\Downloads\a.zip`, "{E}", 4012, pExplorer),
		sysmonNode(4, 4000, "{C}", 5120, pCmd, `C:\Windows\system32\cmd.exe /c ""C:\Users\bob\AppData\Local\Temp\7zO4FB31F24\x.bat" "`, "{Z}", 7000, p7zFM),
		sysmonNode(5, 5000, "{N}", 6100, pNet, "net use", "{C}", 5120, pCmd),
	}
	r, g := runGraph(t, AncestryOptions{}, nodes, nil)
	tests := []struct {
		name string
		row  int64
		want rowView
	}{
		{"explorer starts 7zFM", 3, rowView{actor: "explorer.exe", causality: "explorer.exe", rule: RuleSpawnerSelf, root: true}},
		{"7zFM starts cmd", 4, rowView{actor: "7zfm.exe", causality: "7zfm.exe", rule: RuleChildOfSpawner}},
		{"cmd starts net", 5, rowView{actor: "cmd.exe", causality: "7zfm.exe", rule: RuleInherited}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := viewRow(t, r, g, tc.row); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	net := byRow(t, g, 5)
	_, c, _ := r.rowCausality(g, net)
	if got, want := ancestryText(g, net, c), "explorer.exe[4012] > 7zFM.exe[7000] > cmd.exe[5120] > net.exe[6100]"; got != want {
		t.Errorf("x_ancestry = %q, want %q", got, want)
	}
}

func TestSpawnerParentAndPath(t *testing.T) {
	tests := []struct {
		name        string
		nodes       []ancNode
		row         int64
		wantSpawner bool
	}{
		{"explorer started by cmd", []ancNode{
			sysmonNode(1, 1000, "{C}", 100, pCmd, "cmd", "", -1, ""),
			sysmonNode(2, 2000, "{E}", 200, pExplorer, "explorer", "{C}", 100, pCmd),
		}, 2, false},
		{"explorer started by userinit", []ancNode{
			sysmonNode(1, 1000, "{U}", 100, pUserinit, "userinit", "", -1, ""),
			sysmonNode(2, 2000, "{E}", 200, pExplorer, "explorer", "{U}", 100, pUserinit),
		}, 2, true},
		{"explorer with unknown parent", []ancNode{
			sysmonNode(2, 2000, "{E}", 200, pExplorer, "explorer", "", -1, ""),
		}, 2, true},
		{"masquerading explorer in Users\\Public", []ancNode{
			sysmonNode(1, 1000, "{U}", 100, pUserinit, "userinit", "", -1, ""),
			sysmonNode(2, 2000, "{E}", 200, `C:\Users\Public\explorer.exe`, "explorer", "{U}", 100, pUserinit),
		}, 2, false},
		{"explorer in System32 is not the canonical path", []ancNode{
			sysmonNode(2, 2000, "{E}", 200, `C:\Windows\System32\explorer.exe`, "explorer", "", -1, ""),
		}, 2, false},
		{"explorer on another system drive", []ancNode{
			sysmonNode(2, 2000, "{E}", 200, `D:\WINDOWS\EXPLORER.EXE`, "explorer", "", -1, ""),
		}, 2, true},
		{"services started by wininit", []ancNode{
			sysmonNode(1, 1000, "{W}", 100, `C:\Windows\System32\wininit.exe`, "", "", -1, ""),
			sysmonNode(2, 2000, "{S}", 200, pServices, "", "{W}", 100, `C:\Windows\System32\wininit.exe`),
		}, 2, true},
		{"services started by cmd", []ancNode{
			sysmonNode(1, 1000, "{C}", 100, pCmd, "", "", -1, ""),
			sysmonNode(2, 2000, "{S}", 200, pServices, "", "{C}", 100, pCmd),
		}, 2, false},
		{"smss started by System (pid 4)", []ancNode{
			secNode(2, 2000, 300, `\SystemRoot\System32\smss.exe`, 4, ""),
		}, 2, true},
		{"svchost is no spawner by default", []ancNode{
			sysmonNode(1, 1000, "{S}", 100, pServices, "", "", -1, ""),
			sysmonNode(2, 2000, "{V}", 200, pSvchost, "", "{S}", 100, pServices),
		}, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, g := runGraph(t, AncestryOptions{}, tc.nodes, nil)
			if got := g.Nodes[byRow(t, g, tc.row)].Spawner; got != tc.wantSpawner {
				t.Errorf("spawner = %v, want %v", got, tc.wantSpawner)
			}
		})
	}
}

func TestCmdStartsExplorerInheritsGroup(t *testing.T) {
	nodes := []ancNode{
		sysmonNode(1, 1000, "{C}", 100, pCmd, "cmd", "", -1, ""),
		sysmonNode(2, 2000, "{E}", 200, pExplorer, "explorer", "{C}", 100, pCmd),
		sysmonNode(3, 3000, "{N}", 300, pNet, "net", "{E}", 200, pExplorer),
	}
	r, g := runGraph(t, AncestryOptions{}, nodes, nil)
	want := rowView{actor: "explorer.exe", causality: "cmd.exe", rule: RuleInherited}
	if got := viewRow(t, r, g, 3); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestOptionalRules(t *testing.T) {
	nodes := func() []ancNode {
		return []ancNode{
			sysmonNode(1, 1000, "{S}", 100, pServices, "", "", -1, ""),
			sysmonNode(2, 2000, "{V}", 200, pSvchost, `svchost.exe -k netsvcs -p -s Schedule`, "{S}", 100, pServices),
			sysmonNode(3, 3000, "{T}", 300, pTaskhost, "taskhostw.exe", "{V}", 200, pSvchost),
			sysmonNode(4, 4000, "{D}", 400, pSvchost, `svchost.exe -k DcomLaunch -p`, "{S}", 100, pServices),
			sysmonNode(5, 5000, "{M}", 500, pWmiPrvSE, `wmiprvse.exe -Embedding`, "{D}", 400, pSvchost),
			sysmonNode(6, 6000, "{P}", 600, pPwsh, "powershell -enc AAAA", "{M}", 500, pWmiPrvSE),
		}
	}
	tests := []struct {
		name string
		opt  AncestryOptions
		row  int64
		want rowView
	}{
		{"default: task child inherits svchost", AncestryOptions{}, 3, rowView{actor: "svchost.exe", causality: "svchost.exe", rule: RuleChildOfSpawner}},
		{"svchost spawner: task child is a root", AncestryOptions{SvchostSpawner: true}, 3, rowView{actor: "svchost.exe", causality: "svchost.exe", rule: RuleSpawnerSelf, root: true}},
		{"default: wmiprvse is a forced root", AncestryOptions{}, 6, rowView{actor: "wmiprvse.exe", causality: "wmiprvse.exe", rule: RuleForcedRoot}},
		{"default: svchost starts wmiprvse", AncestryOptions{}, 5, rowView{actor: "svchost.exe", causality: "svchost.exe", rule: RuleChildOfSpawner, root: true}},
		{"wmiprvse inherits", AncestryOptions{WmiPrvSEInherit: true}, 6, rowView{actor: "wmiprvse.exe", causality: "svchost.exe", rule: RuleInherited}},
		{"child_group: the row carries the child's group", AncestryOptions{StartRowCausality: ChildGroup}, 3, rowView{actor: "svchost.exe", causality: "svchost.exe", rule: RuleInherited}},
		{"custom table without services: svchost has no spawner parent", AncestryOptions{Spawners: []SpawnerRule{{Name: "explorer.exe"}}}, 3, rowView{actor: "svchost.exe", causality: "services.exe", rule: RuleInherited}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, g := runGraph(t, tc.opt, nodes(), nil)
			if got := viewRow(t, r, g, tc.row); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestChildGroupExplorerRow(t *testing.T) {
	r, g := runGraph(t, AncestryOptions{StartRowCausality: ChildGroup}, logonChain(), nil)
	want := rowView{actor: "explorer.exe", causality: "cmd.exe", rule: RuleChildOfSpawner, root: true}
	if got := viewRow(t, r, g, 3); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestBadOptions(t *testing.T) {
	for _, opt := range []AncestryOptions{
		{StartRowCausality: "parent"},
		{Spawners: []SpawnerRule{{Name: " "}}},
	} {
		if _, err := opt.resolve(); !errors.Is(err, ErrBadAncestryOption) {
			t.Errorf("%+v: err = %v, want ErrBadAncestryOption", opt, err)
		}
	}
}

func TestPIDReuse4688(t *testing.T) {
	const a, b = `C:\Tools\a.exe`, `C:\Tools\b.exe`
	tests := []struct {
		name      string
		nodes     []ancNode
		stops     []ancStop
		child     int64
		wantRow   int64 // parent's row; 0 = synthetic parent
		wantLink  ancLink
		wantImage string
	}{
		{"most recent live process wins", []ancNode{
			secNode(1, 1000, 0x100, pCmd, 4, ""),
			secNode(2, 3000, 0x100, pCmd, 4, ""),
			secNode(3, 4000, 0x200, pNet, 0x100, pCmd),
		}, nil, 3, 2, linkPID, pCmd},
		{"earlier child links the earlier process", []ancNode{
			secNode(1, 1000, 0x100, pCmd, 4, ""),
			secNode(2, 3000, 0x100, pCmd, 4, ""),
			secNode(3, 2000, 0x200, pNet, 0x100, pCmd),
		}, nil, 3, 1, linkPID, pCmd},
		{"process ended by 4689 before the child: synthetic", []ancNode{
			secNode(1, 1000, 0x100, a, 4, ""),
			secNode(3, 2500, 0x200, pNet, 0x100, a),
			secNode(2, 3000, 0x100, b, 4, ""),
		}, []ancStop{{Row: 9, PID: 0x100, Image: a, Time: ms(2000)}}, 3, 0, linkSynthetic, a},
		{"4689 of the first process, child of the second", []ancNode{
			secNode(1, 1000, 0x100, a, 4, ""),
			secNode(2, 3000, 0x100, b, 4, ""),
			secNode(3, 4000, 0x200, pNet, 0x100, b),
		}, []ancStop{{Row: 9, PID: 0x100, Image: a, Time: ms(2000)}}, 3, 2, linkPID, b},
		{"no 4689: tie-break on ParentProcessName", []ancNode{
			secNode(1, 1000, 0x100, a, 4, ""),
			secNode(2, 3000, 0x100, b, 4, ""),
			secNode(3, 4000, 0x200, pNet, 0x100, a),
		}, nil, 3, 1, linkPID, a},
		{"no ParentProcessName (old 4688): most recent", []ancNode{
			secNode(1, 1000, 0x100, a, 4, ""),
			secNode(2, 3000, 0x100, b, 4, ""),
			secNode(3, 4000, 0x200, pNet, 0x100, ""),
		}, nil, 3, 2, linkPID, b},
		{"parent started after the child: not a parent", []ancNode{
			secNode(2, 5000, 0x100, a, 4, ""),
			secNode(3, 4000, 0x200, pNet, 0x100, a),
		}, nil, 3, 0, linkSynthetic, a},
		{"device path of the parent matches the drive path", []ancNode{
			secNode(1, 1000, 0x100, `\Device\HarddiskVolume3\Tools\a.exe`, 4, ""),
			secNode(3, 4000, 0x200, pNet, 0x100, a),
		}, nil, 3, 1, linkPID, `\Device\HarddiskVolume3\Tools\a.exe`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, g := runGraph(t, AncestryOptions{}, tc.nodes, tc.stops)
			c := &g.Nodes[byRow(t, g, tc.child)]
			if c.Parent < 0 {
				t.Fatalf("no parent")
			}
			p := &g.Nodes[c.Parent]
			if p.Row != tc.wantRow || c.Link != tc.wantLink || p.Image != tc.wantImage {
				t.Errorf("parent row %d link %v image %q, want row %d link %v image %q",
					p.Row, c.Link, p.Image, tc.wantRow, tc.wantLink, tc.wantImage)
			}
		})
	}
}

func TestSysmon4688Merge(t *testing.T) {
	nodes := []ancNode{
		sysmonNode(1, 10_000, "{C}", 5120, pCmd, batCmd, "", -1, ""),
		secNode(2, 10_400, 5120, `\Device\HarddiskVolume2\Windows\System32\cmd.exe`, 4012, pExplorer),
		secNode(3, 11_000, 6100, pNet, 5120, pCmd),
		secNode(4, 13_500, 5120, pCmd, 4012, pExplorer),                   // 3.5 s after row 1, 0.6 s after row 6 but a stop between
		secNode(5, 10_100, 5120, `C:\Windows\System32\whoami.exe`, 1, ""), // other image
	}
	// A stop of pid 5120 between two starts makes them two processes.
	stops := []ancStop{{Row: 20, PID: 5120, Time: ms(13_000)}}
	nodes = append(nodes, sysmonNode(6, 12_900, "{C2}", 5120, pCmd, "cmd", "", -1, ""))
	_, g := runGraph(t, AncestryOptions{}, nodes, stops)
	if g.Merges != 1 {
		t.Errorf("merges = %d, want 1", g.Merges)
	}
	sys, sec := byRow(t, g, 1), byRow(t, g, 2)
	if g.Nodes[sec].MergedInto != sys || len(g.Nodes[sys].Merged) != 1 || g.Nodes[sys].Merged[0] != sec {
		t.Errorf("4688 row 2 not merged into Sysmon row 1: %+v", g.Nodes[sec])
	}
	for _, row := range []int64{4, 5} {
		if m := g.Nodes[byRow(t, g, row)].MergedInto; m >= 0 {
			t.Errorf("row %d merged into row %d", row, g.Nodes[m].Row)
		}
	}
	if p := g.Nodes[byRow(t, g, 3)].Parent; p < 0 || g.Nodes[p].Row != 1 {
		t.Errorf("4688 child of pid 5120 should link the merged Sysmon node, got %d", p)
	}
}

func TestSysmonChildOf4688Parent(t *testing.T) {
	// The Sysmon log starts after the parent was created: its only record is
	// a 4688, found by PID and image.
	nodes := []ancNode{
		secNode(1, 1000, 4012, pExplorer, 600, pUserinit),
		sysmonNode(2, 5000, "{C}", 5120, pCmd, batCmd, "{E-absent}", 4012, pExplorer),
	}
	_, g := runGraph(t, AncestryOptions{}, nodes, nil)
	c := &g.Nodes[byRow(t, g, 2)]
	if c.Parent < 0 || g.Nodes[c.Parent].Row != 1 || c.Link != linkPID {
		t.Errorf("parent %d link %v, want row 1 by pid-time", c.Parent, c.Link)
	}
}

func TestOrphanSyntheticParent(t *testing.T) {
	const pguid = "{F4A9B4A3-6A2B-65E5-6F00-000000000C00}" // created 1709533739 s (2024-03-04 06:28:59 UTC)
	childMs := int64(1709533800_000)
	nodes := []ancNode{
		sysmonNode(1, childMs, "{A}", 5120, pCmd, batCmd, pguid, 4012, pExplorer),
		sysmonNode(2, childMs+500, "{B}", 5200, `C:\Windows\System32\wscript.exe`, "wscript x.vbs", pguid, 4012, pExplorer),
	}
	nodes[0].ParentCmdLine = `C:\Windows\Explorer.EXE`
	nodes[1].ParentUser = `HOST\bob`
	r, g := runGraph(t, AncestryOptions{}, nodes, nil)
	a, b := &g.Nodes[byRow(t, g, 1)], &g.Nodes[byRow(t, g, 2)]
	if a.Parent < 0 || a.Parent != b.Parent || a.Link != linkSynthetic {
		t.Fatalf("siblings should share one synthetic parent: %d %d", a.Parent, b.Parent)
	}
	s := &g.Nodes[a.Parent]
	if !s.synthetic() || s.Row != 0 || s.PID != 4012 || s.Image != pExplorer || s.CmdLine != `C:\Windows\Explorer.EXE` || s.User != `HOST\bob` {
		t.Errorf("synthetic node = %+v", s)
	}
	if s.Start != 1709533739*10_000_000 || !s.StartFromGUID {
		t.Errorf("synthetic start = %d, want the GUID's creation second", s.Start)
	}
	if !s.Spawner {
		t.Errorf("synthetic explorer with unknown parent should be a spawner")
	}
	want := rowView{actor: "explorer.exe", causality: "explorer.exe", rule: RuleSpawnerSelf, root: true}
	if got := viewRow(t, r, g, 1); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	i := byRow(t, g, 1)
	if got, want := ancestryText(g, i, a.Parent), "explorer.exe[4012](synthetic) > cmd.exe[5120]"; got != want {
		t.Errorf("x_ancestry = %q, want %q", got, want)
	}
	if id := syntheticInstanceID("h", s); id == "" || id == syntheticInstanceID("other", s) {
		t.Errorf("synthetic instance id %q not host-specific", id)
	}
}

func TestZeroParentGUID(t *testing.T) {
	const zero = "{00000000-0000-0000-0000-000000000000}"
	nodes := []ancNode{
		sysmonNode(1, 1000, "{A}", 100, pCmd, "", zero, 10, `C:\Tools\a.exe`),
		sysmonNode(2, 2000, "{B}", 200, pCmd, "", zero, 20, `C:\Tools\b.exe`),
	}
	// Sysmon's unknown parent: zero GUID and "-"; the PID alone links no
	// Sysmon node (Sysmon would have named its GUID), but a 4688 one.
	nodes = append(nodes,
		sysmonNode(3, 500, "{P}", 660, pServices, "", "", -1, ""),
		sysmonNode(4, 3000, "{C}", 300, pCmd, "", zero, 660, "-"),
		secNode(5, 3500, 770, pServices, 4, ""),
		sysmonNode(6, 4000, "{D}", 400, pCmd, "", zero, 770, "-"))
	nodes[3].ParentCmdLine = "-"
	_, g := runGraph(t, AncestryOptions{}, nodes, nil)
	a, b := &g.Nodes[byRow(t, g, 1)], &g.Nodes[byRow(t, g, 2)]
	if a.Parent < 0 || b.Parent < 0 || a.Parent == b.Parent {
		t.Errorf("orphans naming the zero GUID share parent %d / %d", a.Parent, b.Parent)
	}
	if c := &g.Nodes[byRow(t, g, 4)]; c.Parent != -1 {
		t.Errorf("child of an unknown parent linked to node %+v", g.Nodes[c.Parent])
	}
	if d := &g.Nodes[byRow(t, g, 6)]; d.Parent < 0 || g.Nodes[d.Parent].Row != 5 || d.Link != linkPID {
		t.Errorf("Sysmon child of a 4688-only parent: parent %d link %v", d.Parent, d.Link)
	}
}

func TestNoParentNamed(t *testing.T) {
	nodes := []ancNode{secNode(1, 1000, 0x100, pCmd, 0x50, "")}
	r, g := runGraph(t, AncestryOptions{}, nodes, nil)
	if len(g.Nodes) != 1 || g.Nodes[0].Parent != -1 {
		t.Fatalf("a child that names no parent must not get a synthetic one: %+v", g.Nodes)
	}
	want := rowView{causality: "cmd.exe", rule: RuleNoParent, root: true}
	if got := viewRow(t, r, g, 1); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestGUIDLoop(t *testing.T) {
	nodes := []ancNode{
		sysmonNode(1, 1000, "{A}", 1, pCmd, "", "{B}", 2, pCmd),
		sysmonNode(2, 2000, "{B}", 2, pCmd, "", "{C}", 3, pCmd),
		sysmonNode(3, 3000, "{C}", 3, pCmd, "", "{A}", 1, pCmd),
		sysmonNode(4, 4000, "{S}", 4, pNet, "", "{S}", 4, pNet), // names itself
		sysmonNode(5, 5000, "{X}", 5, pNet, "", "{C}", 3, pCmd), // hangs below the loop; after the cut A > C > X
	}
	r, g := runGraph(t, AncestryOptions{}, nodes, nil)
	if g.LoopCuts != 1 {
		t.Errorf("loop cuts = %d, want 1 (the self-reference never becomes an edge)", g.LoopCuts)
	}
	a := &g.Nodes[byRow(t, g, 1)]
	if a.Parent != -1 || a.Link != linkLoopCut || a.Rule != RuleLoopCut {
		t.Errorf("earliest node of the loop: parent %d link %v rule %q", a.Parent, a.Link, a.Rule)
	}
	for _, row := range []int64{2, 3, 5} {
		n := &g.Nodes[byRow(t, g, row)]
		if g.Nodes[n.CGO].Row != 1 {
			t.Errorf("row %d: CGO row %d, want 1", row, g.Nodes[n.CGO].Row)
		}
	}
	s := &g.Nodes[byRow(t, g, 4)]
	if s.Parent >= 0 && g.Nodes[s.Parent].Row == 4 {
		t.Errorf("self-loop kept")
	}
	i := byRow(t, g, 5)
	_, c, _ := r.rowCausality(g, i)
	if got, want := ancestryText(g, i, c), "cmd.exe[1] > cmd.exe[3] > net.exe[5]"; got != want {
		t.Errorf("x_ancestry = %q, want %q", got, want)
	}
}

func TestDeepChain(t *testing.T) {
	const depth = 10_000
	nodes := make([]ancNode, 0, depth+1)
	nodes = append(nodes, sysmonNode(1, 0, "{G0}", 1, pExplorer, "", "", -1, ""))
	for k := 1; k <= depth; k++ {
		nodes = append(nodes, sysmonNode(int64(k+1), int64(k), "{G"+strconv.Itoa(k)+"}", int64(k+1), pCmd, "",
			"{G"+strconv.Itoa(k-1)+"}", int64(k), ""))
	}
	// Reverse the input order: the pass must not depend on it.
	for i, j := 0, len(nodes)-1; i < j; i, j = i+1, j-1 {
		nodes[i], nodes[j] = nodes[j], nodes[i]
	}
	r, g := runGraph(t, AncestryOptions{}, nodes, nil)
	last := byRow(t, g, depth+1)
	n := &g.Nodes[last]
	if n.Depth != depth {
		t.Errorf("depth = %d, want %d", n.Depth, depth)
	}
	first := byRow(t, g, 2) // explorer's child: the causality root
	if n.CGO != first || n.Rule != RuleInherited || g.Nodes[first].Rule != RuleChildOfSpawner {
		t.Errorf("CGO %d rule %q, want %d inherited", n.CGO, n.Rule, first)
	}
	_, c, _ := r.rowCausality(g, last)
	text := ancestryText(g, last, c)
	wantPrefix := "explorer.exe[1] > cmd.exe[2] > ...(" + strconv.Itoa(depth+1-2-chainTail) + " more) > "
	if !strings.HasPrefix(text, wantPrefix) || !strings.HasSuffix(text, "cmd.exe[10001]") {
		t.Errorf("x_ancestry = %q, want prefix %q", text, wantPrefix)
	}
	if got := strings.Count(text, " > "); got != 2+chainTail {
		t.Errorf("x_ancestry has %d separators, want %d", got, 2+chainTail)
	}
}

func TestStops(t *testing.T) {
	nodes := []ancNode{
		sysmonNode(1, 1000, "{A}", 100, pCmd, "", "", -1, ""),
		sysmonNode(2, 3000, "{B}", 100, pCmd, "", "", -1, ""),
	}
	stops := []ancStop{
		{Row: 10, GUID: "{A}", PID: 100, Time: ms(2000)},
		{Row: 11, PID: 100, Time: ms(2001)}, // 4689 copy of the same end: changes nothing
		{Row: 12, PID: 100, Time: ms(4000)},
		{Row: 13, PID: 999, Time: ms(4000)}, // unknown process
	}
	_, g := runGraph(t, AncestryOptions{}, nodes, stops)
	a, b := &g.Nodes[byRow(t, g, 1)], &g.Nodes[byRow(t, g, 2)]
	if a.End != ms(2000) || b.End != ms(4000) {
		t.Errorf("ends %d %d, want %d %d", a.End, b.End, ms(2000), ms(4000))
	}
	want := map[int64]int64{10: 1, 11: 1, 12: 2, 13: 0}
	for _, st := range g.Stops {
		got := int64(0)
		if st.Node >= 0 {
			got = g.Nodes[st.Node].Row
		}
		if got != want[st.Row] {
			t.Errorf("stop %d ends row %d, want %d", st.Row, got, want[st.Row])
		}
	}
}

func TestImageKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`C:\Windows\System32\cmd.exe`, `c:\windows\system32\CMD.EXE`, true},
		{`C:\Windows\System32\cmd.exe`, `\Device\HarddiskVolume2\Windows\System32\cmd.exe`, true},
		{`\SystemRoot\System32\smss.exe`, `C:\Windows\System32\smss.exe`, true},
		{`\??\C:\Windows\system32\csrss.exe`, `C:\Windows\System32\csrss.exe`, true},
		{`C:\Windows\System32\cmd.exe`, `C:\Windows\SysWOW64\cmd.exe`, false},
		{``, ``, false},
	}
	for _, tc := range tests {
		t.Run(tc.a+"|"+tc.b, func(t *testing.T) {
			if got := sameImage(tc.a, tc.b); got != tc.same {
				t.Errorf("sameImage = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestGUIDStartSeconds(t *testing.T) {
	tests := []struct {
		guid string
		want int64
		ok   bool
	}{
		{"{F4A9B4A3-6A2B-65E5-6F00-000000000C00}", 1709533739, true},
		{"{00000000-0000-0000-0000-000000000000}", 0, false},
		{"not-a-guid", 0, false},
	}
	for _, tc := range tests {
		got, ok := guidStartSeconds(tc.guid)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.guid, got, ok, tc.want, tc.ok)
		}
	}
}
