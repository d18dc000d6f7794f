package hub

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func clusterReady(status metav1.ConditionStatus) func(*platformv1alpha1.ComputeCluster) bool {
	return func(cc *platformv1alpha1.ComputeCluster) bool {
		c := meta.FindStatusCondition(cc.Status.Conditions, string(platformv1alpha1.ConditionReady))
		return c != nil && c.Status == status
	}
}

// TestClusterLoss: a silent agent makes its cluster Ready=False and its workspaces
// ClusterReachable=False within grace + one period, deleting nothing; a workspace deleted
// meanwhile is released after the deletion timeout; the returning agent heals both and removes
// the leftovers of the deleted workspace.
func TestClusterLoss(t *testing.T) {
	waitCluster(t, "west", time.Minute, "is Ready", clusterReady(metav1.ConditionTrue))
	create(t, newWorkspace("loss-keep", selectRegion("west")))
	create(t, newWorkspace("loss-delete", selectRegion("west")))
	for _, name := range []string{"loss-keep", "loss-delete"} {
		waitHub(t, name, 2*time.Minute, "becomes Available", available)
		waitHub(t, name, 30*time.Second, "is ClusterReachable", hasCondition(workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionTrue, workspacesv1alpha1.ReasonHeartbeatCurrent))
	}

	require.NoError(t, agents["west"].Stop())
	stopped := time.Now()
	restarted := false
	defer func() {
		if !restarted {
			_ = agents["west"].Restart(context.Background())
		}
	}()
	limit := heartbeatGrace + 2*time.Second + 5*time.Second // grace + one agent period + slack for a loaded machine
	waitCluster(t, "west", limit, "becomes Ready=False", clusterReady(metav1.ConditionFalse))
	for _, name := range []string{"loss-keep", "loss-delete"} {
		waitHub(t, name, 5*time.Second, "is ClusterReachable=False", hasCondition(workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionFalse, workspacesv1alpha1.ReasonClusterUnreachable))
	}
	t.Logf("west unreachable after %s", time.Since(stopped).Round(100*time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Nothing was deleted or moved.
	ws := waitHub(t, "loss-keep", time.Second, "is still on west", func(ws *workspacesv1alpha1.Workspace) bool { return ws.PlacedCluster() == "west" })
	d := &appsv1.Deployment{}
	require.NoError(t, localClient(t, "west").Get(ctx, client.ObjectKey{Namespace: localNamespace(t), Name: ws.Status.DeploymentName}, d))

	// Delete one: it waits for the timeout, then the hub lets it go.
	deleted := time.Now()
	require.NoError(t, tenantClient(t).Delete(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "loss-delete"}}))
	waitHub(t, "loss-delete", 5*time.Second, "is deleting", func(ws *workspacesv1alpha1.Workspace) bool { return ws.IsDeleting() })
	waitLocal(t, deletionTimeout+30*time.Second, "the deletion completes", func(ctx context.Context) (bool, error) {
		err := orgClient(t).Get(ctx, client.ObjectKey{Namespace: "default", Name: "loss-delete"}, &workspacesv1alpha1.Workspace{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	require.GreaterOrEqual(t, time.Since(deleted), deletionTimeout-time.Second, "the hub must wait for the deletion timeout")
	ok, err := mirrorExists(ctx, t, "west", "loss-delete")
	require.NoError(t, err)
	require.True(t, ok, "the leftovers stay on the lost cluster until its agent returns")

	// The agent returns: health heals, the leftovers go.
	require.NoError(t, agents["west"].Restart(ctx))
	restarted = true
	waitCluster(t, "west", 30*time.Second, "is Ready again", clusterReady(metav1.ConditionTrue))
	waitHub(t, "loss-keep", 30*time.Second, "is ClusterReachable again", hasCondition(workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionTrue, workspacesv1alpha1.ReasonHeartbeatCurrent))
	waitLocal(t, time.Minute, "the returning agent removes the deleted workspace's mirror", func(ctx context.Context) (bool, error) {
		ok, err := mirrorExists(ctx, t, "west", "loss-delete")
		return !ok, err
	})
	require.Equal(t, "west", waitHub(t, "loss-keep", time.Second, "stays", func(*workspacesv1alpha1.Workspace) bool { return true }).PlacedCluster())
}
