/* Every supported stage, and unsupported ones kept for the compiler.
   No errors in this file. */
config case_sensitive = false timeframe = 7d
| preset = xdr_process
| filter event_type = ENUM.PROCESS and event_sub_type = PROCESS_START and agent_os_type = 1
| alter parent = lowercase(actor_process_image_name), depth = 1 + 2 * 3,
    j = to_json_string(action_process_file_info) -> company, arr = x -> a.b{}
| fields agent_hostname as host, parent, action_process_image_*, _time
| dedup host, parent by desc _time
| comp count() as n, count_distinct(parent) as parents, values(parent) as names by host
| join type = left conflict_strategy = both (
    dataset = xdr_data
    | filter agent_os_type = ENUM.AGENT_OS_WINDOWS
    | comp max(_time) as last_seen by agent_hostname
  ) as seen seen.agent_hostname = host
| union (dataset = xdr_data | filter host in (dataset = xdr_data | fields agent_hostname))
| bin _time span = 1h
| view graph type = pie xaxis = host yaxis = n legend = `false`
| sort desc n, asc host
| limit 50
