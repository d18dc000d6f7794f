package workspacesync

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestMirrorEventsMapToTheirOrigin(t *testing.T) {
	lw := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "atrium-abc"}}
	lw.Spec.Origin = computev1alpha1.Origin{LogicalCluster: "2x8vbcp1mz7ewyku", Namespace: "team-a", Name: "nb", UID: "u"}
	reqs := originOf(context.Background(), lw)
	if len(reqs) != 1 || reqs[0].ClusterName != "2x8vbcp1mz7ewyku" || reqs[0].Namespace != "team-a" || reqs[0].Name != "nb" {
		t.Fatalf("requests %+v", reqs)
	}
	if reqs := originOf(context.Background(), &computev1alpha1.LocalWorkspace{}); len(reqs) != 0 {
		t.Fatalf("a mirror without origin maps to %+v", reqs)
	}
}

func TestMirrorChanged(t *testing.T) {
	base := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{
		Name: "nb", Generation: 2, ResourceVersion: "10",
		Annotations: map[string]string{mirror.AnnotationHubGeneration: "5"},
	}}
	now := metav1.Now()
	for _, tc := range []struct {
		name   string
		change func(lw *computev1alpha1.LocalWorkspace)
		want   bool
	}{
		{"nothing but the resourceVersion", func(lw *computev1alpha1.LocalWorkspace) { lw.ResourceVersion = "11" }, false},
		{"an unrelated label", func(lw *computev1alpha1.LocalWorkspace) { lw.Labels = map[string]string{"x": "y"} }, false},
		{"status", func(lw *computev1alpha1.LocalWorkspace) { lw.Status.Phase = workspacesv1alpha1.WorkspacePhaseRunning }, true},
		{"spec (generation)", func(lw *computev1alpha1.LocalWorkspace) { lw.Generation = 3 }, true},
		{"hub generation", func(lw *computev1alpha1.LocalWorkspace) { lw.Annotations[mirror.AnnotationHubGeneration] = "6" }, true},
		{"deletion", func(lw *computev1alpha1.LocalWorkspace) { lw.DeletionTimestamp = &now }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := base.DeepCopy()
			tc.change(n)
			if got := (mirrorChanged{}).Update(event.TypedUpdateEvent[*computev1alpha1.LocalWorkspace]{ObjectOld: base, ObjectNew: n}); got != tc.want {
				t.Fatalf("Update = %v, want %v", got, tc.want)
			}
		})
	}
}
