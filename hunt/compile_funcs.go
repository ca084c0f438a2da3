package hunt

import (
	"sort"
	"strings"
)

// funcSpec describes one XQL function: its arity and how it compiles.
type funcSpec struct {
	min, max int // max < 0: no upper bound
	build    func(c *exprCtx, x *Call, args []val) (val, error)
}

// simple compiles to a call of the registered SQLite function xql_<name>.
func simple(name string, k kind) func(*exprCtx, *Call, []val) (val, error) {
	return func(c *exprCtx, x *Call, args []val) (val, error) {
		return val{sql: "xql_" + name + "(" + joinSQL(args) + ")", kind: k}, nil
	}
}

func joinSQL(args []val) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = a.sql
	}
	return strings.Join(s, ", ")
}

func arithFn(op string) func(*exprCtx, *Call, []val) (val, error) {
	return func(c *exprCtx, x *Call, args []val) (val, error) { return arith(op, args[0], args[1]), nil }
}

// functions are the XQL functions evtxhunt implements (xql.md §3.4/§3.6).
var functions map[string]funcSpec

func init() {
	functions = map[string]funcSpec{
		"lowercase":           {1, 1, simple("lowercase", kText)},
		"uppercase":           {1, 1, simple("uppercase", kText)},
		"concat":              {1, -1, simple("concat", kText)},
		"to_string":           {1, 1, simple("to_string", kText)},
		"to_integer":          {1, 1, simple("to_integer", kInt)},
		"to_number":           {1, 1, simple("to_number", kFloat)},
		"to_float":            {1, 1, simple("to_number", kFloat)},
		"regextract":          {2, 2, buildRegextract},
		"arrayindex":          {2, 2, simple("arrayindex", kAny)},
		"array_length":        {1, 1, simple("array_length", kInt)},
		"arraystring":         {2, 2, simple("arraystring", kText)},
		"json_extract":        {2, 2, simple("json_extract", kJSON)},
		"json_extract_scalar": {2, 2, simple("json_extract_scalar", kText)},
		"to_json_string":      {1, 1, buildToJSONString},
		"timestamp_diff":      {3, 3, buildUnitCall("timestamp_diff", 2, kInt)},
		"to_timestamp":        {1, 2, buildUnitCall("to_timestamp", 1, kTime)},
		"to_epoch":            {1, 2, buildUnitCall("to_epoch", 1, kInt)},
		"current_time":        {0, 0, buildCurrentTime},
		"add":                 {2, 2, arithFn("+")},
		"subtract":            {2, 2, arithFn("-")},
		"multiply":            {2, 2, arithFn("*")},
		"divide":              {2, 2, arithFn("/")},
		"replace":             {3, 3, simple("replace", kText)},
		"replex":              {3, 3, buildReplex},
		"trim":                {1, 2, simple("trim", kText)},
		"ltrim":               {1, 2, simple("ltrim", kText)},
		"rtrim":               {1, 2, simple("rtrim", kText)},
		"len":                 {1, 1, simple("len", kInt)},
		"split":               {1, 2, simple("split", kArray)},
		"round":               {1, 2, simple("round", kAny)},
		"floor":               {1, 1, simple("floor", kInt)},
		"if":                  {2, -1, buildIf},
		"incidr":              {2, 2, buildInCIDR},
		"incidr6":             {2, 2, buildInCIDR},
		"coalesce":            {1, -1, buildCoalesce},
	}
}

// FunctionNames lists the XQL functions the back end implements, sorted.
func FunctionNames() []string {
	out := make([]string, 0, len(functions))
	for n := range functions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c *exprCtx) call(x *Call) (val, error) {
	name := strings.ToLower(x.Name)
	spec, ok := functions[name]
	if !ok {
		return val{}, errAt(x.At, "unknown function %s", x.Name)
	}
	if len(x.Args) < spec.min || (spec.max >= 0 && len(x.Args) > spec.max) {
		return val{}, errAt(x.At, "%s: wrong number of arguments (%d)", name, len(x.Args))
	}
	args := make([]val, len(x.Args))
	for i, a := range x.Args {
		v, err := c.expr(a)
		if err != nil {
			return val{}, err
		}
		args[i] = v
	}
	v, err := spec.build(c, x, args)
	if err == nil && keepsPath[name] && len(args) > 0 {
		// lowercase(action_process_image_path) is still a path.
		v.path = args[0].path
	}
	return v, err
}

