package normalize

import "testing"

func TestColumnsIncludeProcessFields(t *testing.T) {
	names := map[string]bool{}
	for _, c := range Columns() {
		if names[c.Name] {
			t.Errorf("duplicate column %s", c.Name)
		}
		names[c.Name] = true
	}
	for _, want := range []string{"_time", "agent_hostname", "action_process_image_command_line",
		"actor_process_command_line", "actor_process_image_command_line", "causality_actor_process_command_line",
		"os_actor_process_command_line", "os_actor_process_image_command_line", "x_source_path"} {
		if !names[want] {
			t.Errorf("missing column %s", want)
		}
	}
	if names["action_process_command_line"] {
		t.Errorf("action_process_command_line is not an xdr_data field")
	}
}
