package agent

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// move places ws on cluster the way the hub controller moves a workspace: the placement first,
// then the atrium.dev/cluster label that agents select their cache on.
func move(t *testing.T, org string, ws *workspacesv1alpha1.Workspace, cluster string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := orgClient(t, org)
	status := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
		"placement": map[string]any{"cluster": cluster, "time": time.Now().UTC().Format(time.RFC3339)},
	}}}
	status.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	status.SetKind("Workspace")
	status.SetNamespace(ws.Namespace)
	status.SetName(ws.Name)
	require.NoError(t, c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(status), client.FieldOwner("atrium-hub"), client.ForceOwnership))
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	u.SetKind("Workspace")
	u.SetNamespace(ws.Namespace)
	u.SetName(ws.Name)
	u.SetLabels(map[string]string{workspacesv1alpha1.LabelCluster: cluster})
	require.NoError(t, c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("atrium-hub"), client.ForceOwnership))
}

// TestMovedWorkspaceLeavesItsOldCluster: an agent caches only the workspaces labelled as
// placed on its cluster, yet a workspace the hub moves away, relabelling it, is still cleaned
// up by the agent it left (mirror, Deployment and Service gone, its finalizer removed) and
// materialized by the one it moved to; also when the old cluster's agent was down during the
// move (it never sees the workspace in its cache again: its mirror leads it there).
func TestMovedWorkspaceLeavesItsOldCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	west := agents["west"]
	live, down := newWorkspace("moved-live"), newWorkspace("moved-down")
	for _, ws := range []*workspacesv1alpha1.Workspace{live, down} {
		createWorkspace(t, "bob", "beta", ws, "west")
	}
	for _, ws := range []*workspacesv1alpha1.Workspace{live, down} {
		waitHub(t, "beta", ws.Name, 2*time.Minute, "becomes Available on west", available)
	}
	ns := localNamespace(t, "beta")
	westClient := localClient(t, "west")
	gone := func(name string) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			ok, err := exists(ctx, westClient, &computev1alpha1.LocalWorkspace{}, ns, name)
			return !ok && err == nil, err
		}
	}
	movedToEast := func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && ws.Status.Placement != nil && ws.Status.Placement.Cluster == "east" &&
			!slices.Contains(ws.Finalizers, workspacesv1alpha1.AgentFinalizer("west")) &&
			slices.Contains(ws.Finalizers, workspacesv1alpha1.AgentFinalizer("east"))
	}

	move(t, "beta", live, "east")
	waitLocal(t, 2*time.Minute, "west removes the mirror of the workspace moved to east", gone(live.Name))
	waitHub(t, "beta", live.Name, 2*time.Minute, "runs on east, west's finalizer removed", movedToEast)

	require.NoError(t, west.Stop())
	move(t, "beta", down, "east")
	require.NoError(t, west.Restart(ctx))
	waitLocal(t, 2*time.Minute, "west, restarted, removes the mirror of the workspace moved to east while it was down", gone(down.Name))
	waitHub(t, "beta", down.Name, 2*time.Minute, "runs on east, west's finalizer removed", movedToEast)
	eastClient := localClient(t, "east")
	for _, name := range []string{live.Name, down.Name} {
		n, err := runningPods(ctx, eastClient, ns, name)
		require.NoError(t, err)
		require.Equal(t, 1, n, "%s runs on east", name)
		n, err = runningPods(ctx, westClient, ns, name)
		require.NoError(t, err)
		require.Zero(t, n, "%s no longer runs on west", name)
	}
}
