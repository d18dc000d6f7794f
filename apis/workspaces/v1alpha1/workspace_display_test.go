package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDisplayHelpers(t *testing.T) {
	now := metav1.Now()
	for _, tc := range []struct {
		name        string
		ws          Workspace
		phase       WorkspacePhase
		owner, tmpl string
	}{
		{name: "new", ws: Workspace{Spec: WorkspaceSpec{TemplateRef: &TemplateRef{Name: "jupyter"}}}, phase: WorkspacePhasePending, tmpl: "jupyter"},
		{name: "stopped before any report", ws: Workspace{Spec: WorkspaceSpec{DesiredStatus: DesiredStatusStopped}}, phase: WorkspacePhaseStopped},
		{name: "reported", ws: Workspace{Status: WorkspaceStatus{Phase: WorkspacePhaseRunning, Effective: &EffectiveWorkspaceSpec{Template: "resolved"}}}, phase: WorkspacePhaseRunning, tmpl: "resolved"},
		{name: "deleting", ws: Workspace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: WorkspaceStatus{Phase: WorkspacePhaseRunning}}, phase: WorkspacePhaseDeleting},
		{name: "owner annotated", ws: Workspace{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationCreatedBy: "alice"}}}, phase: WorkspacePhasePending, owner: "alice"},
		{name: "owner recorded", ws: Workspace{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationCreatedBy: "alice"}}, Status: WorkspaceStatus{Owner: &WorkspaceOwner{Username: "bob"}}}, phase: WorkspacePhasePending, owner: "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ws.DisplayPhase(); got != tc.phase {
				t.Errorf("DisplayPhase = %s, want %s", got, tc.phase)
			}
			if got := tc.ws.OwnerName(); got != tc.owner {
				t.Errorf("OwnerName = %q, want %q", got, tc.owner)
			}
			if got := tc.ws.TemplateName(); got != tc.tmpl {
				t.Errorf("TemplateName = %q, want %q", got, tc.tmpl)
			}
		})
	}
}
