package workspacesync

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// The fake clients stand in for the caches only to count the writes one pass decides on: the
// finalizer first, no status before the materializer reported any, one status write per
// visible change, none once converged, and a write that meets someone else's newer version
// requeued after a jittered delay without reading the hub past its cache.
func TestSyncWritesOncePerVisibleChange(t *testing.T) {
	ctx := context.Background()
	s := testScheme(t)
	const lc = "2x8vbcp1mz7ewyku"
	key := types.NamespacedName{Namespace: "default", Name: "nb"}
	ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, UID: "ws-uid", Generation: 2}}
	ws.Status = workspacesv1alpha1.WorkspaceStatus{
		Placement:  &workspacesv1alpha1.WorkspacePlacement{Cluster: "east"},
		Effective:  &workspacesv1alpha1.EffectiveWorkspaceSpec{Image: "jupyter/minimal"},
		Conditions: []metav1.Condition{{Type: string(workspacesv1alpha1.ConditionValid), Status: metav1.ConditionTrue, Reason: "Resolved", LastTransitionTime: metav1.Now()}},
	}
	hub := fake.NewClientBuilder().WithScheme(s).WithObjects(ws).WithStatusSubresource(ws).Build()
	local := fake.NewClientBuilder().WithScheme(s).WithStatusSubresource(&computev1alpha1.LocalWorkspace{}).Build()

	var writes []string
	r := &Reconciler{
		Cluster: "east", Local: local,
		LiveReader: func(context.Context, multicluster.ClusterName) (client.Reader, error) {
			t.Fatal("the hot path read the hub past its cache")
			return nil, nil
		},
		OnHubWrite: func(write string, err error) {
			switch {
			case apierrors.IsConflict(err):
				write += " conflict"
			case err != nil:
				write += " " + err.Error()
			}
			writes = append(writes, write)
		},
	}
	r.defaults()
	cached := func() *workspacesv1alpha1.Workspace { // the cache is behind: it shows the first version
		t.Helper()
		got := &workspacesv1alpha1.Workspace{}
		if err := hub.Get(ctx, key, got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	stale := cached()
	pass := func(from *workspacesv1alpha1.Workspace) time.Duration {
		t.Helper()
		lw, err := r.getMirror(ctx, lc, key)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.reconcile(ctx, &scope{hub: hub, logicalCluster: lc, key: key, ws: r.writes.latest(from.DeepCopy()), lw: lw})
		if err != nil {
			t.Fatal(err)
		}
		return res.RequeueAfter
	}
	expectWrites := func(what string, want ...string) {
		t.Helper()
		if len(writes) != len(want) {
			t.Fatalf("%s: hub writes %q, want %q", what, writes, want)
		}
		for i := range want {
			if writes[i] != want[i] {
				t.Fatalf("%s: hub writes %q, want %q", what, writes, want)
			}
		}
		writes = nil
	}

	pass(stale)
	expectWrites("first pass", WriteFinalizer)
	if !controllerutil.ContainsFinalizer(cached(), workspacesv1alpha1.AgentFinalizer("east")) {
		t.Fatal("no finalizer on the hub")
	}
	ns := &corev1.Namespace{}
	if err := local.Get(ctx, client.ObjectKey{Name: mirror.Namespace(lc, key.Namespace)}, ns); err != nil {
		t.Fatalf("namespace: %v", err)
	}
	lw, err := r.getMirror(ctx, lc, key)
	if err != nil || lw == nil {
		t.Fatalf("mirror: %v %v", lw, err)
	}
	if lw.Annotations[mirror.AnnotationHubGeneration] != "2" || lw.Spec.Origin.UID != ws.UID || lw.Spec.Effective.Image != "jupyter/minimal" {
		t.Fatalf("mirror: %+v", lw)
	}

	// The materializer reports; the hub cache still shows the version before the finalizer.
	// (The fake client keeps metadata.generation as it is given.)
	lw.Generation = 1
	if err := local.Update(ctx, lw); err != nil {
		t.Fatal(err)
	}
	lw.Status.ObservedGeneration = 1
	lw.Status.Phase = workspacesv1alpha1.WorkspacePhaseRunning
	lw.Status.AccessURL = "http://nb.example/"
	lw.Status.Conditions = []metav1.Condition{{Type: string(workspacesv1alpha1.ConditionAvailable), Status: metav1.ConditionTrue, Reason: "PodsReady", LastTransitionTime: metav1.Now()}}
	if err := local.Status().Update(ctx, lw); err != nil {
		t.Fatal(err)
	}
	pass(stale)
	expectWrites("the mirror reports Running, the cache behind the agent's own write", WriteStatus)
	got := cached()
	if got.Status.Phase != workspacesv1alpha1.WorkspacePhaseRunning || got.Status.AccessURL != "http://nb.example/" ||
		got.Status.ObservedGeneration != 2 || got.Status.Placement.LocalNamespace != lw.Namespace || !got.IsConditionTrue(workspacesv1alpha1.ConditionValid) {
		t.Fatalf("hub status: %+v", got.Status)
	}

	pass(stale) // the cache still lags both of the agent's writes
	pass(cached())
	expectWrites("converged")

	// The hub controller writes meanwhile; the mirror changes visibly.
	other := cached()
	other.Status.Conditions = append(other.Status.Conditions, metav1.Condition{Type: string(workspacesv1alpha1.ConditionScheduled), Status: metav1.ConditionTrue, Reason: "Placed", LastTransitionTime: metav1.Now()})
	if err := hub.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	lw.Status.AccessURL = "http://nb2.example/"
	if err := local.Status().Update(ctx, lw); err != nil {
		t.Fatal(err)
	}
	after := pass(got) // the cache shows the agent's own last write, not the hub's
	expectWrites("conflict", WriteStatus+" conflict")
	if after < r.ConflictBackoff || after > 2*r.ConflictBackoff {
		t.Fatalf("requeued after %s, want between %s and %s", after, r.ConflictBackoff, 2*r.ConflictBackoff)
	}
	pass(cached())
	expectWrites("after the cache caught up", WriteStatus)
	if c := cached(); c.Status.AccessURL != "http://nb2.example/" || !c.IsConditionTrue(workspacesv1alpha1.ConditionScheduled) {
		t.Fatalf("hub status after the retry: %+v", c.Status)
	}

	// Deletion: the mirror goes first, then the finalizer.
	if err := hub.Delete(ctx, cached()); err != nil {
		t.Fatal(err)
	}
	if after := pass(cached()); after != r.DeletionPollInterval {
		t.Fatalf("deleting: requeued after %s, want %s", after, r.DeletionPollInterval)
	}
	expectWrites("mirror being deleted")
	if lw, err := r.getMirror(ctx, lc, key); err != nil || lw != nil {
		t.Fatalf("mirror not deleted: %v %v", lw, err)
	}
	pass(cached())
	expectWrites("mirror gone", WriteFinalizer)
	if err := hub.Get(ctx, key, &workspacesv1alpha1.Workspace{}); err == nil {
		t.Fatal("the hub workspace is still there after its finalizer was removed")
	}
}

// testScheme knows the kinds the fake hub and local clients hold.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, workspacesv1alpha1.AddToScheme, computev1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
