package normalize

// The ancestry pass, for analysts and for the README (xdr-model.md §2 is the
// specification; this is what the code does).
//
// RebuildAncestry runs after every ingest, one host (agent_id) at a time, in
// one transaction per host, and can be run again at any time: it starts
// from the evidence each time (ancestry_claims) and rewrites only rows whose
// values change, so a second run changes nothing and a later ingest that
// supplies a missing parent fixes all its descendants.
//
// Nodes. One per PROCESS_START row (Sysmon EID 1, Security 4688). A 4688 row
// of the same process as a Sysmon row (same PID and image, starts within
// 2 s, no stop of that PID in between) is merged: the Sysmon row survives,
// its empty columns are filled from the 4688 row, the 4688 row moves to
// xdr_data_merged (orig_rowid, merged_into = the survivor's rowid), and the
// survivor's x_merged_record_ids ([{"channel","event_id","record_id","row"}])
// and x_sources list it.
//
// Edges, in order: (1) Sysmon ParentProcessGuid = the parent's ProcessGuid
// (link "guid"); (2) creator PID and time (link "pid-time"): among the
// processes of the host with that PID that started no later than the child
// and were not ended (Sysmon 5 / 4689) before it started, the most recent
// whose image is the parent image the child names (4688 ParentProcessName,
// Sysmon ParentImage), or the most recent when it names none; a Sysmon child
// only takes a 4688-only process this way; (3) when the child names its
// parent but no record of it exists: a synthetic parent node with what the
// child says (image, command line, PID, account; start from the Sysmon GUID
// when it carries one, else the child's), shared by its siblings (link
// "synthetic", x_parent_synthetic = 1); otherwise no parent. Sysmon's
// unknown-parent markers (all-zero GUID, "-") name nothing. A parent loop
// (corrupt GUIDs) is cut at its earliest process (link "loop-cut").
//
// Causality (x_cgo_rule names the rule). A spawner is a process whose name,
// parent and directory match the spawner table (DefaultSpawnerRules:
// System, smss, csrss, wininit, winlogon, services, userinit in System32,
// explorer.exe in \Windows; optional svchost.exe; WmiPrvSE.exe as a forced
// root by default). Each process's causality group owner (CGO) is itself
// when it is a spawner ("spawner-self"), a forced root ("forced-root"), has
// no parent ("no-parent", "loop-cut") or is a spawner's child
// ("child-of-spawner"); otherwise its parent's CGO ("inherited").
// action_process_is_causality_root is CGO = the process. A start row's
// causality actor is its parent's CGO (actor_group, the default) or the
// process's own CGO (child_group); without a parent, the process itself.
//
// Columns of a PROCESS_START row: actor_* and os_actor_* (equal) from the
// parent's own row (image, name, command line and its alias, PID, instance
// id, execution time, integrity, hashes, logon and session id), the child's
// own word filling gaps; the account comes from the child's word
// (ParentUser, 4688 Subject*) unless it is only an approximation
// (x_actor_user_approx). causality_actor_* the same way from the causality
// actor. Every *_causality_id except action_process_causality_id is the
// causality actor's instance id; action_process_causality_id is the
// process's CGO's. Synthetic nodes get an instance id in the XDR layout whose
// last four bytes are a non-zero hash (never equal to a real one).
// x_ancestry is the chain from the causality actor's parent (or the causality
// actor) down to the process, "explorer.exe[4012] > cmd.exe[5120] >
// net.exe[6100]", synthetic nodes marked "(synthetic)", long chains
// shortened as "...(N more)". PROCESS_STOP rows get the ended process's
// x_ancestry, action_process_causality_id and (when empty) instance id.
//
// Tables: process_nodes (one row per node, real or synthetic, with parent,
// link, spawner, CGO, the start row's causality actor, depth, xdr_rowid,
// instance id and evidence source; read by ProcessTree), xdr_data_merged,
// ancestry_claims (the actor values each start row's record gave, saved
// before the pass first overwrote them), ancestry_hosts (a digest of each
// host's nodes, so that unchanged hosts are not rewritten).
