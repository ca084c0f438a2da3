package normalize

import (
	"strconv"
	"strings"

	"evtxhunt/evtx"
)

// nullSID is the SID 4688 writes in Target* when the new process runs with
// the creator's account.
const nullSID = "S-1-0-0"

// mapSecurityStart maps Security 4688 in its three versions: v0 (no
// CommandLine), v1 (CommandLine) and v2 (Target*, ParentProcessName,
// MandatoryLabel; ParentProcessName may be missing on some builds).
func mapSecurityStart(ev *Event, r *evtx.Record) {
	d := r.Data
	timeMs := r.Time.UnixMilli()
	ev.Set("event_sub_type", SubTypeProcessStart)
	ev.Set("action_process_is_replay", false)
	ev.Set("action_process_instance_execution_time", timeMs)

	if img := normalizePath(strings.TrimSpace(d["NewProcessName"])); img != "" {
		ev.Set("action_process_image_path", img)
		ev.Set("action_process_image_name", baseName(img))
	}
	// Empty unless the "include command line" audit policy is on: NULL then.
	ev.setStr("action_process_image_command_line", d["CommandLine"])
	if pid, ok := parseInt(d["NewProcessId"]); ok {
		ev.Set("action_process_os_pid", pid)
		ev.Set("action_process_instance_id", InstanceID(r.Time, pid))
	}

	subjectSID := strings.TrimSpace(d["SubjectUserSid"])
	subject := accountName(subjectSID, d["SubjectDomainName"], d["SubjectUserName"])
	subjectLogon, _ := luidString(d["SubjectLogonId"])
	targetSID := strings.TrimSpace(d["TargetUserSid"])
	if targetSID != "" && !strings.EqualFold(targetSID, nullSID) {
		ev.setStr("action_process_username", accountName(targetSID, d["TargetDomainName"], d["TargetUserName"]))
		ev.Set("action_process_user_sid", targetSID)
		targetLogon, _ := luidString(d["TargetLogonId"])
		ev.setStr("x_logon_id", targetLogon)
	} else {
		ev.setStr("action_process_username", subject)
		ev.setStr("action_process_user_sid", subjectSID)
		ev.setStr("x_logon_id", subjectLogon)
	}
	if il, ok := integrityFromLabel(d["MandatoryLabel"]); ok {
		ev.Set("action_process_integrity_level", il)
	}
	if et, ok := elevationTypes[strings.TrimSpace(d["TokenElevationType"])]; ok {
		ev.Set("action_process_token", `{"elevation_type":`+strconv.FormatInt(et, 10)+`}`)
	}

	// The creator: ProcessId is its PID, Subject* its account; its command
	// line comes from its own record in the ancestry pass.
	ppid, havePPID := parseInt(d["ProcessId"])
	setActor(ev, normalizePath(strings.TrimSpace(d["ParentProcessName"])), "", ppid, havePPID,
		subject, subjectSID, subjectLogon)
}

// mapSecurityStop maps Security 4689 (a process has exited) to a
// PROCESS_STOP row describing the ended process.
func mapSecurityStop(ev *Event, r *evtx.Record) {
	d := r.Data
	ev.Set("event_sub_type", SubTypeProcessStop)
	ev.Set("action_process_termination_date", r.Time.UnixMilli())
	if img := normalizePath(strings.TrimSpace(d["ProcessName"])); img != "" {
		ev.Set("action_process_image_path", img)
		ev.Set("action_process_image_name", baseName(img))
	}
	if pid, ok := parseInt(d["ProcessId"]); ok {
		ev.Set("action_process_os_pid", pid)
	}
	if code, ok := parseInt(d["Status"]); ok {
		ev.Set("action_process_termination_code", code)
	}
	sid := strings.TrimSpace(d["SubjectUserSid"])
	ev.setStr("action_process_username", accountName(sid, d["SubjectDomainName"], d["SubjectUserName"]))
	ev.setStr("action_process_user_sid", sid)
	logon, _ := luidString(d["SubjectLogonId"])
	ev.setStr("x_logon_id", logon)
}
