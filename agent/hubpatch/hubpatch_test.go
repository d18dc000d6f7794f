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

// A Writer's second write, made on the same outdated copy (the cache has not seen the first
// write yet), starts from what it wrote and meets no conflict, without any live read.
func TestWriterStartsFromItsOwnLastWrite(t *testing.T) {
	ctx := context.Background()
	s := runtime.NewScheme()
	if err := workspacesv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(&workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", UID: "uid-1"},
	}).Build()
	cached := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "nb"}, cached); err != nil {
		t.Fatal(err)
	}
	w := &Writer{}
	first := cached.DeepCopy()
	if err := w.Workspace(ctx, c, nil, first, false, func(ws *workspacesv1alpha1.Workspace) bool {
		return controllerutil.AddFinalizer(ws, "agent.atrium.dev/east")
	}); err != nil {
		t.Fatal(err)
	}
	second := cached.DeepCopy() // the cache is behind
	if err := w.Workspace(ctx, c, nil, second, false, func(ws *workspacesv1alpha1.Workspace) bool {
		if ws.Labels["seen"] == "yes" {
			return false
		}
		ws.Labels = map[string]string{"seen": "yes"}
		return true
	}); err != nil {
		t.Fatalf("second write on the outdated copy: %v", err)
	}
	got := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "nb"}, got); err != nil {
		t.Fatal(err)
	}
	if !controllerutil.ContainsFinalizer(got, "agent.atrium.dev/east") || got.Labels["seen"] != "yes" {
		t.Errorf("got finalizers %v labels %v, want both writes", got.Finalizers, got.Labels)
	}
	// Once the cache shows a newer version, the Writer reads from it again.
	fresh := got.DeepCopy()
	if err := w.Workspace(ctx, c, nil, fresh, false, func(*workspacesv1alpha1.Workspace) bool { return false }); err != nil || fresh.ResourceVersion != got.ResourceVersion {
		t.Errorf("a caught-up cache: err %v, resourceVersion %s, want %s", err, fresh.ResourceVersion, got.ResourceVersion)
	}
}
