package hunt

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Flags of xql_match, the SQLite function behind =, !=, in and contains
// when a string literal is involved.
const (
	matchFold     = 1 << iota // compare case-insensitively
	matchWildcard             // '*' in the pattern is any run of characters
	matchContains             // substring test instead of full-string test
	matchArray                // the value is a JSON array: test its elements
	matchPathSep              // treat '/' in the value as '\' (the pattern is already normalised)
)

// sqlArg turns a go-sqlite3 generic argument into nil, int64, float64 or
// string (NULL arrives as a nil []byte, BLOBs as []byte).
func sqlArg(v any) any {
	if b, ok := v.([]byte); ok {
		if b == nil {
			return nil
		}
		return string(b)
	}
	return v
}

// textOf renders a non-null SQL value as XQL text.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// sqlBool is the SQL truth value of b.
func sqlBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// fold lower-cases text for case-insensitive comparison (Unicode-aware,
// unlike SQLite's ASCII-only lower()).
func fold(s string) string { return strings.ToLower(s) }

// xqlFold lower-cases a text value and leaves other values alone.
func xqlFold(v any) any {
	v = sqlArg(v)
	if s, ok := v.(string); ok {
		return fold(s)
	}
	return v
}

// pathSep makes '/' and '\' compare as equal by turning '/' into '\'.
func pathSep(s string) string { return strings.ReplaceAll(s, "/", `\`) }

// xqlPathSep applies pathSep to text values.
func xqlPathSep(v any) any {
	v = sqlArg(v)
	if s, ok := v.(string); ok {
		return pathSep(s)
	}
	return v
}

// globMatch reports whether s matches pattern, where '*' is any run of
// characters; with contains the pattern may match anywhere in s.
func globMatch(s, pattern string, contains bool) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		if contains {
			return strings.Contains(s, pattern)
		}
		return s == pattern
	}
	first, last := parts[0], parts[len(parts)-1]
	if !contains {
		if !strings.HasPrefix(s, first) {
			return false
		}
		s = s[len(first):]
	}
	middle := parts[1 : len(parts)-1]
	if contains {
		middle = parts[:len(parts)-1]
	}
	for _, p := range middle {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	if contains {
		return strings.Contains(s, last)
	}
	return strings.HasSuffix(s, last)
}

// matchOne applies the xql_match semantics to one text value.
func matchOne(s, pattern string, flags int64) bool {
	if flags&matchPathSep != 0 {
		s = pathSep(s)
	}
	if flags&matchFold != 0 {
		s, pattern = fold(s), fold(pattern)
	}
	contains := flags&matchContains != 0
	if flags&matchWildcard == 0 {
		if contains {
			return strings.Contains(s, pattern)
		}
		return s == pattern
	}
	if contains && strings.Trim(pattern, "*") == "" {
		// `x contains "*"` is the pySigma "exists and is not empty" idiom.
		return s != ""
	}
	return globMatch(s, pattern, contains)
}

// xqlMatch is xql_match(value, pattern, flags): NULL when either operand is
// NULL, else 1 or 0. With matchArray the value is a JSON array and the test
// is membership: some element matches the pattern as a whole.
func xqlMatch(value, pattern any, flags int64) any {
	value, pattern = sqlArg(value), sqlArg(pattern)
	if value == nil || pattern == nil {
		return nil
	}
	p := textOf(pattern)
	if flags&matchArray != 0 {
		elems, ok := jsonArray(textOf(value))
		if ok {
			for _, e := range elems {
				if e == nil {
					continue
				}
				if matchOne(jsonScalarText(e), p, flags&^matchContains) {
					return int64(1)
				}
			}
			return int64(0)
		}
	}
	return sqlBool(matchOne(textOf(value), p, flags))
}

// regexCache holds compiled regular expressions by source text.
var regexCache sync.Map // string → *regexp.Regexp

// compileRegex compiles an RE2 expression, adding (?i) when fold is set.
func compileRegex(pattern string, foldCase bool) (*regexp.Regexp, error) {
	if foldCase {
		pattern = "(?i)" + pattern
	}
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// xqlRegex is xql_regex(value, pattern, fold): an unanchored RE2 search.
func xqlRegex(value, pattern any, foldCase int64) (any, error) {
	value, pattern = sqlArg(value), sqlArg(pattern)
	if value == nil || pattern == nil {
		return nil, nil
	}
	re, err := compileRegex(textOf(pattern), foldCase != 0)
	if err != nil {
		return nil, fmt.Errorf("~=: %w", err)
	}
	return sqlBool(re.MatchString(textOf(value))), nil
}

// parseCIDRList parses a comma-separated list of CIDRs (bare addresses are
// single-host prefixes).
func parseCIDRList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("incidr: %q is not a CIDR", part)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("incidr: %q is not a CIDR", part)
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("incidr: empty CIDR list")
	}
	return out, nil
}

// xqlInCIDR is xql_incidr(value, cidrs): NULL for NULL, 0 for values that
// are not IP addresses. A JSON array value matches when any element does.
func xqlInCIDR(value, cidrs any) (any, error) {
	value, cidrs = sqlArg(value), sqlArg(cidrs)
	if value == nil || cidrs == nil {
		return nil, nil
	}
	prefixes, err := parseCIDRList(textOf(cidrs))
	if err != nil {
		return nil, err
	}
	vals := []string{textOf(value)}
	if elems, ok := jsonArray(vals[0]); ok {
		vals = vals[:0]
		for _, e := range elems {
			if e != nil {
				vals = append(vals, jsonScalarText(e))
			}
		}
	}
	for _, v := range vals {
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		a = a.Unmap()
		for _, p := range prefixes {
			if p.Contains(a) {
				return int64(1), nil
			}
		}
	}
	return int64(0), nil
}

// jsonArray decodes s as a JSON array.
func jsonArray(s string) ([]any, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var out []any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil, false
	}
	return out, true
}

// jsonScalarText renders a decoded JSON value as XQL text: strings bare,
// other values as JSON.
func jsonScalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
