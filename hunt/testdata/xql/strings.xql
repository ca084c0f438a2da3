// String rules (xql.md §3.1): "…" is raw and ends at the next quote, even
// after a backslash, unless what follows cannot follow a string; """…"""
// processes escapes. No errors in this file.
dataset = xdr_data
| filter action_process_image_path = "C:\Windows\System32\cmd.exe"
    or action_process_image_path contains "\AppData\Local\Temp\"
    or actor_process_command_line contains "\\127.0.0.1\"
    or action_process_image_command_line ~= "^([A-Za-z]):\"
    or action_process_image_command_line ~= "(?i)git(\.exe)?[\s\"]+clone"
    or action_process_image_command_line contains "https://x.example/a//b" // a URL, not a comment
    or action_process_image_command_line = """a \"quoted\" word"""
    or action_process_image_name in ("*.exe", "cmd.exe", "")
| alter unquoted = replace(action_process_image_command_line, "\"", "")
| alter nobackslash = replace(action_process_image_command_line, """\\\\""", "\")
