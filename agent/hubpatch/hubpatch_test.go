package hubpatch

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestWorkspaceRetriesConflictsOnTheCurrentObject(t *testing.T) {
	ctx := context.Background()
	s := runtime.NewScheme()
	if err := workspacesv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(&workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", Finalizers: []string{"tenant.example/keep"}},
	}).Build()
	stale := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "nb"}, stale); err != nil {
		t.Fatal(err)
	}
	// Another writer comes first: the copy at hand is outdated.
	current := stale.DeepCopy()
	current.Labels = map[string]string{"atrium.dev/cluster": "east"}
	if err := c.Update(ctx, current); err != nil {
		t.Fatal(err)
	}
	add := func(ws *workspacesv1alpha1.Workspace) bool {
		return controllerutil.AddFinalizer(ws, "agent.atrium.dev/east")
	}

	without := stale.DeepCopy()
	if err := Workspace(ctx, c, nil, without, false, add); !apierrors.IsConflict(err) {
		t.Fatalf("without a live reader: got %v, want a conflict", err)
	}
	if err := Workspace(ctx, c, c, stale, false, add); err != nil {
		t.Fatalf("with a live reader: %v", err)
	}
	got := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "nb"}, got); err != nil {
		t.Fatal(err)
	}
	if !controllerutil.ContainsFinalizer(got, "agent.atrium.dev/east") || !controllerutil.ContainsFinalizer(got, "tenant.example/keep") || got.Labels["atrium.dev/cluster"] != "east" {
		t.Errorf("got finalizers %v labels %v: want both finalizers and the other writer's label", got.Finalizers, got.Labels)
	}
	// Nothing to do: no write.
	rv := got.ResourceVersion
	if err := Workspace(ctx, c, c, got, false, add); err != nil || got.ResourceVersion != rv {
		t.Errorf("a no-op wrote: err %v, resourceVersion %s → %s", err, rv, got.ResourceVersion)
	}
}
