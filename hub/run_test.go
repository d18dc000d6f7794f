package hub

import "testing"

func TestControllerOptions(t *testing.T) {
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	got := controllerOptions(s, 6).GroupKindConcurrency
	for _, kind := range []string{"Workspace.workspaces.atrium.dev", "WorkspaceTemplate.workspaces.atrium.dev"} {
		if got[kind] != 6 {
			t.Errorf("concurrency of %s = %d, want 6 (all: %v)", kind, got[kind], got)
		}
	}
}
