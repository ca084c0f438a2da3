package normalize

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// fileTimeEpochDelta is the number of 100 ns ticks between 1601-01-01 (the
// Windows FILETIME epoch) and 1970-01-01.
const fileTimeEpochDelta = 116444736000000000

// FileTime returns the Windows FILETIME (100 ns ticks since 1601-01-01 UTC)
// of t, computed without overflowing for any representable time.Time.
func FileTime(t time.Time) int64 {
	return Ticks100ns(t) + fileTimeEpochDelta
}

// Ticks100ns returns t as 100 ns ticks since the Unix epoch.
func Ticks100ns(t time.Time) int64 {
	return t.Unix()*10_000_000 + int64(t.Nanosecond()/100)
}

// InstanceID builds an XDR process instance id (xdr-model.md §1.5): the
// base64 of the big-endian FILETIME of the process start, the big-endian
// 32-bit PID and four zero bytes.
func InstanceID(start time.Time, pid int64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(FileTime(start)))
	binary.BigEndian.PutUint32(b[8:12], uint32(pid))
	return base64.StdEncoding.EncodeToString(b[:])
}

// EventID builds the synthetic xdr_data event_id: the base64 of the
// big-endian epoch milliseconds of _time, the first four bytes of the agent
// id (md5 of the lower-case host name) and the big-endian low 32 bits of the
// EventRecordID.
func EventID(timeMs int64, agentID string, recordID uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(timeMs))
	if h, err := hex.DecodeString(agentID); err == nil && len(h) >= 4 {
		copy(b[8:12], h[:4])
	}
	binary.BigEndian.PutUint32(b[12:16], uint32(recordID))
	return base64.StdEncoding.EncodeToString(b[:])
}

// AgentID returns the synthetic agent_id of a host: the hex md5 of its
// lower-case agent_hostname.
func AgentID(hostname string) string {
	sum := md5.Sum([]byte(strings.ToLower(hostname)))
	return hex.EncodeToString(sum[:])
}

// HostParts splits a Computer name into the agent_hostname (first DNS
// label), the host_metadata_hostname (the full name) and the
// host_metadata_domain (everything after the first dot, "" when none).
func HostParts(computer string) (host, fqdn, domain string) {
	fqdn = strings.TrimSuffix(strings.TrimSpace(computer), ".")
	host, domain, _ = strings.Cut(fqdn, ".")
	return host, fqdn, domain
}

// parseInt parses a decimal or 0x-prefixed hexadecimal integer as Windows
// writes them in EventData (ProcessId "6112", NewProcessId "0x1a2c").
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return 0, false
		}
		return int64(v), true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		u, uerr := strconv.ParseUint(s, 10, 64)
		if uerr != nil {
			return 0, false
		}
		return int64(u), true
	}
	return v, true
}

// luidString converts a hex logon id ("0x00000000000003e7") to the decimal
// string xdr_data stores ("999").
func luidString(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return "", false
		}
		return strconv.FormatUint(v, 10), true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(v, 10), true
}

// normalizePath turns a kernel network path (\Device\Mup\host\share\...)
// into its UNC form (\\host\share\...). Other paths are returned unchanged.
func normalizePath(p string) string {
	const mup = `\device\mup\`
	if len(p) >= len(mup) && strings.EqualFold(p[:len(mup)], mup) {
		return `\\` + p[len(mup):]
	}
	return p
}

// baseName returns the file-name part of a Windows (or slash-separated) path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// wellKnownSIDs maps the service-account SIDs to their canonical names.
var wellKnownSIDs = map[string]string{
	"S-1-5-18": `NT AUTHORITY\SYSTEM`,
	"S-1-5-19": `NT AUTHORITY\LOCAL SERVICE`,
	"S-1-5-20": `NT AUTHORITY\NETWORK SERVICE`,
}

// wellKnownNames maps the canonical upper-case names back to their SIDs.
var wellKnownNames = map[string]string{
	`NT AUTHORITY\SYSTEM`:          "S-1-5-18",
	`NT AUTHORITY\LOCAL SERVICE`:   "S-1-5-19",
	`NT AUTHORITY\NETWORK SERVICE`: "S-1-5-20",
}

// sidForName returns the SID of a well-known account name, "" otherwise.
func sidForName(name string) string {
	return wellKnownNames[strings.ToUpper(name)]
}

// accountName builds DOMAIN\user from a SID and the names Windows logged. A
// well-known SID wins over the logged names (4688 shows WORKGROUP\HOST$ for
// SYSTEM); "-" and empty parts are dropped; it returns "" when nothing is left.
func accountName(sid, domain, user string) string {
	if n, ok := wellKnownSIDs[strings.ToUpper(strings.TrimSpace(sid))]; ok {
		return n
	}
	clean := func(s string) string {
		s = strings.TrimSpace(s)
		if s == "-" {
			return ""
		}
		return s
	}
	domain, user = clean(domain), clean(user)
	switch {
	case user == "":
		return ""
	case domain == "":
		return user
	default:
		return domain + `\` + user
	}
}

// integrityRIDs maps Sysmon's IntegrityLevel text to mandatory-label RIDs.
var integrityRIDs = map[string]int64{
	"untrusted":    0,
	"low":          4096,
	"appcontainer": 4096,
	"medium":       8192,
	"mediumplus":   8448,
	"high":         12288,
	"system":       16384,
	"protected":    20480,
}

// integrityFromText converts Sysmon's IntegrityLevel ("High") to its RID.
func integrityFromText(s string) (int64, bool) {
	v, ok := integrityRIDs[strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))]
	return v, ok
}

// integrityFromLabel converts a 4688 MandatoryLabel (S-1-16-N) to N.
func integrityFromLabel(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	const pfx = "S-1-16-"
	if len(s) <= len(pfx) || !strings.EqualFold(s[:len(pfx)], pfx) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[len(pfx):], 10, 32)
	if err != nil {
		return 0, false
	}
	return int64(v), true
}

// hashes holds the values of a Sysmon Hashes field, lower-cased.
type hashes struct {
	sha1, md5, sha256, imphash string
}

// parseHashes splits "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." into its parts.
func parseHashes(s string) hashes {
	var h hashes
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "SHA1":
			h.sha1 = v
		case "MD5":
			h.md5 = v
		case "SHA256":
			h.sha256 = v
		case "IMPHASH":
			h.imphash = v
		}
	}
	return h
}

// normalizeGUID returns a GUID in Sysmon's display form: upper case, in
// braces. Values that are not 36-character GUIDs are returned trimmed.
func normalizeGUID(s string) string {
	g := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(g) != 36 || g[8] != '-' || g[13] != '-' || g[18] != '-' || g[23] != '-' {
		return strings.TrimSpace(s)
	}
	if _, err := hex.DecodeString(strings.ReplaceAll(g, "-", "")); err != nil {
		return strings.TrimSpace(s)
	}
	return "{" + strings.ToUpper(g) + "}"
}

// parseSysmonTime parses Sysmon's UtcTime ("2024-10-21 11:04:43.683"); any
// number of fractional digits is accepted.
func parseSysmonTime(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(s), time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// elevationTypes maps TokenElevationType message ids to TOKEN_ELEVATION_TYPE values.
var elevationTypes = map[string]int64{"%%1936": 1, "%%1937": 2, "%%1938": 3}