// keepsPath are the functions whose result is still a path when their first
// argument is one (for path-sep mode).
var keepsPath = map[string]bool{
	"lowercase": true, "uppercase": true, "trim": true, "ltrim": true, "rtrim": true,
	"to_string": true, "coalesce": true,
}

func buildRegextract(c *exprCtx, x *Call, args []val) (val, error) {
	if s, ok := unparen(x.Args[1]).(*StringLit); ok {
		if _, err := compileRegex(s.Value, false); err != nil {
			return val{}, errAt(s.At, "bad regular expression: %v", err)
		}
	}
	return val{sql: "xql_regextract(" + joinSQL(args) + ")", kind: kArray}, nil
}

func buildReplex(c *exprCtx, x *Call, args []val) (val, error) {
	if s, ok := unparen(x.Args[1]).(*StringLit); ok {
		if _, err := compileRegex(s.Value, false); err != nil {
			return val{}, errAt(s.At, "bad regular expression: %v", err)
		}
	}
	return val{sql: "xql_replex(" + joinSQL(args) + ")", kind: kText}, nil
}

func buildToJSONString(c *exprCtx, x *Call, args []val) (val, error) {
	isJSON := args[0].kind == kArray || args[0].kind == kJSON
	return val{sql: "xql_to_json_string(" + args[0].sql + ", " + c.b.param(sqlBool(isJSON)) + ")", kind: kText}, nil
}

// buildUnitCall checks a literal time-unit argument at position unitArg.
func buildUnitCall(name string, unitArg int, k kind) func(*exprCtx, *Call, []val) (val, error) {
	return func(c *exprCtx, x *Call, args []val) (val, error) {
		if unitArg < len(x.Args) {
			if s, ok := unparen(x.Args[unitArg]).(*StringLit); ok {
				if _, ok := unitMillis(s.Value); !ok {
					return val{}, errAt(s.At, "%s: unknown time unit %q", name, s.Value)
				}
			}
		}
		return val{sql: "xql_" + name + "(" + joinSQL(args) + ")", kind: k}, nil
	}
}

// buildCurrentTime binds the resolved --now, never the wall clock.
func buildCurrentTime(c *exprCtx, x *Call, args []val) (val, error) {
	return val{sql: c.b.param(c.b.opt.Now.UnixMilli()), kind: kTime}, nil
}

// buildIf compiles if(cond, a[, b]) and the multi-branch
// if(c1, a1, c2, a2, …[, else]).
func buildIf(c *exprCtx, x *Call, args []val) (val, error) {
	var s strings.Builder
	s.WriteString("(CASE")
	i := 0
	for ; i+1 < len(args); i += 2 {
		s.WriteString(" WHEN " + args[i].sql + " THEN " + args[i+1].sql)
	}
	if i < len(args) {
		s.WriteString(" ELSE " + args[i].sql)
	}
	s.WriteString(" END)")
	out := val{sql: s.String(), kind: args[1].kind, enum: args[1].enum}
	return out, nil
}

func buildCoalesce(c *exprCtx, x *Call, args []val) (val, error) {
	k := kAny
	for _, a := range args {
		if !a.null {
			k = a.kind
			break
		}
	}
	if len(args) == 1 {
		return val{sql: args[0].sql, kind: k}, nil
	}
	return val{sql: "coalesce(" + joinSQL(args) + ")", kind: k}, nil
}

// buildInCIDR compiles the function form incidr(ip, "cidr[, cidr…]").
func buildInCIDR(c *exprCtx, x *Call, args []val) (val, error) {
	if s, ok := unparen(x.Args[1]).(*StringLit); ok {
		if _, err := parseCIDRList(s.Value); err != nil {
			return val{}, errAt(s.At, "%v", err)
		}
	}
	return boolVal("xql_incidr(" + joinSQL(args) + ")"), nil
}
