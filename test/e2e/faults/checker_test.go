package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestCheckerFindsOrphans keeps the checker honest: a LocalWorkspace written behind the hub's
// back (no hub Workspace) is reported as an orphan, so "0 divergences" in the fault table means
// something. Its origin is a logical cluster no shard serves: the agent removes a mirror whose
// hub Workspace it has confirmed gone, often before the checker looks, but never one it cannot
// ask about.
func TestCheckerFindsOrphans(t *testing.T) {
	const ghostCluster = "faultsghost0000"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := localClient(t, "west")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "faults-checker-orphan"}}
	require.NoError(t, c.Create(ctx, ns))
	t.Cleanup(func() { _ = c.Delete(context.Background(), ns) })
	lw := &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{Name: "ghost", Namespace: ns.Name},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin:    computev1alpha1.Origin{LogicalCluster: ghostCluster, Namespace: "default", Name: "ghost", UID: "00000000-0000-0000-0000-000000000000"},
			Effective: workspacesv1alpha1.EffectiveWorkspaceSpec{Image: "quay.io/jupyter/base-notebook:2025-06-01"},
		},
	}
	require.NoError(t, c.Create(ctx, lw))
	t.Cleanup(func() { _ = c.Delete(context.Background(), lw) })

	res, err := checker(t).Check(ctx, nil)
	require.NoError(t, err)
	found := false
	for _, d := range res.Divergences {
		if d.Kind == "orphan" && d.Cluster == "west" && d.Workspace == ghostCluster+"/default/ghost" {
			found = true
		}
	}
	require.True(t, found, "the checker reports the orphan; got %v", res.Divergences)
}
