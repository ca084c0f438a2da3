package report

import (
	"slices"
	"strings"
	"time"
)

// Severities lists the known severities from most to least severe; the
// summaries count matches in this order.
var Severities = []string{"critical", "high", "medium", "low", "informational"}

// normSeverity maps a hunt's severity to one of Severities, or "other".
func normSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "info":
		return "informational"
	case "crit":
		return "critical"
	case "med":
		return "medium"
	}
	for _, k := range Severities {
		if s == k {
			return k
		}
	}
	return "other"
}

// displayZone returns the zone a report is shown in: TZ, or UTC when nil.
func (r *Report) displayZone() *time.Location {
	if r == nil || r.TZ == nil {
		return time.UTC
	}
	return r.TZ
}

// zoneName names loc for headers ("UTC" or the IANA name).
func zoneName(loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return "UTC"
	}
	return loc.String()
}

// displayTime formats t for people: millisecond precision, in loc, with the
// UTC offset appended when loc is not UTC (the offset may change across the
// span because of daylight saving time). The zero time is "unknown".
func displayTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "unknown"
	}
	if loc == nil || loc == time.UTC {
		return t.UTC().Format("2006-01-02 15:04:05.000")
	}
	return t.In(loc).Format("2006-01-02 15:04:05.000 -07:00")
}

// isoUTC formats t for machines: ISO 8601 in UTC with microseconds and an
// explicit +00:00 offset, the form Timesketch documents. The zero time is "".
func isoUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000-07:00")
}

// plural returns "1 match" or "2 matches" style counts.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(int64(n)) + " " + many
}

// itoa formats n with thousands separators (1,234,567).
func itoa(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	digits := []byte{}
	for i := 0; n > 0 || i == 0; i++ {
		if i > 0 && i%3 == 0 {
			digits = append(digits, ',')
		}
		digits = append(digits, byte('0'+n%10))
		n /= 10
	}
	if neg {
		digits = append(digits, '-')
	}
	for i, j := 0, len(digits)-1; i < j; i, j = i+1, j-1 {
		digits[i], digits[j] = digits[j], digits[i]
	}
	return string(digits)
}

// summary holds counts every renderer's summary shows.
type summary struct {
	Hunts, WithMatches, WithoutMatches, Skipped, Failed int
	Matches                                             int
	BySeverity                                          []sevCount
	Hosts                                               []string
	First, Last                                         time.Time
	FilesByStatus                                       map[string]int
	RecordsFailed                                       int64
	HuntLint                                            int
}

type sevCount struct {
	Severity string
	Count    int
}

func summarize(r *Report) summary {
	var s summary
	bySev := map[string]int{}
	hosts := map[string]bool{}
	for i := range r.Hunts {
		h := &r.Hunts[i]
		s.Hunts++
		s.HuntLint += len(h.Lint)
		switch {
		case h.Skipped != "":
			s.Skipped++
		case h.Error != "":
			s.Failed++
		case len(h.Matches) > 0:
			s.WithMatches++
		default:
			s.WithoutMatches++
		}
		sev := normSeverity(h.Severity)
		for j := range h.Matches {
			m := &h.Matches[j]
			s.Matches++
			bySev[sev]++
			if m.Host != "" {
				hosts[m.Host] = true
			}
			if !m.Time.IsZero() {
				if s.First.IsZero() || m.Time.Before(s.First) {
					s.First = m.Time
				}
				if s.Last.IsZero() || m.Time.After(s.Last) {
					s.Last = m.Time
				}
			}
		}
	}
	for _, k := range Severities {
		s.BySeverity = append(s.BySeverity, sevCount{k, bySev[k]})
	}
	if bySev["other"] > 0 {
		s.BySeverity = append(s.BySeverity, sevCount{"other", bySev["other"]})
	}
	for h := range hosts {
		s.Hosts = append(s.Hosts, h)
	}
	slices.Sort(s.Hosts)
	s.FilesByStatus = map[string]int{}
	for _, f := range r.Health.Files {
		s.FilesByStatus[f.Status]++
	}
	for _, n := range r.Health.RecordsFailed {
		s.RecordsFailed += n
	}
	return s
}
