package hunt

import (
	"sort"
	"strings"
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

var (
	eventTypeEnum = &EnumTable{Name: "event_type", Values: map[string]int64{
		"PROCESS": 1, "NETWORK": 2, "FILE": 3, "REGISTRY": 4, "INJECTION": 5, "LOAD_IMAGE": 6,
		"USER_STATUS_CHANGE": 7, "TIME_CHANGE": 8, "THREAD": 9, "CAUSALITY": 10, "HOST_STATUS": 11,
		"AGENT_STATUS": 12, "INTERNAL_STATISTICS": 13, "PROCESS_HANDLE": 14, "EVENT_LOG": 15,
		"EPM_STATUS": 16, "HOST_METADATA": 17, "SYSTEM_CALL": 18, "DEVICE": 19, "HOST_FIREWALL": 23,
	}}
	// Only the PROCESS sub-types are documented with numbers; the sub-type
	// numbering of other event types is unknown.
	eventSubTypeEnum = &EnumTable{Name: "event_sub_type", Values: map[string]int64{
		"PROCESS_START": 1, "PROCESS_STOP": 2,
	}}
	agentOSTypeEnum = &EnumTable{Name: "agent_os_type", Values: map[string]int64{
		"AGENT_OS_WINDOWS": 1, "AGENT_OS_MAC": 2, "AGENT_OS_LINUX": 4,
	}}
	signatureStatusEnum = &EnumTable{Name: "signature_status", Values: map[string]int64{
		"SIGNED": 1, "SIGNED_INVALID": 2, "UNSIGNED": 3, "FAILED_TO_OBTAIN": 4, "WEAK_HASH": 5,
		"UNSUPPORTED": 6, "INVALID_CVE_2020_0601": 7, "DELETED": 8,
	}}
	actorTypeEnum = &EnumTable{Name: "actor_type", Values: map[string]int64{
		"LOCAL": 1, "REMOTE_RPC_NAMED_PIPE": 2, "REMOTE_RPC_HTTP": 3, "REMOTE_RPC_TCP": 4,
		"REMOTE_FILE_SMB": 5,
	}}
	enumTables = []*EnumTable{eventTypeEnum, eventSubTypeEnum, agentOSTypeEnum, signatureStatusEnum, actorTypeEnum}
	enumNames  = map[*EnumTable]map[int64]string{}
)

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
