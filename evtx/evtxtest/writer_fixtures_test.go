package evtxtest_test

import (
	"fmt"
	"time"

	"evtxhunt/evtx/evtxtest"
)

// fxBase is the time of the first fixture event.
var fxBase = time.Date(2024, 10, 23, 12, 10, 17, 881123400, time.UTC)

// fxSysmon1 is a Sysmon process-creation event (EID 1, version 5) with the
// field list Sysmon 13+ writes.
func fxSysmon1(i int, host, cmd string) evtxtest.Event {
	t := fxBase.Add(time.Duration(i) * 1500 * time.Millisecond)
	pid := 1000 + 4*i
	return evtxtest.Event{
		Channel:      "Microsoft-Windows-Sysmon/Operational",
		Provider:     "Microsoft-Windows-Sysmon",
		ProviderGUID: "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
		EventID:      1, Version: 5, Level: 4, Task: 1, Opcode: 0,
		Keywords:  0x8000000000000000,
		Time:      t,
		Computer:  host,
		UserSID:   "S-1-5-18",
		ProcessID: 3292, ThreadID: 3124,
		Data: []evtxtest.Field{
			{Name: "RuleName", Value: "-"},
			{Name: "UtcTime", Value: t.Format("2006-01-02 15:04:05.000")},
			{Name: "ProcessGuid", Value: fmt.Sprintf("{DBF410B3-E7A8-6718-%04X-000000003900}", i&0xffff)},
			{Name: "ProcessId", Value: fmt.Sprint(pid)},
			{Name: "Image", Value: `C:\Windows\System32\cmd.exe`},
			{Name: "FileVersion", Value: "10.0.17763.1 (WinBuild.160101.0800)"},
			{Name: "Description", Value: "Windows Command Processor"},
			{Name: "Product", Value: "Microsoft® Windows® Operating System"},
			{Name: "Company", Value: "Microsoft Corporation"},
			{Name: "OriginalFileName", Value: "Cmd.Exe"},
			{Name: "CommandLine", Value: cmd},
			{Name: "CurrentDirectory", Value: `C:\Users\admin\`},
			{Name: "User", Value: `WS01\admin`},
			{Name: "LogonGuid", Value: "{DBF410B3-E5D6-6718-1B2C-0A0000000000}"},
			{Name: "LogonId", Value: "0xa2c1b"},
			{Name: "TerminalSessionId", Value: "1"},
			{Name: "IntegrityLevel", Value: "High"},
			{Name: "Hashes", Value: "SHA256=BC866CFCDDA37E24DC2634DC282C7A0E6F55209DA17A8FA105B07414C0E7C527"},
			{Name: "ParentProcessGuid", Value: "{DBF410B3-E7A0-6718-C000-000000003900}"},
			{Name: "ParentProcessId", Value: "2784"},
			{Name: "ParentImage", Value: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`},
			{Name: "ParentCommandLine", Value: `"powershell.exe" -nop`},
			{Name: "ParentUser", Value: `WS01\admin`},
		},
	}
}

// fxSecurity4688 is a Security process-creation event (EID 4688, version 2).
func fxSecurity4688(i int, host, cmd string) evtxtest.Event {
	t := fxBase.Add(time.Duration(i)*1500*time.Millisecond + 3*time.Millisecond)
	return evtxtest.Event{
		Channel:      "Security",
		Provider:     "Microsoft-Windows-Security-Auditing",
		ProviderGUID: "{54849625-5478-4994-A5BA-3E3B0328C30D}",
		EventID:      4688, Version: 2, Level: 0, Task: 13312, Opcode: 0,
		Keywords:  0x8020000000000000,
		Time:      t,
		Computer:  host,
		ProcessID: 4, ThreadID: 7420,
		Data: []evtxtest.Field{
			{Name: "SubjectUserSid", Value: "S-1-5-21-3623811015-3361044348-30300820-1013"},
			{Name: "SubjectUserName", Value: "admin"},
			{Name: "SubjectDomainName", Value: "WS01"},
			{Name: "SubjectLogonId", Value: "0xa2c1b"},
			{Name: "NewProcessId", Value: fmt.Sprintf("0x%x", 1000+4*i)},
			{Name: "NewProcessName", Value: `C:\Windows\System32\cmd.exe`},
			{Name: "TokenElevationType", Value: "%%1937"},
			{Name: "ProcessId", Value: "0xae0"},
			{Name: "CommandLine", Value: cmd},
			{Name: "TargetUserSid", Value: "S-1-0-0"},
			{Name: "TargetUserName", Value: "-"},
			{Name: "TargetDomainName", Value: "-"},
			{Name: "TargetLogonId", Value: "0x0"},
			{Name: "ParentProcessName", Value: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`},
			{Name: "MandatoryLabel", Value: "S-1-16-12288"},
		},
	}
}

// fxMixed returns n events alternating Sysmon and Security on two hosts.
func fxMixed(n int) []evtxtest.Event {
	evs := make([]evtxtest.Event, n)
	for i := range evs {
		host := "WS01.corp.example"
		if i%3 == 2 {
			host = "SRV02.corp.example"
		}
		cmd := fmt.Sprintf(`cmd.exe /c "echo %d > C:\Temp\out%d.txt"`, i, i)
		if i%2 == 0 {
			evs[i] = fxSysmon1(i, host, cmd)
		} else {
			evs[i] = fxSecurity4688(i, host, cmd)
		}
	}
	return evs
}

// fxRepeat returns s repeated until it is n runes long.
func fxRepeat(s string, n int) string {
	r := []rune(s)
	out := make([]rune, n)
	for i := range out {
		out[i] = r[i%len(r)]
	}
	return string(out)
}
