package normalize

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"evtxhunt/evtx"
)

// synthImages are the images of generated processes.
var synthImages = []string{
	pCmd, pNet, pPwsh, p7zFM, pTaskhost, `C:\Windows\System32\conhost.exe`, `C:\Windows\System32\whoami.exe`,
	`C:\Windows\System32\rundll32.exe`, `C:\Windows\System32\wscript.exe`, `C:\Program Files\App\app.exe`,
	`C:\Users\bob\AppData\Local\Temp\x.exe`, `C:\Windows\System32\reg.exe`,
}

// synthHost generates the process starts and stops of one host: n
// processes, each started by a live process (or, 5 %, by one the logs never
// saw), PIDs drawn from a pool of 128 and reused only after their holder
// ended (as Windows does), half Sysmon EID 1 and half 4688. A process end
// is logged with probability stopLogged. truth maps each node's Row to its
// parent's Row (0: the parent was never logged).
func synthHost(seed int64, n int, stopLogged float64) (nodes []ancNode, stops []ancStop, truth map[int64]int64) {
	rng := rand.New(rand.NewSource(seed))
	truth = make(map[int64]int64, n)
	nodes = make([]ancNode, 0, n)
	var live []int
	holder := map[int64]int{}
	t := int64(1_700_000_000) * 10_000_000
	end := func(k int) {
		i := live[k]
		live = append(live[:k], live[k+1:]...)
		p := &nodes[i]
		delete(holder, p.PID)
		if rng.Float64() < stopLogged {
			st := ancStop{Row: -p.Row, PID: p.PID, Image: p.Image, Time: t}
			if p.Kind == ancSysmon {
				st.GUID = p.GUID
			}
			stops = append(stops, st)
		}
		t += 10_000 // 1 ms
	}
	add := func(n ancNode, parent int) {
		n.Row = int64(len(nodes) + 1)
		n.Start = t
		truth[n.Row] = 0
		if parent >= 0 {
			truth[n.Row] = nodes[parent].Row
		}
		holder[n.PID] = len(nodes)
		live = append(live, len(nodes))
		nodes = append(nodes, n)
	}
	add(ancNode{Kind: ancSysmon, GUID: "{u}", PID: 600, Image: pUserinit, ParentGUID: "{w}", ParentPID: 500, ParentImage: pWinlogon}, -1)
	add(ancNode{Kind: ancSysmon, GUID: "{e}", PID: 4012, Image: pExplorer, ParentGUID: "{u}", ParentPID: 600, ParentImage: pUserinit}, 0)
	for len(nodes) < n {
		t += int64(50+rng.Intn(100)) * 10_000
		if len(live) > 2 && rng.Float64() < 0.45 {
			end(2 + rng.Intn(len(live)-2))
		}
		pid := int64(8 + 4*rng.Intn(128))
		if k, held := holder[pid]; held && k > 1 {
			for j, x := range live {
				if x == k {
					end(j)
					break
				}
			}
		} else if held {
			continue // userinit's and explorer's PIDs stay theirs
		}
		c := ancNode{PID: pid, Image: synthImages[rng.Intn(len(synthImages))], Kind: ancSecurity}
		c.CmdLine = fmt.Sprintf("%s /x %d", imageBase(c.Image), len(nodes))
		if rng.Intn(2) == 0 {
			c.Kind = ancSysmon
			c.GUID = fmt.Sprintf("{%d-%d}", seed, len(nodes))
		}
		parent := -1
		if rng.Float64() >= 0.05 {
			from := len(live) - 30
			if from < 0 {
				from = 0
			}
			parent = live[from+rng.Intn(len(live)-from)]
		}
		if parent >= 0 {
			p := &nodes[parent]
			c.ParentPID, c.ParentImage = p.PID, p.Image
			if c.Kind == ancSysmon {
				c.ParentCmdLine = p.CmdLine
				c.ParentGUID = p.GUID
				if p.GUID == "" { // a parent only 4688 logged still has a Sysmon GUID
					c.ParentGUID = fmt.Sprintf("{unlogged-%d}", p.Row)
				}
			}
		} else {
			c.ParentPID, c.ParentImage = int64(9000+rng.Intn(1000)), `C:\gone\ghost.exe`
			if c.Kind == ancSysmon {
				c.ParentGUID = fmt.Sprintf("{ghost-%d}", len(nodes))
			}
		}
		add(c, parent)
	}
	return nodes, stops, truth
}

