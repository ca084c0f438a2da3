package normalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"evtxhunt/evtx"
)

// Channels and providers of the records evtxhunt maps.
const (
	// SysmonChannel is the Sysmon event log channel.
	SysmonChannel = "Microsoft-Windows-Sysmon/Operational"
	// SecurityChannel is the Windows Security event log channel.
	SecurityChannel = "Security"
	// SysmonProvider is the provider name of Sysmon events.
	SysmonProvider = "Microsoft-Windows-Sysmon"
	// SecurityProvider is the provider name of Security auditing events.
	SecurityProvider = "Microsoft-Windows-Security-Auditing"
)

// ErrNotProcessEvent is returned by FromRecord for records that are not
// Sysmon 1/5 or Security 4688/4689.
var ErrNotProcessEvent = errors.New("normalize: not a process start or stop event")

// Default values of the _vendor and _product columns. They are the values
// Cortex XDR agent rows carry, so that hunts filtering on them keep working;
// x_channel and x_provider say where the row really came from.
const (
	DefaultVendor  = "PANW"
	DefaultProduct = "XDR agent"
)

// MapOptions tunes FromRecord.
type MapOptions struct {
	// Vendor and Product fill _vendor and _product; empty means
	// DefaultVendor / DefaultProduct.
	Vendor, Product string
	// InsertTime fills _insert_time and insert_timestamp; zero means the
	// row's _time (deterministic output for tests).
	InsertTime time.Time
}

// FromRecord maps a Sysmon EID 1/5 or Security 4688/4689 record to an
// xdr_data row (xdr-model.md §1.4). Fields that need the parent's own record
// (actor hashes, instance ids, causality actor) are left for the ancestry
// pass. Other records give ErrNotProcessEvent.
func FromRecord(r *evtx.Record, opt MapOptions) (ev Event, err error) {
	if r == nil {
		return Event{}, fmt.Errorf("normalize: nil record: %w", ErrNotProcessEvent)
	}
	defer func() {
		if p := recover(); p != nil {
			ev, err = Event{}, fmt.Errorf("normalize: record %d: panic while mapping: %v", r.RecordID, p)
		}
	}()
	kind := recordKind(r)
	if kind == kindNone {
		return Event{}, fmt.Errorf("normalize: record %d (%s/%d): %w", r.RecordID, r.Channel, r.EventID, ErrNotProcessEvent)
	}
	ev = NewEvent()
	timeMs := r.Time.UnixMilli()
	switch kind {
	case kindSysmonStart:
		timeMs = mapSysmonStart(&ev, r)
	case kindSysmonStop:
		timeMs = mapSysmonStop(&ev, r)
	case kindSecurityStart:
		mapSecurityStart(&ev, r)
	case kindSecurityStop:
		mapSecurityStop(&ev, r)
	}
	setCommon(&ev, r, timeMs, opt)
	return ev, nil
}

// kind says which mapping a record gets.
type kind int

const (
	kindNone kind = iota
	kindSysmonStart
	kindSysmonStop
	kindSecurityStart
	kindSecurityStop
)

// recordKind classifies a record by provider (or, when the provider is
// missing, by channel) and event id. The provider is checked first so that
// forwarded copies (channel ForwardedEvents) are still recognised.
func recordKind(r *evtx.Record) kind {
	sysmon := strings.EqualFold(r.Provider, SysmonProvider) || (r.Provider == "" && strings.EqualFold(r.Channel, SysmonChannel))
	security := strings.EqualFold(r.Provider, SecurityProvider) || (r.Provider == "" && strings.EqualFold(r.Channel, SecurityChannel))
	switch {
	case sysmon && r.EventID == 1:
		return kindSysmonStart
	case sysmon && r.EventID == 5:
		return kindSysmonStop
	case security && r.EventID == 4688:
		return kindSecurityStart
	case security && r.EventID == 4689:
		return kindSecurityStop
	}
	return kindNone
}

