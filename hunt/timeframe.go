package hunt

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Window is the resolved time window of a query, on _time. A zero From or
// To means unbounded on that side.
type Window struct {
	From, To time.Time
	// Source says where the window came from, e.g.
	// "config timeframe 7d relative to --now 2024-05-01T10:00:00Z".
	Source string
}

// String renders the window for humans.
func (w Window) String() string {
	side := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("[%s, %s] (%s)", side(w.From, "-inf"), side(w.To, "+inf"), w.Source)
}

var durationRE = regexp.MustCompile(`^(\d+)\s*(ms|s|m|h|d|w)$`)

// ParseDuration parses an XQL relative time such as 7d, 30m, 24h, 2w, 10s.
func ParseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("hunt: bad relative time %q (want e.g. 7d, 24h, 30m)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("hunt: bad relative time %q: %w", s, err)
	}
	unit := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
	}[m[2]]
	if n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("hunt: relative time %q is too large", s)
	}
	return time.Duration(n) * unit, nil
}

// absLayouts are the accepted absolute time spellings; without a zone the
// time is UTC.
var absLayouts = []string{
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05 Z07:00",
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseTime parses a time as written in `config timeframe between` or on the
// command line: "now", "begin" (the zero time, unbounded), a relative "-7d"
// (before now), an absolute time such as "2024-01-01 00:00:00 +0000" or
// RFC 3339, or epoch milliseconds.
func ParseTime(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "now":
		return now, nil
	case "begin":
		return time.Time{}, nil
	}
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		d, err := ParseDuration(t[1:])
		if err != nil {
			return time.Time{}, err
		}
		if t[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil && len(t) >= 10 {
		return time.UnixMilli(n).UTC(), nil
	}
	for _, l := range absLayouts {
		if v, err := time.Parse(l, t); err == nil {
			return v.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("hunt: bad time %q (want now, begin, -7d, 2024-01-01 00:00:00 +0000, RFC 3339 or epoch ms)", s)
}

// resolveWindow works out the window of a query: a config timeframe wins
// over --from/--to (as over the product's time picker); with neither there
// is no time restriction.
func resolveWindow(tf *Timeframe, opt CompileOptions) (Window, error) {
	nowText := opt.Now.UTC().Format(time.RFC3339Nano)
	if tf != nil {
		if tf.Relative != "" {
			d, err := ParseDuration(tf.Relative)
			if err != nil {
				return Window{}, &CompileError{Pos: tf.At, Msg: err.Error()}
			}
			return Window{From: opt.Now.Add(-d), To: opt.Now,
				Source: fmt.Sprintf("config timeframe %s relative to --now %s", tf.Relative, nowText)}, nil
		}
		from, err := ParseTime(tf.From, opt.Now)
		if err != nil {
			return Window{}, &CompileError{Pos: tf.At, Msg: err.Error()}
		}
		to, err := ParseTime(tf.To, opt.Now)
		if err != nil {
			return Window{}, &CompileError{Pos: tf.At, Msg: err.Error()}
		}
		return Window{From: from, To: to,
			Source: fmt.Sprintf("config timeframe between %q and %q relative to --now %s", tf.From, tf.To, nowText)}, nil
	}
	if !opt.From.IsZero() || !opt.To.IsZero() {
		return Window{From: opt.From, To: opt.To, Source: "--from/--to"}, nil
	}
	return Window{Source: "no time restriction"}, nil
}
