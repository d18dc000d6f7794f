package workspacesync

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// A workspace the hub cache does not hold is decided on a live read: a mirror is removed only
// when the hub answers that its object is gone (never while it cannot be reached), and one
// that moved away with the agent's finalizer is cleaned up and let go of.
func TestOutOfCache(t *testing.T) {
	ctx := context.Background()
	s := testScheme(t)
	const lc = "2x8vbcp1mz7ewyku"
	key := types.NamespacedName{Namespace: "default", Name: "nb"}
	mirrorOf := func(uid types.UID) *computev1alpha1.LocalWorkspace {
		lw := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{Namespace: mirror.Namespace(lc, key.Namespace), Name: key.Name}}
		lw.Spec.Origin = computev1alpha1.Origin{LogicalCluster: lc, Namespace: key.Namespace, Name: key.Name, UID: uid}
		return lw
	}
	moved := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{
		Namespace: key.Namespace, Name: key.Name, UID: "ws-uid", Finalizers: []string{workspacesv1alpha1.AgentFinalizer("east")},
	}}
	moved.Status.Placement = &workspacesv1alpha1.WorkspacePlacement{Cluster: "west"}
	unreachable := errors.New("logical cluster not served")

	for _, tc := range []struct {
		name       string
		hub        []client.Object // what a live read finds
		liveErr    error
		mirrorUID  types.UID
		wantMirror bool
		wantRetry  bool
		wantLetGo  bool // the agent's finalizer removed
	}{
		{name: "hub unreachable: nothing deleted", liveErr: unreachable, mirrorUID: "ws-uid", wantMirror: true, wantRetry: true},
		{name: "hub object gone: orphan removed", mirrorUID: "ws-uid"},
		{name: "recreated under the same name: the old mirror removed", hub: []client.Object{func() client.Object {
			w := moved.DeepCopy()
			w.UID, w.Finalizers, w.Status.Placement = "new-uid", nil, nil
			return w
		}()}, mirrorUID: "ws-uid"},
		{name: "moved away while the agent was down: cleaned up, then let go", hub: []client.Object{moved.DeepCopy()}, mirrorUID: "ws-uid", wantLetGo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.hub...).WithStatusSubresource(&workspacesv1alpha1.Workspace{}).Build()
			local := fake.NewClientBuilder().WithScheme(s).WithObjects(mirrorOf(tc.mirrorUID)).Build()
			r := &Reconciler{Cluster: "east", Local: local, LiveReader: func(context.Context, multicluster.ClusterName) (client.Reader, error) {
				if tc.liveErr != nil {
					return nil, tc.liveErr
				}
				return hub, nil
			}}
			r.defaults()
			retry := false
			for range 3 { // a cleanup takes a pass per step; the last one shows where it settles
				lw, err := r.getMirror(ctx, lc, key)
				if err != nil {
					t.Fatal(err)
				}
				out, err := r.reconcileOutOfCache(ctx, &scope{hub: hub, logicalCluster: lc, key: key, lw: lw})
				if err != nil {
					t.Fatal(err)
				}
				retry = out.RequeueAfter > 0
			}
			lw, err := r.getMirror(ctx, lc, key)
			if err != nil {
				t.Fatal(err)
			}
			if (lw != nil) != tc.wantMirror {
				t.Fatalf("mirror kept = %v, want %v", lw != nil, tc.wantMirror)
			}
			if retry != tc.wantRetry {
				t.Fatalf("requeued = %v, want %v", retry, tc.wantRetry)
			}
			if tc.wantLetGo {
				got := &workspacesv1alpha1.Workspace{}
				if err := hub.Get(ctx, key, got); err != nil {
					t.Fatal(err)
				}
				if hasFinalizer(got, "east") {
					t.Fatal("the finalizer of the cluster it left is still there")
				}
			}
		})
	}
}
