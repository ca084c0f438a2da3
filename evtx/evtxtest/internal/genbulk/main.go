// Command genbulk writes a large synthetic EVTX collection for benchmarks:
// Sysmon and Security logs of several hosts, mostly events evtxhunt does not
// want (network connections, file creations, registry sets, logons) with
// about one record in ten a Sysmon Event ID 1 process creation.
//
//	go run ./evtx/evtxtest/internal/genbulk -out /tmp/bulk -size 2048
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"evtxhunt/evtx/evtxtest"
)

const (
	sysmonChannel  = "Microsoft-Windows-Sysmon/Operational"
	sysmonProvider = "Microsoft-Windows-Sysmon"
	sysmonGUID     = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"
)

func main() {
	out := flag.String("out", "", "output directory")
	sizeMB := flag.Int("size", 2048, "approximate total size in MiB")
	fileMB := flag.Int("file", 64, "approximate size of one file in MiB")
	ratio := flag.Float64("process-ratio", 0.10, "share of records that are Sysmon Event ID 1")
	seed := flag.Int64("seed", 1, "random seed (same seed, same bytes)")
	flag.Parse()
	if *out == "" {
		log.Fatal("genbulk: -out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatalf("genbulk: %v", err)
	}
	rng := rand.New(rand.NewSource(*seed))
	nfiles := (*sizeMB + *fileMB - 1) / *fileMB
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var total int64
	for i := 0; i < nfiles; i++ {
		host := fmt.Sprintf("WS-BULK-%03d.corp.example", i%16)
		path := filepath.Join(*out, fmt.Sprintf("%02d-%s-Sysmon.evtx", i, host[:11]))
		events := fileEvents(rng, host, base.Add(time.Duration(i)*time.Hour), int64(*fileMB)<<20, *ratio)
		if err := evtxtest.WriteFile(path, events, evtxtest.Options{}); err != nil {
			log.Fatalf("genbulk: %v", err)
		}
		st, err := os.Stat(path)
		if err != nil {
			log.Fatalf("genbulk: %v", err)
		}
		total += st.Size()
	}
	log.Printf("genbulk: %d files, %.1f MiB in %s", nfiles, float64(total)/(1<<20), *out)
}

// fileEvents returns about size bytes of events for one file.
func fileEvents(rng *rand.Rand, host string, t0 time.Time, size int64, ratio float64) []evtxtest.Event {
	var events []evtxtest.Event
	var approx int64
	t := t0
	pid := 1000
	for approx < size {
		t = t.Add(time.Duration(rng.Intn(2000)) * time.Millisecond)
		pid += 4
		var ev evtxtest.Event
		if rng.Float64() < ratio {
			ev = processCreate(rng, host, t, pid)
		} else {
			ev = noise(rng, host, t, pid)
		}
		events = append(events, ev)
		// A record costs its header, the substitution array and UTF-16 values.
		approx += 200
		for _, f := range ev.Data {
			approx += int64(2*len(f.Value) + 4)
		}
	}
	return events
}

func sysmon(host string, t time.Time, eid, version int, data []evtxtest.Field) evtxtest.Event {
	return evtxtest.Event{Channel: sysmonChannel, Provider: sysmonProvider, ProviderGUID: sysmonGUID,
		EventID: eid, Version: version, Level: 4, Task: eid, Keywords: 0x8000000000000000,
		Time: t, Computer: host, UserSID: "S-1-5-18", ProcessID: 2980, ThreadID: 3900, Data: data}
}

func guid(rng *rand.Rand) string {
	return fmt.Sprintf("{%08X-%04X-%04X-%04X-%012X}", rng.Uint32(), rng.Intn(1<<16), rng.Intn(1<<16), rng.Intn(1<<16), rng.Int63n(1<<48))
}

var images = []string{
	`C:\Windows\System32\svchost.exe`, `C:\Windows\System32\conhost.exe`, `C:\Windows\System32\cmd.exe`,
	`C:\Program Files\Google\Chrome\Application\chrome.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
	`C:\Windows\System32\rundll32.exe`, `C:\Windows\explorer.exe`, `C:\Windows\System32\net.exe`,
}

func processCreate(rng *rand.Rand, host string, t time.Time, pid int) evtxtest.Event {
	img := images[rng.Intn(len(images))]
	parent := images[rng.Intn(len(images))]
	f := func(n, v string) evtxtest.Field { return evtxtest.Field{Name: n, Value: v} }
	return sysmon(host, t, 1, 5, []evtxtest.Field{
		f("RuleName", "-"), f("UtcTime", t.Format("2006-01-02 15:04:05.000")), f("ProcessGuid", guid(rng)),
		f("ProcessId", strconv.Itoa(pid)), f("Image", img), f("FileVersion", "10.0.19041.1 (WinBuild.160101.0800)"),
		f("Description", "Windows component"), f("Product", "Microsoft® Windows® Operating System"),
		f("Company", "Microsoft Corporation"), f("OriginalFileName", filepath.Base(img)),
		f("CommandLine", fmt.Sprintf(`%s --job %d --token %016x`, img, rng.Intn(100000), rng.Int63())),
		f("CurrentDirectory", `C:\Windows\system32\`), f("User", `CORP\jmiller`), f("LogonGuid", guid(rng)),
		f("LogonId", "0x3e7"), f("TerminalSessionId", "1"), f("IntegrityLevel", "Medium"),
		f("Hashes", fmt.Sprintf("SHA256=%016X%016X%016X%016X", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())),
		f("ParentProcessGuid", guid(rng)), f("ParentProcessId", strconv.Itoa(pid-4)), f("ParentImage", parent),
		f("ParentCommandLine", parent), f("ParentUser", `CORP\jmiller`),
	})
}

func noise(rng *rand.Rand, host string, t time.Time, pid int) evtxtest.Event {
	f := func(n, v string) evtxtest.Field { return evtxtest.Field{Name: n, Value: v} }
	switch rng.Intn(3) {
	case 0: // network connection
		return sysmon(host, t, 3, 5, []evtxtest.Field{
			f("RuleName", "-"), f("UtcTime", t.Format("2006-01-02 15:04:05.000")), f("ProcessGuid", guid(rng)),
			f("ProcessId", strconv.Itoa(pid)), f("Image", images[rng.Intn(len(images))]), f("User", `CORP\jmiller`),
			f("Protocol", "tcp"), f("Initiated", "true"), f("SourceIsIpv6", "false"),
			f("SourceIp", fmt.Sprintf("10.1.%d.%d", rng.Intn(255), rng.Intn(255))), f("SourceHostname", "-"),
			f("SourcePort", strconv.Itoa(49152+rng.Intn(16000))), f("SourcePortName", "-"), f("DestinationIsIpv6", "false"),
			f("DestinationIp", fmt.Sprintf("203.0.113.%d", rng.Intn(255))), f("DestinationHostname", "-"),
			f("DestinationPort", "443"), f("DestinationPortName", "https"),
		})
	case 1: // file create
		return sysmon(host, t, 11, 2, []evtxtest.Field{
			f("RuleName", "-"), f("UtcTime", t.Format("2006-01-02 15:04:05.000")), f("ProcessGuid", guid(rng)),
			f("ProcessId", strconv.Itoa(pid)), f("Image", images[rng.Intn(len(images))]),
			f("TargetFilename", fmt.Sprintf(`C:\Users\jmiller\AppData\Local\Temp\tmp%08x.tmp`, rng.Uint32())),
			f("CreationUtcTime", t.Format("2006-01-02 15:04:05.000")), f("User", `CORP\jmiller`),
		})
	default: // registry value set
		return sysmon(host, t, 13, 2, []evtxtest.Field{
			f("RuleName", "-"), f("EventType", "SetValue"), f("UtcTime", t.Format("2006-01-02 15:04:05.000")),
			f("ProcessGuid", guid(rng)), f("ProcessId", strconv.Itoa(pid)), f("Image", images[rng.Intn(len(images))]),
			f("TargetObject", fmt.Sprintf(`HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Explorer\%08x`, rng.Uint32())),
			f("Details", fmt.Sprintf("DWORD (0x%08x)", rng.Uint32())), f("User", `CORP\jmiller`),
		})
	}
}