// TestSyntheticHostsLinkTrueParents checks the linking against generated
// hosts whose true parents are known: with every process end logged, every
// parent is found (Sysmon by GUID, 4688 by PID despite heavy PID reuse);
// with ends missing, Sysmon children of Sysmon parents are still exact.
func TestSyntheticHostsLinkTrueParents(t *testing.T) {
	r, err := AncestryOptions{}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		stopLogged float64
	}{{"all ends logged", 1}, {"half of the ends logged", 0.5}} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := int64(1); seed <= 5; seed++ {
				nodes, stops, truth := synthHost(seed, 3000, tc.stopLogged)
				g := r.computeAncestry(nodes, stops)
				if g.Merges != 0 && tc.stopLogged == 1 {
					t.Errorf("seed %d: %d merges of distinct processes", seed, g.Merges)
				}
				wrong, checked := 0, 0
				for i := range g.Nodes {
					n := &g.Nodes[i]
					if n.synthetic() || n.MergedInto >= 0 {
						continue
					}
					got := int64(0)
					if n.Parent >= 0 {
						got = g.Nodes[n.Parent].Row
					}
					exactExpected := tc.stopLogged == 1 || (n.Kind == ancSysmon && n.ParentGUID != "" && got != 0 && g.Nodes[n.Parent].Kind == ancSysmon)
					if !exactExpected {
						continue
					}
					checked++
					if got != truth[n.Row] {
						wrong++
						if wrong <= 3 {
							t.Errorf("seed %d: row %d (%s pid %d) linked to row %d, true parent row %d", seed, n.Row, n.name(), n.PID, got, truth[n.Row])
						}
					}
				}
				if checked < 500 || wrong != 0 {
					t.Errorf("seed %d: %d of %d links wrong", seed, wrong, checked)
				}
			}
		})
	}
}

// BenchmarkAncestry1M runs the in-memory pass (graph, causality, and each
// start row's causality actor and x_ancestry) over 1,000,000 generated
// processes on 1,000 hosts, one host at a time as RebuildAncestry does.
// Generating the hosts is not timed.
//
//	go test ./normalize -run '^$' -bench Ancestry1M -benchtime 1x
func BenchmarkAncestry1M(b *testing.B) {
	const hosts, perHost = 1000, 1000
	r, err := AncestryOptions{}.resolve()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rows := 0
		for h := 0; h < hosts; h++ {
			b.StopTimer()
			nodes, stops, _ := synthHost(int64(h), perHost, 0.7)
			b.StartTimer()
			g := r.computeAncestry(nodes, stops)
			for j := range g.Nodes {
				if g.Nodes[j].synthetic() || g.Nodes[j].MergedInto >= 0 {
					continue
				}
				_, c, _ := r.rowCausality(g, j)
				_ = ancestryText(g, j, c)
				rows++
			}
		}
		b.ReportMetric(float64(rows), "rows/op")
	}
	b.ReportMetric(float64(hosts*perHost)*float64(b.N)/b.Elapsed().Seconds(), "processes/s")
}

