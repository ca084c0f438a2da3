// Each ERROR comment follows the token where Parse must report the error.
config case_sensitive = false
| dataset = xdr_data
| filter event_type = ENUM.PROCESS and
    action_process_image_name in ("a.exe", "b.exe" /* ERROR HERE "expected \"\)\" to close the in list" */ | sort desc _time
| stats /* ERROR "unknown stage \"stats\"" */ count() as c by agent_hostname
| fields a, b as /* ERROR HERE "expected alias after as" */ , c
| limit 10
