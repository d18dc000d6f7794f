package faults

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// partitionHub cuts west's agent off the hub — every connection it has to kcp, the provider
// workspace and the virtual workspaces alike, goes through hubProxy — for longer than the hub
// controller's heartbeat grace (20 s in this suite), and heals the path once the hub has
// noticed. During the partition a tenant stops one of west's workspaces.
//
// While cut: the hub reports west not Ready and its workspaces ClusterReachable=False, the
// agent reports itself not ready, and on west nothing is deleted or scaled down: the very same
// mirrors, Deployments (1 replica, spec untouched), Services and PVCs, running pods, and no
// delete or scale write in the cluster's audit log. After the heal the hub sees west again and
// the stop arrives; the checker then finds both sides in agreement.
func partitionHub(t *testing.T, ctx context.Context) int {
	c := tenantClient(t)
	wsNames := names("partition", count(2, 4))
	require.NoError(t, createAll(ctx, c, wsNames, onCluster("west")))
	waitAvailable(t, ctx, c, wsNames, 3*time.Minute)
	require.Positive(t, hubProxy.Tunnels(), "west's agent reaches the hub through the proxy")

	west := localClient(t, "west")
	before := localObjects(t, ctx, "west", wsNames)
	require.Equal(t, len(wsNames), hasKind(before, "Deployment"), "every workspace has its Deployment on west: %v", before)
	mark, err := testbed.AuditMark(env.Cluster("west").AuditLogPath())
	require.NoError(t, err)

	hubProxy.Cut()
	healed := false
	defer func() {
		// A failed assertion must not leave west cut off for the faults after this one.
		if !healed {
			hubProxy.Heal()
		}
	}()
	// A change west cannot hear about until the path heals.
	require.NoError(t, setDesired(ctx, c, wsNames[0], workspacesv1alpha1.DesiredStatusStopped))

	waitUntil(t, ctx, 2*time.Minute, "the hub reports west not Ready", func(ctx context.Context) bool {
		cc, err := computeCluster(t, ctx, "west")
		return err == nil && !cc.IsReady()
	})
	waitUntil(t, ctx, time.Minute, "west's workspaces are ClusterReachable=False", func(ctx context.Context) bool {
		return allReachable(ctx, c, wsNames, metav1.ConditionFalse)
	})
	waitUntil(t, ctx, time.Minute, "west's agent reports itself not ready", func(ctx context.Context) bool {
		return !agentReady(ctx, agents["west"])
	})
	require.Positive(t, hubProxy.Refused(), "the agent kept trying to reach the hub")

	// Nothing local was deleted or scaled down.
	during := localObjects(t, ctx, "west", wsNames)
	requireSameObjects(t, before, during, true)
	for k, o := range during {
		if o.Replicas != nil {
			require.EqualValues(t, 1, *o.Replicas, "%s keeps its replica during the partition", k)
		}
	}
	mirrors := &computev1alpha1.LocalWorkspaceList{}
	require.NoError(t, west.List(ctx, mirrors))
	for _, lw := range mirrors.Items {
		if lw.Spec.Origin.LogicalCluster != orgCluster || !slices.Contains(wsNames, lw.Spec.Origin.Name) {
			continue
		}
		n, err := runningPods(ctx, west, lw.Namespace, lw.Name)
		require.NoError(t, err)
		require.Equal(t, 1, n, "workspace %s keeps its running pod during the partition", lw.Spec.Origin.Name)
	}
	require.Empty(t, destructiveWrites(t, "west", mark, before), "deletes or scale writes on west during the partition")

	hubProxy.Heal()
	healed = true
	waitUntil(t, ctx, 2*time.Minute, "the hub reports west Ready again", func(ctx context.Context) bool {
		cc, err := computeCluster(t, ctx, "west")
		return err == nil && cc.IsReady()
	})
	waitUntil(t, ctx, time.Minute, "west's workspaces are ClusterReachable=True again", func(ctx context.Context) bool {
		return allReachable(ctx, c, wsNames, metav1.ConditionTrue)
	})
	return len(wsNames)
}

// computeCluster reads a ComputeCluster from the provider workspace as the hub admin.
func computeCluster(t *testing.T, ctx context.Context, name string) (*platformv1alpha1.ComputeCluster, error) {
	hc, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath("root:atrium")), client.Options{Scheme: scheme})
	require.NoError(t, err)
	cc := &platformv1alpha1.ComputeCluster{}
	return cc, hc.Get(ctx, client.ObjectKey{Name: name}, cc)
}

// allReachable reports whether every named workspace has ClusterReachable with the status.
func allReachable(ctx context.Context, c client.Client, wsNames []string, status metav1.ConditionStatus) bool {
	for _, n := range wsNames {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: n}, ws); err != nil {
			return false
		}
		cond := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable)
		if cond == nil || cond.Status != status {
			return false
		}
	}
	return true
}
