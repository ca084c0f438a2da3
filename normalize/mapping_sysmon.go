package normalize

import (
	"encoding/json"
	"strings"

	"evtxhunt/evtx"
)

// mapSysmonStart maps Sysmon Event ID 1 (every schema variant: 16, 21, 22
// and 23 fields) and returns _time in epoch milliseconds (UtcTime, or the
// record time when UtcTime is missing or malformed).
func mapSysmonStart(ev *Event, r *evtx.Record) int64 {
	d := r.Data
	start, ok := parseSysmonTime(d["UtcTime"])
	if !ok {
		start = r.Time
	}
	timeMs := start.UnixMilli()
	ev.Set("event_sub_type", SubTypeProcessStart)
	ev.Set("action_process_is_replay", false)
	ev.Set("action_process_instance_execution_time", timeMs)

	if img := normalizePath(d["Image"]); img != "" {
		ev.Set("action_process_image_path", img)
		ev.Set("action_process_image_name", baseName(img))
	}
	ev.setStr("action_process_image_command_line", d["CommandLine"])
	pid, havePID := parseInt(d["ProcessId"])
	if havePID {
		ev.Set("action_process_os_pid", pid)
		// Millisecond FILETIME: UtcTime has no finer precision (§1.5).
		ev.Set("action_process_instance_id", InstanceID(start.Truncate(1e6), pid))
	}
	user := strings.TrimSpace(d["User"])
	ev.setStr("action_process_username", user)
	ev.setStr("action_process_user_sid", sidForName(user))
	if il, ok := integrityFromText(d["IntegrityLevel"]); ok {
		ev.Set("action_process_integrity_level", il)
	}
	h := parseHashes(d["Hashes"])
	ev.setStr("action_process_image_sha256", h.sha256)
	ev.setStr("action_process_image_md5", h.md5)
	ev.setStr("x_image_sha1", h.sha1)
	ev.setStr("x_imphash", h.imphash)
	ev.setStr("action_process_cwd", d["CurrentDirectory"])
	ev.setStr("action_process_file_info", fileInfoJSON(d))

	ev.setStr("x_process_guid", normalizeGUID(d["ProcessGuid"]))
	ev.setStr("x_parent_process_guid", normalizeGUID(d["ParentProcessGuid"]))
	ev.setStr("x_logon_guid", normalizeGUID(d["LogonGuid"]))
	logonID, _ := luidString(d["LogonId"])
	ev.setStr("x_logon_id", logonID)
	if sess, ok := parseInt(d["TerminalSessionId"]); ok {
		ev.Set("x_session_id", sess)
	}

	// The actor (parent) as the child's record describes it. Without
	// ParentUser (Sysmon < 13.30) the child's User stands in and the row is
	// flagged; the ancestry pass replaces it with the parent record's User.
	ppid, havePPID := parseInt(d["ParentProcessId"])
	actorUser, approx := strings.TrimSpace(d["ParentUser"]), false
	if actorUser == "" {
		actorUser, approx = user, true
	}
	ev.Set("x_actor_user_approx", approx)
	setActor(ev, normalizePath(d["ParentImage"]), d["ParentCommandLine"], ppid, havePPID,
		actorUser, sidForName(actorUser), logonID)
	return timeMs
}

// mapSysmonStop maps Sysmon Event ID 5 (process terminated) to a
// PROCESS_STOP row describing the ended process, and returns _time.
func mapSysmonStop(ev *Event, r *evtx.Record) int64 {
	d := r.Data
	end, ok := parseSysmonTime(d["UtcTime"])
	if !ok {
		end = r.Time
	}
	timeMs := end.UnixMilli()
	ev.Set("event_sub_type", SubTypeProcessStop)
	ev.Set("action_process_termination_date", timeMs)
	if img := normalizePath(d["Image"]); img != "" {
		ev.Set("action_process_image_path", img)
		ev.Set("action_process_image_name", baseName(img))
	}
	if pid, ok := parseInt(d["ProcessId"]); ok {
		ev.Set("action_process_os_pid", pid)
	}
	user := strings.TrimSpace(d["User"])
	ev.setStr("action_process_username", user)
	ev.setStr("action_process_user_sid", sidForName(user))
	ev.setStr("x_process_guid", normalizeGUID(d["ProcessGuid"]))
	return timeMs
}

// fileInfoJSON builds action_process_file_info from Sysmon's version
// metadata, with the key names public queries use. It returns "" when the
// record has none of the fields (16-field legacy schema).
func fileInfoJSON(d map[string]string) string {
	type kv struct{ key, field string }
	var parts []string
	for _, p := range []kv{
		{"description", "Description"}, {"product_name", "Product"}, {"company", "Company"},
		{"original_name", "OriginalFileName"}, {"file_version", "FileVersion"},
	} {
		v, ok := d[p.field]
		if !ok {
			continue
		}
		k, _ := json.Marshal(p.key)
		b, _ := json.Marshal(v)
		parts = append(parts, string(k)+":"+string(b))
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}