// setCommon fills the system, agent and provenance columns shared by every row.
func setCommon(ev *Event, r *evtx.Record, timeMs int64, opt MapOptions) {
	vendor, product := opt.Vendor, opt.Product
	if vendor == "" {
		vendor = DefaultVendor
	}
	if product == "" {
		product = DefaultProduct
	}
	insertMs := timeMs
	if !opt.InsertTime.IsZero() {
		insertMs = opt.InsertTime.UnixMilli()
	}
	host, fqdn, domain := HostParts(r.Computer)
	agentID := AgentID(host)

	ev.Set("_time", timeMs)
	ev.Set("event_timestamp", timeMs)
	ev.Set("_insert_time", insertMs)
	ev.Set("insert_timestamp", insertMs)
	ev.Set("_vendor", vendor)
	ev.Set("_product", product)
	ev.Set("event_id", EventID(timeMs, agentID, r.RecordID))
	ev.Set("event_type", EventTypeProcess)
	ev.Set("event_is_replay", false)
	ev.setStr("agent_hostname", host)
	ev.Set("agent_id", agentID)
	ev.Set("agent_os_type", AgentOSWindows)
	ev.setStr("host_metadata_hostname", fqdn)
	ev.setStr("host_metadata_domain", domain)

	src := evtx.Source{}
	if r.Source != nil {
		src = *r.Source
	}
	ev.setStr("x_source_path", src.Path)
	ev.setStr("x_zip_member", src.Member)
	ev.setStr("x_source_sha256", src.SHA256)
	ev.Set("x_chunk", int64(r.Chunk))
	ev.Set("x_offset", r.Offset)
	ev.Set("x_record_id", int64(r.RecordID))
	ev.Set("x_channel", r.Channel)
	ev.Set("x_provider", r.Provider)
	ev.Set("x_event_id", int64(r.EventID))
	ev.Set("x_event_version", int64(r.Version))
	ev.Set("x_computer", r.Computer)
	ev.Set("x_time_100ns", Ticks100ns(r.Time))
	ev.Set("x_recovered", r.Recovered)
	ev.Set("x_event_data", eventDataJSON(r.Data))
	ev.Set("x_sources", sourcesJSON([]SourceRef{{
		Path: src.Path, Member: src.Member, SHA256: src.SHA256,
		Chunk: int64(r.Chunk), Offset: r.Offset, Recovered: r.Recovered,
	}}))
}

// SourceRef is one element of the x_sources JSON array: a place the row's
// record was read from.
type SourceRef struct {
	Path      string `json:"path"`
	Member    string `json:"member,omitempty"`
	SHA256    string `json:"sha256"`
	Chunk     int64  `json:"chunk"`
	Offset    int64  `json:"offset"`
	Recovered bool   `json:"recovered,omitempty"`
}

// sourcesJSON encodes x_sources.
func sourcesJSON(refs []SourceRef) string {
	b, err := json.Marshal(refs)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// ParseSources decodes an x_sources value.
func ParseSources(s string) ([]SourceRef, error) {
	var refs []SourceRef
	if err := json.Unmarshal([]byte(s), &refs); err != nil {
		return nil, fmt.Errorf("normalize: x_sources: %w", err)
	}
	return refs, nil
}

// eventDataJSON encodes the raw EventData as a JSON object (keys sorted).
func eventDataJSON(data map[string]string) string {
	if data == nil {
		return "{}"
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// setActor fills actor_* and the identical os_actor_* columns (neither
// Sysmon nor 4688 can tell the OS actor from the initiator, §1.4).
func setActor(ev *Event, path, cmdline string, pid int64, havePID bool, user, sid, logonID string) {
	for _, p := range []string{"actor_", "os_actor_"} {
		if path != "" {
			ev.Set(p+"process_image_path", path)
			ev.Set(p+"process_image_name", baseName(path))
		}
		ev.setStr(p+"process_command_line", cmdline)
		ev.setStr(p+"process_image_command_line", cmdline)
		if havePID {
			ev.Set(p+"process_os_pid", pid)
		}
		ev.setStr(p+"effective_username", user)
		ev.setStr(p+"primary_username", user)
		ev.setStr(p+"effective_user_sid", sid)
		ev.setStr(p+"primary_user_sid", sid)
		ev.setStr(p+"process_logon_id", logonID)
		ev.setStr(p+"process_auth_id", logonID)
		ev.Set(p+"type", ActorTypeLocal)
	}
}
