// A query in the style of the Hunt Analytics collection: no errors.
config case_sensitive = false
| dataset = xdr_data
| filter event_type = ENUM.PROCESS and event_sub_type = ENUM.PROCESS_START
    and agent_os_type = ENUM.AGENT_OS_WINDOWS
    and action_process_image_name in ("powershell.exe", "pwsh.exe")
    and (action_process_image_command_line ~= "(?i)-enc(odedcommand)?\s"
        or action_process_image_command_line contains "FromBase64String")
    and actor_process_image_path not contains "\Program Files\"
| alter cmd = lowercase(action_process_image_command_line),
    parent = coalesce(actor_process_image_name, "unknown")
| comp count() as n, min(_time) as first_seen, max(_time) as last_seen by agent_hostname, cmd, parent
| sort desc n
| limit 100
