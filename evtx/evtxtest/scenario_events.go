package evtxtest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Channel, provider and provider GUID of the two logs a scenario writes.
const (
	SysmonChannel        = "Microsoft-Windows-Sysmon/Operational"
	SysmonProvider       = "Microsoft-Windows-Sysmon"
	SysmonProviderGUID   = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"
	SecurityChannel      = "Security"
	SecurityProvider     = "Microsoft-Windows-Security-Auditing"
	SecurityProviderGUID = "{54849625-5478-4994-A5BA-3E3B0328C30D}"
)

// SysmonTimeLayout is the layout of Sysmon's UtcTime field.
const SysmonTimeLayout = "2006-01-02 15:04:05.000"

// account is the token a process runs with, as both logs spell it.
type account struct {
	domain, name string
	sid          string
	logonID      uint64
	service      bool // SYSTEM, LOCAL SERVICE, NETWORK SERVICE
}

func (a account) String() string { return a.domain + `\` + a.name }

// Events converts the scenario to the records its host would have logged:
// Sysmon EID 1/5 and Security 4688/4689 as the Logging setting says, each
// slice in record order with record ids assigned. A nil slice means the
// channel was not logged.
func (s *Scenario) Events() (sysmon, security []Event) {
	type timed struct {
		t   time.Time
		seq int
		ev  Event
	}
	var sy, se []timed
	seq := 0
	add := func(list *[]timed, ev Event) {
		*list = append(*list, timed{ev.Time, seq, ev})
		seq++
	}
	for _, p := range s.Processes {
		if p.Unlogged {
			continue
		}
		if s.HasSysmon() {
			add(&sy, s.sysmonCreate(p))
			if _, ok := s.StopTime(p); ok {
				add(&sy, s.sysmonTerminate(p))
			}
		}
		if s.HasSecurity() {
			add(&se, s.security4688(p))
			if _, ok := s.StopTime(p); ok {
				add(&se, s.security4689(p))
			}
		}
	}
	order := func(list []timed) []Event {
		if list == nil {
			return nil
		}
		sort.SliceStable(list, func(i, j int) bool {
			if !list[i].t.Equal(list[j].t) {
				return list[i].t.Before(list[j].t)
			}
			return list[i].seq < list[j].seq
		})
		out := make([]Event, len(list))
		for i, x := range list {
			x.ev.RecordID = s.FirstRecordID + uint64(i)
			out[i] = x.ev
		}
		return out
	}
	return order(sy), order(se)
}

func (s *Scenario) sysmonCreate(p *Process) Event {
	par := s.ParentOf(p)
	start := s.StartTime(p)
	acct, pacct := s.account(p), s.account(par)
	pe := peInfo(p)
	return Event{
		Channel: SysmonChannel, Provider: SysmonProvider, ProviderGUID: SysmonProviderGUID,
		EventID: 1, Version: 5, Level: 4, Task: 1, Opcode: 0, Keywords: 0x8000000000000000,
		Time:     start.Add(s.jitter("sysmon-create", p.ID)),
		Computer: s.Host, UserSID: "S-1-5-18",
		ProcessID: s.sysmonPID(), ThreadID: s.threadID("sysmon", p.ID),
		Data: []Field{
			{"RuleName", "-"},
			{"UtcTime", start.Format(SysmonTimeLayout)},
			{"ProcessGuid", s.processGUID(p)},
			{"ProcessId", strconv.FormatUint(uint64(p.PID), 10)},
			{"Image", p.Image},
			{"FileVersion", pe.FileVersion},
			{"Description", pe.Description},
			{"Product", pe.Product},
			{"Company", pe.Company},
			{"OriginalFileName", pe.OriginalFileName},
			{"CommandLine", p.CommandLine},
			{"CurrentDirectory", cwd(p)},
			{"User", acct.String()},
			{"LogonGuid", s.logonGUID(acct)},
			{"LogonId", hexID(acct.logonID)},
			{"TerminalSessionId", strconv.Itoa(s.session(p))},
			{"IntegrityLevel", s.integrity(p)},
			{"Hashes", hashes(p)},
			{"ParentProcessGuid", s.processGUID(par)},
			{"ParentProcessId", strconv.FormatUint(uint64(par.PID), 10)},
			{"ParentImage", par.Image},
			{"ParentCommandLine", par.CommandLine},
			{"ParentUser", pacct.String()},
		},
	}
}

func (s *Scenario) sysmonTerminate(p *Process) Event {
	stop, _ := s.StopTime(p)
	return Event{
		Channel: SysmonChannel, Provider: SysmonProvider, ProviderGUID: SysmonProviderGUID,
		EventID: 5, Version: 3, Level: 4, Task: 5, Opcode: 0, Keywords: 0x8000000000000000,
		Time:     stop.Add(s.jitter("sysmon-stop", p.ID)),
		Computer: s.Host, UserSID: "S-1-5-18",
		ProcessID: s.sysmonPID(), ThreadID: s.threadID("sysmon", p.ID),
		Data: []Field{
			{"RuleName", "-"},
			{"UtcTime", stop.Format(SysmonTimeLayout)},
			{"ProcessGuid", s.processGUID(p)},
			{"ProcessId", strconv.FormatUint(uint64(p.PID), 10)},
			{"Image", p.Image},
			{"User", s.account(p).String()},
		},
	}
}

func (s *Scenario) security4688(p *Process) Event {
	par := s.ParentOf(p)
	acct, pacct := s.account(p), s.account(par)
	subj := s.subject(pacct)
	tgt := [4]string{"S-1-0-0", "-", "-", "0x0"}
	if acct != pacct {
		t := s.subject(acct)
		tgt = [4]string{t.sid, t.name, t.domain, hexID(t.logonID)}
	}
	cmd := ""
	if s.SecurityCommandLine() {
		cmd = p.CommandLine
	}
	return Event{
		Channel: SecurityChannel, Provider: SecurityProvider, ProviderGUID: SecurityProviderGUID,
		EventID: 4688, Version: 2, Level: 0, Task: 13312, Opcode: 0, Keywords: 0x8020000000000000,
		Time:     s.StartTime(p).Add(s.jitter("security-create", p.ID)),
		Computer: s.Host, ProcessID: 4, ThreadID: s.threadID("security", p.ID),
		Data: []Field{
			{"SubjectUserSid", subj.sid},
			{"SubjectUserName", subj.name},
			{"SubjectDomainName", subj.domain},
			{"SubjectLogonId", hexID(subj.logonID)},
			{"NewProcessId", hexID(uint64(p.PID))},
			{"NewProcessName", securityImage(p.Image)},
			{"TokenElevationType", s.elevation(p)},
			{"ProcessId", hexID(uint64(par.PID))},
			{"CommandLine", cmd},
			{"TargetUserSid", tgt[0]},
			{"TargetUserName", tgt[1]},
			{"TargetDomainName", tgt[2]},
			{"TargetLogonId", tgt[3]},
			{"ParentProcessName", securityImage(par.Image)},
			{"MandatoryLabel", mandatoryLabel(s.integrity(p))},
		},
	}
}

func (s *Scenario) security4689(p *Process) Event {
	stop, _ := s.StopTime(p)
	subj := s.subject(s.account(p))
	return Event{
		Channel: SecurityChannel, Provider: SecurityProvider, ProviderGUID: SecurityProviderGUID,
		EventID: 4689, Version: 0, Level: 0, Task: 13313, Opcode: 0, Keywords: 0x8020000000000000,
		Time:     stop.Add(s.jitter("security-stop", p.ID)),
		Computer: s.Host, ProcessID: 4, ThreadID: s.threadID("security", p.ID),
		Data: []Field{
			{"SubjectUserSid", subj.sid},
			{"SubjectUserName", subj.name},
			{"SubjectDomainName", subj.domain},
			{"SubjectLogonId", hexID(subj.logonID)},
			{"Status", "0x0"},
			{"ProcessId", hexID(uint64(p.PID))},
			{"ProcessName", securityImage(p.Image)},
		},
	}
}

// digest is the source of every derived value: a hash of the scenario name
// and the given parts, so that generation is deterministic.
func digest(parts ...string) [32]byte {
	return sha256.Sum256([]byte(strings.Join(parts, "\x00")))
}

func (s *Scenario) jitter(kind, id string) time.Duration {
	d := digest(s.Name, "jitter", kind, id)
	// 0.1 ms to just under 1 ms, in 100 ns ticks: the record is written a
	// moment after the process starts, and never reorders whole milliseconds.
	return time.Duration(1000+binary.BigEndian.Uint32(d[:4])%9000) * 100
}

func (s *Scenario) threadID(kind, id string) uint32 {
	d := digest(s.Name, "thread", kind, id)
	return 1000 + 4*(binary.BigEndian.Uint32(d[:4])%4000)
}

func (s *Scenario) sysmonPID() uint32 {
	d := digest(s.Name, "sysmon")
	return 2000 + 4*(binary.BigEndian.Uint32(d[:4])%500)
}

// ProcessGUID returns the Sysmon ProcessGuid of p ("{xxxxxxxx-...}").
func (s *Scenario) ProcessGUID(p *Process) string { return s.processGUID(p) }

func (s *Scenario) processGUID(p *Process) string {
	return guidString(digest(s.Name, "process", p.ID))
}

func (s *Scenario) logonGUID(a account) string {
	if a.service {
		return guidString(digest(s.Host, "logon", a.sid))
	}
	return guidString(digest(s.Host, "logon", a.sid, hexID(a.logonID)))
}

func guidString(d [32]byte) string {
	h := hex.EncodeToString(d[:16])
	return "{" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32] + "}"
}

func hexID(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// account returns the token p runs with.
func (s *Scenario) account(p *Process) account {
	if p.User == "" {
		return s.userAccount(s.Domain, s.User)
	}
	dom, name, _ := strings.Cut(p.User, `\`)
	switch strings.ToUpper(p.User) {
	case `NT AUTHORITY\SYSTEM`:
		return account{domain: "NT AUTHORITY", name: "SYSTEM", sid: "S-1-5-18", logonID: 0x3e7, service: true}
	case `NT AUTHORITY\LOCAL SERVICE`:
		return account{domain: "NT AUTHORITY", name: "LOCAL SERVICE", sid: "S-1-5-19", logonID: 0x3e5, service: true}
	case `NT AUTHORITY\NETWORK SERVICE`:
		return account{domain: "NT AUTHORITY", name: "NETWORK SERVICE", sid: "S-1-5-20", logonID: 0x3e4, service: true}
	}
	return s.userAccount(dom, name)
}

func (s *Scenario) userAccount(domain, name string) account {
	a := account{domain: domain, name: name}
	if strings.EqualFold(domain, s.Domain) && strings.EqualFold(name, s.User) {
		a.sid = s.UserSID
		if s.LogonID != "" {
			a.logonID, _ = parseHex(s.LogonID)
		}
	}
	if a.sid == "" {
		dd := digest("domain", strings.ToUpper(domain))
		ud := digest("user", strings.ToUpper(domain), strings.ToLower(name))
		a.sid = fmt.Sprintf("S-1-5-21-%d-%d-%d-%d",
			binary.BigEndian.Uint32(dd[0:4])%4000000000, binary.BigEndian.Uint32(dd[4:8])%4000000000,
			binary.BigEndian.Uint32(dd[8:12])%4000000000, 1100+binary.BigEndian.Uint32(ud[:4])%8000)
	}
	if a.logonID == 0 {
		d := digest(s.Host, "logon", strings.ToUpper(domain), strings.ToLower(name))
		a.logonID = 0x100000 + uint64(binary.BigEndian.Uint32(d[:4])%0xe00000)
	}
	return a
}

// subject spells an account as the Security log's Subject/Target fields do:
// SYSTEM appears as the computer account.
func (s *Scenario) subject(a account) account {
	if a.sid == "S-1-5-18" {
		dom := s.Domain
		if strings.EqualFold(dom, s.ShortHost()) {
			dom = "WORKGROUP"
		}
		a.domain, a.name = dom, strings.ToUpper(s.ShortHost())+"$"
	}
	return a
}

func (s *Scenario) integrity(p *Process) string {
	if p.Integrity != "" {
		return p.Integrity
	}
	if s.account(p).service {
		return "System"
	}
	return "Medium"
}

func (s *Scenario) session(p *Process) int {
	if p.Session != nil {
		return *p.Session
	}
	if s.account(p).service {
		return 0
	}
	return 1
}

func (s *Scenario) elevation(p *Process) string {
	switch {
	case s.account(p).service:
		return "%%1936"
	case s.integrity(p) == "High":
		return "%%1937"
	}
	return "%%1938"
}

func mandatoryLabel(integrity string) string {
	switch integrity {
	case "Low":
		return "S-1-16-4096"
	case "High":
		return "S-1-16-12288"
	case "System":
		return "S-1-16-16384"
	}
	return "S-1-16-8192"
}

// securityImage spells an image path as 4688 does: UNC paths go through
// the multiple UNC provider device.
func securityImage(image string) string {
	if rest, ok := strings.CutPrefix(image, `\\`); ok {
		return `\Device\Mup\` + rest
	}
	return image
}

func cwd(p *Process) string {
	if p.CWD != "" {
		return p.CWD
	}
	return `C:\Windows\system32\`
}

// hashes derives a stable Hashes value from the image path, so that the
// same binary has the same hashes in every scenario.
func hashes(p *Process) string {
	if p.Hashes != "" {
		return p.Hashes
	}
	img := strings.ToLower(p.Image)
	up := func(kind string, n int) string {
		d := digest("image-hash", kind, img)
		return strings.ToUpper(hex.EncodeToString(d[:]))[:n]
	}
	return "SHA1=" + up("sha1", 40) + ",MD5=" + up("md5", 32) + ",SHA256=" + up("sha256", 64) + ",IMPHASH=" + up("imphash", 32)
}

const (
	msWin   = "Microsoft® Windows® Operating System"
	msCorp  = "Microsoft Corporation"
	winVer  = "10.0.19041.1 (WinBuild.160101.0800)"
	winVer2 = "10.0.19041.4355 (WinBuild.160101.0800)"
)

// knownPE holds the version metadata of the binaries the scenarios use,
// keyed by lower-case file name.
var knownPE = map[string]PEInfo{
	"cmd.exe":                {winVer2, "Windows Command Processor", msWin, msCorp, "Cmd.Exe"},
	"conhost.exe":            {winVer2, "Console Window Host", msWin, msCorp, "CONHOST.EXE"},
	"robocopy.exe":           {winVer, "Microsoft® Robocopy", msWin, msCorp, "robocopy.exe"},
	"cscript.exe":            {"5.812.10240.16384", "Microsoft ® Console Based Script Host", "Microsoft ® Windows Script Host", msCorp, "cscript.exe"},
	"wscript.exe":            {"5.812.10240.16384", "Microsoft ® Windows Based Script Host", "Microsoft ® Windows Script Host", msCorp, "wscript.exe"},
	"rundll32.exe":           {winVer, "Windows host process (Rundll32)", msWin, msCorp, "RUNDLL32.EXE"},
	"svchost.exe":            {winVer2, "Host Process for Windows Services", msWin, msCorp, "svchost.exe"},
	"tasklist.exe":           {winVer, "Lists the current running tasks", msWin, msCorp, "tasklist.exe"},
	"findstr.exe":            {winVer, "Find String (QGREP) Utility", msWin, msCorp, "FINDSTR.EXE"},
	"net.exe":                {winVer, "Net Command", msWin, msCorp, "net.exe"},
	"net1.exe":               {winVer, "Net Command", msWin, msCorp, "net1.exe"},
	"notepad.exe":            {winVer2, "Notepad", msWin, msCorp, "NOTEPAD.EXE"},
	"mshta.exe":              {"11.00.19041.4355 (WinBuild.160101.0800)", "Microsoft (R) HTML Application host", "Internet Explorer", msCorp, "MSHTA.EXE"},
	"certutil.exe":           {winVer2, "CertUtil.exe", msWin, msCorp, "CertUtil.exe"},
	"powershell.exe":         {winVer2, "Windows PowerShell", msWin, msCorp, "PowerShell.EXE"},
	"curl.exe":               {"8.4.0", "The curl executable", "The curl executable", "curl, https://curl.se/", "curl.exe"},
	"tar.exe":                {"3.6.2", "bsdtar archive tool", "libarchive", "libarchive", "bsdtar"},
	"explorer.exe":           {winVer2, "Windows Explorer", msWin, msCorp, "EXPLORER.EXE"},
	"userinit.exe":           {winVer, "Userinit Logon Application", msWin, msCorp, "USERINIT.EXE"},
	"gpscript.exe":           {winVer, "Group Policy Script Application", msWin, msCorp, "GPSCRIPT.EXE"},
	"msiexec.exe":            {"5.0.19041.4355 (WinBuild.160101.0800)", "Windows® installer", "Windows Installer - Unicode", msCorp, "msiexec.exe"},
	"python.exe":             {"3.12.4", "Python", "Python", "Python Software Foundation", "python.exe"},
	"msedge.exe":             {"126.0.2592.68", "Microsoft Edge", "Microsoft Edge", msCorp, "msedge.exe"},
	"7zfm.exe":               {"23.01", "7-Zip File Manager", "7-Zip", "Igor Pavlov", "7zFM.exe"},
	"winrar.exe":             {"7.01.0", "WinRAR archiver", "WinRAR", "Alexander Roshal", "WinRAR.exe"},
	"winword.exe":            {"16.0.17726.20160", "Microsoft Word", "Microsoft Office", msCorp, "WinWord.exe"},
	"outlook.exe":            {"16.0.17726.20160", "Microsoft Outlook", "Microsoft Outlook", msCorp, "Outlook.exe"},
	"excel.exe":              {"16.0.17726.20160", "Microsoft Excel", "Microsoft Office", msCorp, "Excel.exe"},
	"cloudflared.exe":        {"2024.6.1", "Cloudflare Tunnel daemon", "cloudflared", "Cloudflare, Inc.", "cloudflared.exe"},
	"windowsterminal.exe":    {"1.20.11381.0", "Windows Terminal", "Windows Terminal", msCorp, "WindowsTerminal.exe"},
	"taskhostw.exe":          {winVer2, "Host Process for Windows Tasks", msWin, msCorp, "taskhostw.exe"},
	"searchprotocolhost.exe": {winVer2, "Microsoft Windows Search Protocol Host", msWin, msCorp, "SearchProtocolHost.exe"},
	"backgroundtaskhost.exe": {winVer, "Background Task Host", msWin, msCorp, "backgroundTaskHost.exe"},
	"ipconfig.exe":           {winVer, "IP Configuration Utility", msWin, msCorp, "ipconfig.exe"},
}

func peInfo(p *Process) PEInfo {
	if p.PE != nil {
		return *p.PE
	}
	if pe, ok := knownPE[strings.ToLower(baseName(p.Image))]; ok {
		return pe
	}
	return PEInfo{"-", "-", "-", "-", "-"}
}
