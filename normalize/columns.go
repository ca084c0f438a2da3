package normalize

import "strings"

// XDRField is one field of the Cortex XDR xdr_data schema.
type XDRField struct {
	Name string
	Mode string // "", NULLABLE or REPEATED
	Type string // STRING, INTEGER, BOOLEAN, TIMESTAMP, RECORD, MAP, ...
}

// Column is one column of the SQLite xdr_data table.
type Column struct {
	Name string
	// SQLType is the SQLite column type: INTEGER or TEXT.
	SQLType string
	// XDRType is the Cortex schema type, or "" for provenance (x_) columns.
	XDRType string
}

// storedSystemFields are the non-process xdr_data fields that evtxhunt fills.
var storedSystemFields = map[string]bool{
	"_time": true, "_insert_time": true, "_product": true, "_vendor": true,
	"insert_timestamp": true, "event_id": true, "event_type": true, "event_sub_type": true,
	"event_timestamp": true, "event_is_replay": true, "agent_hostname": true, "agent_id": true,
	"agent_os_type": true, "agent_os_sub_type": true, "agent_version": true,
	"agent_ip_addresses": true, "host_metadata_hostname": true, "host_metadata_domain": true,
}

// storedPrefixes are the field families a process event carries.
var storedPrefixes = []string{"action_process_", "actor_", "causality_actor_", "os_actor_"}

// ProvenanceColumns are evtxhunt's own columns, prefixed x_, that say where a
// row came from and how its ancestry was derived.
var ProvenanceColumns = []Column{
	{"x_source_path", "TEXT", ""},
	{"x_zip_member", "TEXT", ""},
	{"x_source_sha256", "TEXT", ""},
	{"x_chunk", "INTEGER", ""},
	{"x_offset", "INTEGER", ""},
	{"x_record_id", "INTEGER", ""},
	{"x_channel", "TEXT", ""},
	{"x_provider", "TEXT", ""},
	{"x_event_id", "INTEGER", ""},
	{"x_event_version", "INTEGER", ""},
	{"x_computer", "TEXT", ""},
	{"x_time_100ns", "INTEGER", ""},
	{"x_recovered", "INTEGER", ""},
	{"x_event_data", "TEXT", ""},
	{"x_sources", "TEXT", ""},
	{"x_process_guid", "TEXT", ""},
	{"x_parent_process_guid", "TEXT", ""},
	{"x_logon_guid", "TEXT", ""},
	{"x_logon_id", "TEXT", ""},
	{"x_session_id", "INTEGER", ""},
	{"x_image_sha1", "TEXT", ""},
	{"x_imphash", "TEXT", ""},
	{"x_actor_user_approx", "INTEGER", ""},
	{"x_merged_record_ids", "TEXT", ""},
	{"x_parent_synthetic", "INTEGER", ""},
	{"x_ancestry", "TEXT", ""},
	{"x_cgo_rule", "TEXT", ""},
	{"x_path_sep_only", "INTEGER", ""},
}

// sqlType maps a Cortex type to the SQLite storage type.
func sqlType(f XDRField) string {
	if f.Mode == "REPEATED" {
		return "TEXT" // JSON array
	}
	switch f.Type {
	case "INTEGER", "BOOLEAN", "TIMESTAMP":
		return "INTEGER"
	default:
		return "TEXT" // STRING, RECORD, MAP, ... (JSON for structured values)
	}
}

// IsStored reports whether a field is a column of evtxhunt's xdr_data table:
// a stored Cortex field or an x_ provenance column.
func IsStored(name string) bool {
	if storedSystemFields[name] {
		return true
	}
	if strings.HasPrefix(name, "x_") {
		for _, c := range ProvenanceColumns {
			if c.Name == name {
				return true
			}
		}
		return false
	}
	for _, p := range storedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Columns returns the columns of the xdr_data table in order: the stored
// Cortex fields in schema order, then the provenance columns.
func Columns() []Column {
	var cols []Column
	for _, f := range XDRFields {
		if IsStored(f.Name) {
			cols = append(cols, Column{Name: f.Name, SQLType: sqlType(f), XDRType: f.Type})
		}
	}
	return append(cols, ProvenanceColumns...)
}

// LookupXDRField returns the schema entry of a Cortex field name.
func LookupXDRField(name string) (XDRField, bool) {
	for _, f := range XDRFields {
		if f.Name == name {
			return f, true
		}
	}
	return XDRField{}, false
}
