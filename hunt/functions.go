package hunt

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sqlFunc is one Go function registered in SQLite by OpenDB.
type sqlFunc struct {
	name string
	impl any
	pure bool
}

// sqlFuncs lists the SQLite functions behind XQL. Arrays are JSON text and
// timestamps are epoch milliseconds, as in the xdr_data table.
var sqlFuncs = []sqlFunc{
	{"xql_fold", xqlFold, true},
	{"xql_pathsep", xqlPathSep, true},
	{"xql_match", xqlMatch, true},
	{"xql_regex", xqlRegex, true},
	{"xql_incidr", xqlInCIDR, true},
	{"xql_lowercase", func(v any) any { return mapText(v, strings.ToLower) }, true},
	{"xql_uppercase", func(v any) any { return mapText(v, strings.ToUpper) }, true},
	{"xql_to_string", xqlToString, true},
	{"xql_to_integer", xqlToInteger, true},
	{"xql_to_number", xqlToNumber, true},
	{"xql_regextract", xqlRegextract, true},
	{"xql_arrayindex", xqlArrayIndex, true},
	{"xql_array_length", xqlArrayLength, true},
	{"xql_arraystring", xqlArrayString, true},
	{"xql_json_extract", xqlJSONExtract, true},
	{"xql_json_extract_scalar", xqlJSONExtractScalar, true},
	{"xql_to_json_string", xqlToJSONString, true},
	{"xql_timestamp_diff", xqlTimestampDiff, true},
	{"xql_to_timestamp", xqlToTimestamp, true},
	{"xql_to_epoch", xqlToEpoch, true},
	{"xql_replace", xqlReplace, true},
	{"xql_replex", xqlReplex, true},
	{"xql_trim", func(v any, cut ...any) any { return xqlTrim(strings.Trim, v, cut) }, true},
	{"xql_ltrim", func(v any, cut ...any) any { return xqlTrim(strings.TrimLeft, v, cut) }, true},
	{"xql_rtrim", func(v any, cut ...any) any { return xqlTrim(strings.TrimRight, v, cut) }, true},
	{"xql_len", xqlLen, true},
	{"xql_split", xqlSplit, true},
	{"xql_concat", xqlConcat, true},
	{"xql_round", xqlRound, true},
	{"xql_floor", xqlFloor, true},
	{"xql_sorted_array", xqlSortedArray, true},
}

// mapText applies f to a text value; NULL stays NULL and other values are
// rendered as text first.
func mapText(v any, f func(string) string) any {
	v = sqlArg(v)
	if v == nil {
		return nil
	}
	return f(textOf(v))
}

func xqlToString(v any) any { return mapText(v, func(s string) string { return s }) }

func xqlToInteger(v any) any {
	switch x := sqlArg(v).(type) {
	case int64:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return int64(x)
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return int64(f)
		}
	}
	return nil
}

func xqlToNumber(v any) any {
	switch x := sqlArg(v).(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f
		}
	}
	return nil
}

// jsonText encodes v as JSON text.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// xqlRegextract returns the JSON array of all matches of re in s; when re
// has one capturing group, the array holds that group's text.
func xqlRegextract(s, re any) (any, error) {
	s, re = sqlArg(s), sqlArg(re)
	if s == nil || re == nil {
		return nil, nil
	}
	r, err := compileRegex(textOf(re), false)
	if err != nil {
		return nil, fmt.Errorf("regextract: %w", err)
	}
	out := []string{}
	for _, m := range r.FindAllStringSubmatch(textOf(s), -1) {
		if len(m) > 1 {
			out = append(out, m[1])
		} else {
			out = append(out, m[0])
		}
	}
	return jsonText(out), nil
}

// sqlFromJSON turns a decoded JSON element into an SQL value: strings and
// numbers as themselves, objects and arrays as JSON text.
func sqlFromJSON(e any) any {
	switch x := e.(type) {
	case nil:
		return nil
	case string:
		return x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case bool:
		return sqlBool(x)
	}
	return jsonText(e)
}

func xqlArrayIndex(arr, idx any) any {
	arr, idx = sqlArg(arr), sqlArg(idx)
	if arr == nil || idx == nil {
		return nil
	}
	elems, ok := jsonArray(textOf(arr))
	if !ok {
		return nil
	}
	i, ok := xqlToInteger(idx).(int64)
	if !ok {
		return nil
	}
	if i < 0 {
		i += int64(len(elems))
	}
	if i < 0 || i >= int64(len(elems)) {
		return nil
	}
	return sqlFromJSON(elems[i])
}

func xqlArrayLength(arr any) any {
	arr = sqlArg(arr)
	if arr == nil {
		return nil
	}
	elems, ok := jsonArray(textOf(arr))
	if !ok {
		return nil
	}
	return int64(len(elems))
}

