package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/atrium-dev/atrium/agent/materialize"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestCheckerLogic runs the checker over hand-made objects (fake clients: the checker's own
// logic, not the platform's) for the findings the live faults rarely provoke.
func TestCheckerLogic(t *testing.T) {
	const lc = "lc1"
	hubWS := func() *workspacesv1alpha1.Workspace {
		ws := &workspacesv1alpha1.Workspace{
			ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", UID: "ws-uid", Generation: 1},
			Status: workspacesv1alpha1.WorkspaceStatus{
				Placement:          &workspacesv1alpha1.WorkspacePlacement{Cluster: "east"},
				ObservedGeneration: 1,
			},
		}
		for _, c := range []workspacesv1alpha1.ConditionType{workspacesv1alpha1.ConditionValid, workspacesv1alpha1.ConditionAvailable} {
			ws.Status.Conditions = append(ws.Status.Conditions, metav1.Condition{Type: string(c), Status: metav1.ConditionTrue, Reason: "Test", ObservedGeneration: 1, LastTransitionTime: metav1.Now()})
		}
		return ws
	}
	mirror := func(ns string) *computev1alpha1.LocalWorkspace {
		return &computev1alpha1.LocalWorkspace{
			ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: ns},
			Spec:       computev1alpha1.LocalWorkspaceSpec{Origin: computev1alpha1.Origin{LogicalCluster: lc, Namespace: "default", Name: "nb", UID: "ws-uid"}},
		}
	}
	objects := func(ns string) []client.Object {
		labels := map[string]string{materialize.WorkspaceLabel: "nb"}
		return []client.Object{
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: ns, Labels: labels}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: ns, Labels: labels}},
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "nb-home", Namespace: ns, Labels: labels, UID: types.UID("pvc-" + ns)}},
		}
	}
	deleting := func(lw *computev1alpha1.LocalWorkspace, since time.Duration) *computev1alpha1.LocalWorkspace {
		lw.DeletionTimestamp = &metav1.Time{Time: time.Now().Add(-since)}
		lw.Finalizers = []string{"atrium.dev/test"}
		return lw
	}

	for _, tc := range []struct {
		name        string
		local       []client.Object
		wantKinds   []string
		wantPending bool
	}{
		{name: "consistent", local: append(objects("a"), mirror("a"))},
		{name: "two mirrors of one workspace on its cluster", local: append(append(objects("a"), mirror("a")), mirror("b")), wantKinds: []string{"duplicate"}},
		{name: "mirror deleting for longer than the finalizer timeout", local: append(append(objects("a"), mirror("a")), deleting(mirror("old"), time.Hour)), wantKinds: []string{"stuck-finalizer"}},
		{name: "mirror deleting just now", local: append(append(objects("a"), mirror("a")), deleting(mirror("old"), time.Second)), wantPending: true},
		{name: "deleting mirror's objects are pending, not orphans", local: append(objects("a"), deleting(mirror("a"), time.Second)), wantKinds: []string{"missing-mirror"}, wantPending: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := fake.NewClientBuilder().WithScheme(scheme).WithObjects(hubWS()).Build()
			east := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.local...).Build()
			west := fake.NewClientBuilder().WithScheme(scheme).Build()
			c := &Checker{Orgs: []Org{{LogicalCluster: lc, Client: hub}}, Clusters: map[string]client.Client{"east": east, "west": west}, FinalizerTimeout: time.Minute}
			res, err := c.Check(context.Background(), nil)
			require.NoError(t, err)
			var kinds []string
			for _, d := range res.Divergences {
				kinds = append(kinds, d.Kind)
			}
			require.ElementsMatch(t, tc.wantKinds, kinds, "divergences: %v", res.Divergences)
			require.Equal(t, tc.wantPending, len(res.Pending) > 0, "pending: %v", res.Pending)
		})
	}
}
