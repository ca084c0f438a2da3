package hunt

import (
	"sort"
	"strings"

	"evtxhunt/normalize"
)

// EnumTable maps the ENUM names of one family of xdr_data fields to the
// integers stored in SQLite (xdr-model.md §1.3).
type EnumTable struct {
	// Name identifies the family, e.g. "event_type" or "signature_status".
	Name string
	// Values maps upper-case ENUM names to their integers.
	Values map[string]int64
}

// Name lookups are upper-case; names returns the reverse map.
func (t *EnumTable) names() map[int64]string {
	m := make(map[int64]string, len(t.Values))
	for n, v := range t.Values {
		m[v] = n
	}
	return m
}

// The ENUM numbers are normalize's (the one table of xdr-model.md §1.3 that
// the store writes and xdr_data_readable shows); a column stands for its family.
var (
	eventTypeEnum       = enumTableOf("event_type", "event_type")
	eventSubTypeEnum    = enumTableOf("event_sub_type", "event_sub_type") // only PROCESS sub-types have numbers
	agentOSTypeEnum     = enumTableOf("agent_os_type", "agent_os_type")
	signatureStatusEnum = enumTableOf("signature_status", "action_process_signature_status")
	actorTypeEnum       = enumTableOf("actor_type", "actor_type")
	enumTables          = []*EnumTable{eventTypeEnum, eventSubTypeEnum, agentOSTypeEnum, signatureStatusEnum, actorTypeEnum}
	enumNames           = map[*EnumTable]map[int64]string{}
)

// enumTableOf builds the table of an ENUM family from normalize's names for
// one of its columns.
func enumTableOf(name, column string) *EnumTable {
	t := &EnumTable{Name: name, Values: map[string]int64{}}
	for _, n := range normalize.EnumNames(column) {
		v, _ := normalize.EnumValue(column, n)
		t.Values[n] = v
	}
	return t
}

func init() {
	for _, t := range enumTables {
		enumNames[t] = t.names()
	}
}

// EnumFor returns the ENUM table of an xdr_data field, or nil when the field
// is not an ENUM: event_type, event_sub_type, agent_os_type, every
// *_signature_status field and the actor_type family.
func EnumFor(field string) *EnumTable {
	f := strings.ToLower(field)
	switch {
	case f == "event_type":
		return eventTypeEnum
	case f == "event_sub_type":
		return eventSubTypeEnum
	case f == "agent_os_type":
		return agentOSTypeEnum
	case strings.HasSuffix(f, "_signature_status"):
		return signatureStatusEnum
	case f == "actor_type" || strings.HasSuffix(f, "_actor_type"):
		return actorTypeEnum
	}
	return nil
}

// Lookup returns the integer of an ENUM name (case-insensitive).
func (t *EnumTable) Lookup(name string) (int64, bool) {
	v, ok := t.Values[strings.ToUpper(name)]
	return v, ok
}

// NameOf returns the ENUM name of an integer, or "" when it has none.
func (t *EnumTable) NameOf(v int64) string {
	return enumNames[t][v]
}

// lookupEnumAnywhere resolves an ENUM name without a field context. It
// succeeds when exactly one table knows the name.
func lookupEnumAnywhere(name string) (int64, *EnumTable, bool) {
	var (
		found *EnumTable
		val   int64
	)
	for _, t := range enumTables {
		if v, ok := t.Lookup(name); ok {
			if found != nil && val != v {
				return 0, nil, false
			}
			found, val = t, v
		}
	}
	return val, found, found != nil
}

// KnownEnumNames lists every ENUM name evtxhunt can translate, sorted.
func KnownEnumNames() []string {
	var out []string
	for _, t := range enumTables {
		for n := range t.Values {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