func xqlArrayString(arr, sep any) any {
	arr, sep = sqlArg(arr), sqlArg(sep)
	if arr == nil || sep == nil {
		return nil
	}
	elems, ok := jsonArray(textOf(arr))
	if !ok {
		return nil
	}
	parts := make([]string, 0, len(elems))
	for _, e := range elems {
		if e != nil {
			parts = append(parts, jsonScalarText(e))
		}
	}
	return strings.Join(parts, textOf(sep))
}

// jsonPathGet walks a JSONPath of the forms $.a.b, $.a[0], $["k.e.y"],
// $['k'] through a decoded document.
func jsonPathGet(doc any, path string) (any, bool) {
	p := strings.TrimSpace(path)
	if !strings.HasPrefix(p, "$") {
		return nil, false
	}
	p = p[1:]
	cur := doc
	for p != "" {
		switch p[0] {
		case '.':
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			key := p[:end]
			p = p[end:]
			if key == "" {
				return nil, false
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[key]; !ok {
				return nil, false
			}
		case '[':
			if len(p) > 1 && (p[1] == '"' || p[1] == '\'') {
				// A quoted key, which may itself contain ']' or '.'.
				q := p[1]
				closeAt := strings.IndexByte(p[2:], q)
				if closeAt < 0 {
					return nil, false
				}
				key := p[2 : 2+closeAt]
				rest := p[2+closeAt+1:]
				if !strings.HasPrefix(rest, "]") {
					return nil, false
				}
				p = rest[1:]
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, false
				}
				if cur, ok = m[key]; !ok {
					return nil, false
				}
				continue
			}
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, false
			}
			inner := strings.TrimSpace(p[1:end])
			p = p[end+1:]
			i, err := strconv.Atoi(inner)
			if err != nil {
				return nil, false
			}
			a, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, false
			}
			cur = a[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// decodeJSON decodes a JSON document with numbers kept exact.
func decodeJSON(s string) (any, bool) {
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// xqlJSONExtract returns the JSON text at path, or NULL.
func xqlJSONExtract(j, path any) any {
	v, ok := jsonAt(j, path)
	if !ok || v == nil {
		return nil
	}
	return jsonText(v)
}

// jsonAt decodes the JSON document j and returns the value at path; ok is
// false when either is NULL, j is no JSON or the path is missing.
func jsonAt(j, path any) (any, bool) {
	j, path = sqlArg(j), sqlArg(path)
	if j == nil || path == nil {
		return nil, false
	}
	doc, ok := decodeJSON(textOf(j))
	if !ok {
		return nil, false
	}
	return jsonPathGet(doc, textOf(path))
}

// xqlJSONExtractScalar returns the scalar at path as text, or NULL when it
// is missing, null, an object or an array.
func xqlJSONExtractScalar(j, path any) any {
	v, ok := jsonAt(j, path)
	if !ok {
		return nil
	}
	switch v.(type) {
	case nil, map[string]any, []any:
		return nil
	}
	return jsonScalarText(v)
}

// xqlToJSONString encodes a value as JSON text; isJSON says the value is
// already JSON (an array or object column).
func xqlToJSONString(v any, isJSON int64) any {
	v = sqlArg(v)
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok && isJSON != 0 {
		if _, ok := decodeJSON(s); ok {
			return s
		}
	}
	return jsonText(v)
}

// unitMillis is the length of a time unit in milliseconds (micro is 1e-3).
func unitMillis(unit string) (float64, bool) {
	switch strings.ToUpper(strings.TrimSpace(unit)) {
	case "DAY", "DAYS":
		return 86400e3, true
	case "HOUR", "HOURS":
		return 3600e3, true
	case "MINUTE", "MINUTES":
		return 60e3, true
	case "SECOND", "SECONDS":
		return 1e3, true
	case "MILLISECOND", "MILLISECONDS", "MILLIS":
		return 1, true
	case "MICROSECOND", "MICROSECONDS", "MICROS":
		return 1e-3, true
	}
	return 0, false
}

// asMillis reads an epoch-millisecond timestamp.
func asMillis(v any) (float64, bool) {
	switch x := sqlArg(v).(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

// xqlTimestampDiff is timestamp_diff(t1, t2, unit) = t1 − t2 in whole units.
func xqlTimestampDiff(t1, t2, unit any) (any, error) {
	a, ok1 := asMillis(t1)
	b, ok2 := asMillis(t2)
	if !ok1 || !ok2 || sqlArg(unit) == nil {
		return nil, nil
	}
	m, ok := unitMillis(textOf(sqlArg(unit)))
	if !ok {
		return nil, fmt.Errorf("timestamp_diff: unknown unit %q", textOf(sqlArg(unit)))
	}
	return int64(math.Trunc((a - b) / m)), nil
}

// xqlToTimestamp is to_timestamp(n, unit): an epoch in unit (default
// SECONDS) to epoch milliseconds.
func xqlToTimestamp(n any, unit ...any) (any, error) {
	v, ok := asMillis(n)
	if !ok {
		return nil, nil
	}
	m, err := unitArg("to_timestamp", unit)
	if err != nil {
		return nil, err
	}
	return int64(math.Round(v * m)), nil
}

// unitArg returns the milliseconds of the optional unit argument of fn
// (default SECONDS).
func unitArg(fn string, unit []any) (float64, error) {
	u := "SECONDS"
	if len(unit) > 0 && sqlArg(unit[0]) != nil {
		u = textOf(sqlArg(unit[0]))
	}
	m, ok := unitMillis(u)
	if !ok {
		return 0, fmt.Errorf("%s: unknown unit %q", fn, u)
	}
	return m, nil
}

// xqlToEpoch is to_epoch(ts, unit): epoch milliseconds to an epoch in unit
// (default SECONDS).
func xqlToEpoch(ts any, unit ...any) (any, error) {
	v, ok := asMillis(ts)
	if !ok {
		return nil, nil
	}
	m, err := unitArg("to_epoch", unit)
	if err != nil {
		return nil, err
	}
	return int64(math.Floor(v / m)), nil
}

func xqlReplace(s, old, repl any) any {
	s, old, repl = sqlArg(s), sqlArg(old), sqlArg(repl)
	if s == nil || old == nil || repl == nil {
		return nil
	}
	if textOf(old) == "" {
		return textOf(s)
	}
	return strings.ReplaceAll(textOf(s), textOf(old), textOf(repl))
}

func xqlReplex(s, re, repl any) (any, error) {
	s, re, repl = sqlArg(s), sqlArg(re), sqlArg(repl)
	if s == nil || re == nil || repl == nil {
		return nil, nil
	}
	r, err := compileRegex(textOf(re), false)
	if err != nil {
		return nil, fmt.Errorf("replex: %w", err)
	}
	return r.ReplaceAllString(textOf(s), textOf(repl)), nil
}

func xqlTrim(f func(string, string) string, v any, cut []any) any {
	v = sqlArg(v)
	if v == nil {
		return nil
	}
	chars := " \t\r\n"
	if len(cut) > 0 {
		c := sqlArg(cut[0])
		if c == nil {
			return nil
		}
		chars = textOf(c)
	}
	return f(textOf(v), chars)
}

func xqlLen(v any) any {
	v = sqlArg(v)
	if v == nil {
		return nil
	}
	return int64(utf8.RuneCountInString(textOf(v)))
}

// xqlSplit splits s on sep (default a space) into a JSON array.
func xqlSplit(s any, sep ...any) any {
	s = sqlArg(s)
	if s == nil {
		return nil
	}
	d := " "
	if len(sep) > 0 {
		v := sqlArg(sep[0])
		if v == nil {
			return nil
		}
		d = textOf(v)
	}
	return jsonText(strings.Split(textOf(s), d))
}

// xqlConcat joins its arguments as text; any NULL argument makes it NULL.
func xqlConcat(args ...any) any {
	var b strings.Builder
	for _, a := range args {
		a = sqlArg(a)
		if a == nil {
			return nil
		}
		b.WriteString(textOf(a))
	}
	return b.String()
}

func xqlRound(v any, digits ...any) any {
	f, ok := xqlToNumber(v).(float64)
	if !ok {
		return nil
	}
	if len(digits) == 0 {
		return int64(math.Round(f))
	}
	d, ok := xqlToInteger(digits[0]).(int64)
	if !ok {
		return nil
	}
	p := math.Pow(10, float64(d))
	return math.Round(f*p) / p
}

func xqlFloor(v any) any {
	f, ok := xqlToNumber(v).(float64)
	if !ok {
		return nil
	}
	return int64(math.Floor(f))
}

// xqlSortedArray sorts a JSON array of scalars so values() is
// deterministic.
func xqlSortedArray(arr any) any {
	arr = sqlArg(arr)
	if arr == nil {
		return nil
	}
	elems, ok := jsonArray(textOf(arr))
	if !ok {
		return arr
	}
	sort.SliceStable(elems, func(i, j int) bool {
		a, b := elems[i], elems[j]
		an, aok := a.(json.Number)
		bn, bok := b.(json.Number)
		if aok && bok {
			af, _ := an.Float64()
			bf, _ := bn.Float64()
			return af < bf
		}
		return jsonScalarText(a) < jsonScalarText(b)
	})
	return jsonText(elems)
}
