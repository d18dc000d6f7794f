package syncup

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func mirrorWith(phase workspacesv1alpha1.WorkspacePhase, url string, observed bool, conds ...metav1.Condition) *computev1alpha1.LocalWorkspace {
	lw := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{
		Name: "nb", Namespace: "atrium-x", Generation: 3,
		Annotations: map[string]string{mirror.AnnotationHubGeneration: "7"},
	}}
	lw.Status.Phase, lw.Status.AccessURL, lw.Status.Conditions = phase, url, conds
	if observed {
		lw.Status.ObservedGeneration = 3
	}
	return lw
}

func cond(t workspacesv1alpha1.ConditionType, s metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: string(t), Status: s, Reason: reason}
}

func TestStatusSync(t *testing.T) {
	hubConds := []metav1.Condition{
		cond(workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, "Resolved"),
		cond(workspacesv1alpha1.ConditionScheduled, metav1.ConditionTrue, "Placed"),
	}
	for _, tc := range []struct {
		name         string
		lw           *computev1alpha1.LocalWorkspace
		hub          workspacesv1alpha1.WorkspaceStatus
		wantObserved int64
		wantURL      string
	}{
		{
			name:         "running mirror observed: hub generation becomes observedGeneration",
			lw:           mirrorWith(workspacesv1alpha1.WorkspacePhaseRunning, "http://x/", true, cond(workspacesv1alpha1.ConditionAvailable, metav1.ConditionTrue, "PodsReady")),
			hub:          workspacesv1alpha1.WorkspaceStatus{Placement: &workspacesv1alpha1.WorkspacePlacement{Cluster: "east"}, Conditions: hubConds},
			wantObserved: 7, wantURL: "http://x/",
		},
		{
			name:         "mirror not yet observed: no observedGeneration claimed",
			lw:           mirrorWith(workspacesv1alpha1.WorkspacePhaseStarting, "", false),
			hub:          workspacesv1alpha1.WorkspaceStatus{Placement: &workspacesv1alpha1.WorkspacePlacement{Cluster: "east"}, Conditions: hubConds},
			wantObserved: 0,
		},
		{
			name: "stopped: the URL is cleared on the hub",
			lw:   mirrorWith(workspacesv1alpha1.WorkspacePhaseStopped, "", true, cond(workspacesv1alpha1.ConditionStopped, metav1.ConditionTrue, "StoppedByUser")),
			hub: workspacesv1alpha1.WorkspaceStatus{Placement: &workspacesv1alpha1.WorkspacePlacement{Cluster: "east"}, AccessURL: "http://old/",
				Conditions: append(hubConds, cond(workspacesv1alpha1.ConditionAvailable, metav1.ConditionTrue, "PodsReady"))},
			wantObserved: 7,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Generation: 7}, Status: tc.hub}
			desired := DesiredStatus(tc.lw, ws)
			if statusMatches(&ws.Status, &desired) {
				t.Fatal("a changed mirror must not match the hub status")
			}
			applyAgentStatus(&ws.Status, &desired)
			if !statusMatches(&ws.Status, &desired) {
				t.Fatal("after applying, the hub status must match (no second write)")
			}
			if ws.Status.ObservedGeneration != tc.wantObserved || ws.Status.AccessURL != tc.wantURL {
				t.Fatalf("observed=%d url=%q", ws.Status.ObservedGeneration, ws.Status.AccessURL)
			}
			if ws.Status.Placement.Cluster != "east" || ws.Status.Placement.LocalNamespace != "atrium-x" {
				t.Fatalf("placement: %+v", ws.Status.Placement)
			}
			for _, c := range hubConds {
				if !meta.IsStatusConditionTrue(ws.Status.Conditions, c.Type) {
					t.Fatalf("the hub's %s condition was lost", c.Type)
				}
			}
			if tc.lw.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped && meta.FindStatusCondition(ws.Status.Conditions, string(workspacesv1alpha1.ConditionAvailable)) != nil {
				t.Fatal("an agent condition the mirror no longer reports must be removed")
			}
		})
	}
}