// BenchmarkRebuildAncestryDB measures RebuildAncestry on SQLite: 20 hosts of
// 1,000 generated processes stored through FromRecord and Insert (not
// timed); "first" is the first rebuild, "again" a rebuild with nothing new.
//
//	go test ./normalize -run '^$' -bench RebuildAncestryDB -benchtime 1x
func BenchmarkRebuildAncestryDB(b *testing.B) {
	const hosts, perHost = 20, 1000
	setup := func(b *testing.B) *Store {
		b.Helper()
		s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		for h := 0; h < hosts; h++ {
			nodes, stops, _ := synthHost(int64(h), perHost, 0.7)
			evs := synthEvents(b, fmt.Sprintf("HOST%03d", h), nodes, stops)
			if _, err := s.Insert(context.Background(), evs); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	b.Run("first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := setup(b)
			b.StartTimer()
			if _, err := s.RebuildAncestry(context.Background(), AncestryOptions{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(hosts*perHost)*float64(b.N)/b.Elapsed().Seconds(), "processes/s")
	})
	b.Run("again", func(b *testing.B) {
		s := setup(b)
		defer s.Close()
		if _, err := s.RebuildAncestry(context.Background(), AncestryOptions{}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			st, err := s.RebuildAncestry(context.Background(), AncestryOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if st.Updated != 0 {
				b.Fatalf("no-op rebuild updated %d rows", st.Updated)
			}
		}
		b.ReportMetric(float64(hosts*perHost)*float64(b.N)/b.Elapsed().Seconds(), "processes/s")
	})
}

// synthEvents turns generated nodes and stops into mapped xdr_data rows.
func synthEvents(tb testing.TB, host string, nodes []ancNode, stops []ancStop) []Event {
	tb.Helper()
	b := newRecBuilder(host, host+".evtx")
	tm := func(ticks int64) time.Time { return time.Unix(0, ticks*100).UTC() }
	var recs []*evtx.Record
	for _, n := range nodes {
		if n.Kind == ancSysmon {
			recs = append(recs, b.sysmon1(tm(n.Start), n.GUID, int(n.PID), n.Image, n.CmdLine, host+`\u`,
				n.ParentGUID, int(n.ParentPID), n.ParentImage, n.ParentCmdLine, host+`\u`))
		} else {
			recs = append(recs, b.sec4688(tm(n.Start), int(n.PID), n.Image, n.CmdLine, int(n.ParentPID), n.ParentImage))
		}
	}
	for _, st := range stops {
		if st.GUID != "" {
			recs = append(recs, b.sysmon5(tm(st.Time), st.GUID, int(st.PID), st.Image))
		} else {
			recs = append(recs, b.sec4689(tm(st.Time), int(st.PID), st.Image))
		}
	}
	evs := make([]Event, 0, len(recs))
	for _, r := range recs {
		ev, err := FromRecord(r, MapOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// FuzzAncestryGraph builds a graph from arbitrary bytes (every 6 bytes: kind,
// PID, creator PID, GUID, parent GUID, image) and checks that the pass
// terminates and its results are consistent: parent chains end, the CGO is
// the node or an ancestor, depths count the ancestors.
func FuzzAncestryGraph(f *testing.F) {
	f.Add([]byte{0, 1, 2, 1, 2, 0, 0, 2, 1, 2, 1, 1})
	f.Add([]byte{1, 4, 4, 0, 0, 3, 1, 8, 4, 0, 0, 2, 0, 9, 8, 5, 5, 1})
	f.Add([]byte{2, 3, 3, 7, 7, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 6*2000 {
			data = data[:6*2000]
		}
		var nodes []ancNode
		var stops []ancStop
		for i := 0; i+6 <= len(data); i += 6 {
			d := data[i : i+6]
			img := synthImages[int(d[5])%len(synthImages)]
			switch d[0] % 4 {
			case 0, 1:
				n := ancNode{Row: int64(i/6 + 1), Kind: ancSysmon, PID: int64(d[1] % 16), ParentPID: int64(d[2] % 16),
					Image: img, ParentImage: synthImages[int(d[2])%len(synthImages)], Start: int64(d[3]) * 1000}
				if d[0]%4 == 1 {
					n.Kind, n.GUID, n.ParentGUID = ancSecurity, "", ""
				} else {
					n.GUID, n.ParentGUID = fmt.Sprintf("{%d}", d[3]%32), fmt.Sprintf("{%d}", d[4]%32)
				}
				nodes = append(nodes, n)
			case 2:
				stops = append(stops, ancStop{Row: int64(-i), PID: int64(d[1] % 16), GUID: fmt.Sprintf("{%d}", d[3]%32), Time: int64(d[4]) * 1000})
			default:
				nodes = append(nodes, ancNode{Row: int64(i/6 + 1), Kind: ancSecurity, PID: int64(d[1] % 16), ParentPID: -1, Image: img, Start: int64(d[3]) * 1000})
			}
		}
		for _, opt := range []AncestryOptions{{}, {StartRowCausality: ChildGroup, SvchostSpawner: true}} {
			r, err := opt.resolve()
			if err != nil {
				t.Fatal(err)
			}
			g := r.computeAncestry(append([]ancNode(nil), nodes...), append([]ancStop(nil), stops...))
			for i := range g.Nodes {
				n := &g.Nodes[i]
				if n.MergedInto >= 0 {
					continue
				}
				steps, isAnc := 0, n.CGO == i
				for j := n.Parent; j >= 0; j = g.Nodes[j].Parent {
					if steps++; steps > len(g.Nodes) {
						t.Fatalf("node %d: parent chain does not end", i)
					}
					if j == n.CGO {
						isAnc = true
					}
				}
				if !isAnc || n.Depth != steps {
					t.Fatalf("node %d: CGO %d ancestor=%v depth %d, %d ancestors", i, n.CGO, isAnc, n.Depth, steps)
				}
				if n.synthetic() {
					continue
				}
				_, c, rule := r.rowCausality(g, i)
				if rule == "" || ancestryText(g, i, c) == "" {
					t.Fatalf("node %d: empty rule or x_ancestry", i)
				}
			}
		}
	})
}
