package templateuse

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Only what changes a template's count requeues it: not the status writes of the hub and the
// agent on every workspace.
func TestTemplateChanged(t *testing.T) {
	base := func() *workspacesv1alpha1.Workspace {
		return &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default"}}
	}
	cases := []struct {
		name   string
		change func(*workspacesv1alpha1.Workspace)
		want   bool
	}{
		{"agent status", func(ws *workspacesv1alpha1.Workspace) { ws.Status.Phase = workspacesv1alpha1.WorkspacePhaseRunning }, false},
		{"stopped", func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
		}, false},
		{"deleting", func(ws *workspacesv1alpha1.Workspace) { ws.DeletionTimestamp = &metav1.Time{Time: time.Now()} }, false},
		{"default template pinned", func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{Template: "default"}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := base()
			tc.change(n)
			if got := (templateChanged{}).Update(event.UpdateEvent{ObjectOld: base(), ObjectNew: n}); got != tc.want {
				t.Errorf("templateChanged = %t, want %t", got, tc.want)
			}
		})
	}
}
