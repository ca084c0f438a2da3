package normalize

import (
	"sort"
	"strings"
)

// Values of the ENUM columns evtxhunt writes (xdr-model.md §1.3).
const (
	// EventTypeProcess is event_type PROCESS.
	EventTypeProcess = 1
	// SubTypeProcessStart is event_sub_type PROCESS_START.
	SubTypeProcessStart = 1
	// SubTypeProcessStop is event_sub_type PROCESS_STOP.
	SubTypeProcessStop = 2
	// AgentOSWindows is agent_os_type AGENT_OS_WINDOWS.
	AgentOSWindows = 1
	// ActorTypeLocal is actor_type (and os_/causality_actor_type) Local.
	ActorTypeLocal = 1
)

// eventTypeNames maps event_type values to their ENUM names.
var eventTypeNames = map[int64]string{
	1: "PROCESS", 2: "NETWORK", 3: "FILE", 4: "REGISTRY", 5: "INJECTION", 6: "LOAD_IMAGE",
	7: "USER_STATUS_CHANGE", 8: "TIME_CHANGE", 9: "THREAD", 10: "CAUSALITY", 11: "HOST_STATUS",
	12: "AGENT_STATUS", 13: "INTERNAL_STATISTICS", 14: "PROCESS_HANDLE", 15: "EVENT_LOG",
	16: "EPM_STATUS", 17: "HOST_METADATA", 18: "SYSTEM_CALL", 19: "DEVICE", 23: "HOST_FIREWALL",
}

// processSubTypeNames maps event_sub_type values of PROCESS events to names.
var processSubTypeNames = map[int64]string{1: "PROCESS_START", 2: "PROCESS_STOP"}

// agentOSNames maps agent_os_type values to names.
var agentOSNames = map[int64]string{1: "AGENT_OS_WINDOWS", 2: "AGENT_OS_MAC", 4: "AGENT_OS_LINUX"}

// actorTypeNames maps actor_type values to names.
var actorTypeNames = map[int64]string{
	1: "LOCAL", 2: "REMOTE_RPC_NAMED_PIPE", 3: "REMOTE_RPC_HTTP", 4: "REMOTE_RPC_TCP", 5: "REMOTE_FILE_SMB",
}

// signatureStatusNames maps *_signature_status values to names.
var signatureStatusNames = map[int64]string{
	1: "SIGNED", 2: "SIGNED_INVALID", 3: "UNSIGNED", 4: "FAILED_TO_OBTAIN", 5: "WEAK_HASH",
	6: "UNSUPPORTED", 7: "INVALID_CVE_2020_0601", 8: "DELETED",
}

// integrityNames maps mandatory-label RIDs to integrity level names.
var integrityNames = map[int64]string{
	0: "UNTRUSTED", 4096: "LOW", 8192: "MEDIUM", 8448: "MEDIUM_PLUS", 12288: "HIGH",
	16384: "SYSTEM", 20480: "PROTECTED",
}

// enumColumn returns the name table of an ENUM-valued column, or nil.
func enumColumn(column string) map[int64]string {
	switch {
	case column == "event_type":
		return eventTypeNames
	case column == "event_sub_type":
		return processSubTypeNames
	case column == "agent_os_type":
		return agentOSNames
	case column == "actor_type" || column == "os_actor_type" || column == "causality_actor_type":
		return actorTypeNames
	case strings.HasSuffix(column, "_signature_status"):
		return signatureStatusNames
	case strings.HasSuffix(column, "_integrity_level"):
		return integrityNames
	}
	return nil
}

// IsEnumColumn reports whether a column holds integer ENUM values that have names.
func IsEnumColumn(column string) bool { return enumColumn(column) != nil }

// EnumName returns the ENUM name of value v in column, e.g.
// EnumName("event_type", 1) = "PROCESS".
func EnumName(column string, v int64) (string, bool) {
	n, ok := enumColumn(column)[v]
	return n, ok
}

// EnumValue returns the integer of an ENUM name in column, ignoring case,
// e.g. EnumValue("event_sub_type", "process_start") = 1.
func EnumValue(column, name string) (int64, bool) {
	for v, n := range enumColumn(column) {
		if strings.EqualFold(n, name) {
			return v, true
		}
	}
	return 0, false
}

// EnumNames returns the ENUM names of a column in ascending value order.
func EnumNames(column string) []string {
	m := enumColumn(column)
	vs := make([]int64, 0, len(m))
	for v := range m {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = m[v]
	}
	return names
}
