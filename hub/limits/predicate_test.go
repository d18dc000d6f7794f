package limits

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestSlotChanged(t *testing.T) {
	base := func() *workspacesv1alpha1.Workspace {
		return &workspacesv1alpha1.Workspace{
			ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
			Spec:       workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "one-each"}},
		}
	}
	cases := []struct {
		name   string
		change func(*workspacesv1alpha1.Workspace)
		want   bool
	}{
		{"agent status", func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Phase, ws.Status.AccessURL = workspacesv1alpha1.WorkspacePhaseRunning, "http://x/"
		}, false},
		{"a finalizer", func(ws *workspacesv1alpha1.Workspace) { ws.Finalizers = []string{"agent.atrium.dev/east"} }, false},
		{"stopped", func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
		}, true},
		{"deleting", func(ws *workspacesv1alpha1.Workspace) { ws.DeletionTimestamp = &metav1.Time{Time: time.Now()} }, true},
		{"admitted", func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Conditions = []metav1.Condition{{Type: string(workspacesv1alpha1.ConditionUserLimit), Status: metav1.ConditionTrue}}
		}, true},
		{"resolved against another template", func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{Template: "other"}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := base()
			tc.change(n)
			if got := (slotChanged{}).Update(event.UpdateEvent{ObjectOld: base(), ObjectNew: n}); got != tc.want {
				t.Errorf("slotChanged = %t, want %t", got, tc.want)
			}
		})
	}
}
