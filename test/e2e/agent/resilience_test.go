package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestDriftIsRepaired deletes the local Deployment, Service and access resource of a running
// workspace and edits its Deployment; the agent restores each.
func TestDriftIsRepaired(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	createWorkspace(t, "alice", "acme", newWorkspace("drift-nb"), "east")
	ws := waitHub(t, "acme", "drift-nb", 2*time.Minute, "becomes Available", available)
	lc, ns := localClient(t, "east"), localNamespace(t, "acme")
	access := ws.Status.AccessResources[0].Name

	for _, victim := range []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "drift-nb"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "drift-nb"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: access}},
	} {
		old := victim.DeepCopyObject().(client.Object)
		require.NoError(t, lc.Get(ctx, client.ObjectKeyFromObject(victim), old))
		require.NoError(t, lc.Delete(ctx, victim))
		waitLocal(t, time.Minute, "deleted "+victim.GetName()+" is recreated", func(ctx context.Context) (bool, error) {
			got := victim.DeepCopyObject().(client.Object)
			if err := lc.Get(ctx, client.ObjectKeyFromObject(victim), got); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return got.GetUID() != old.GetUID(), nil
		})
	}

	// An edit of a managed field is reverted.
	d := &appsv1.Deployment{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "drift-nb"}, d))
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = "evil/miner:latest"
	require.NoError(t, lc.Patch(ctx, d, patch))
	waitLocal(t, time.Minute, "edited image is restored", func(ctx context.Context) (bool, error) {
		got := &appsv1.Deployment{}
		if err := lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "drift-nb"}, got); err != nil {
			return false, err
		}
		return got.Spec.Template.Spec.Containers[0].Image == "quay.io/jupyter/base-notebook:2025-06-01", nil
	})
	waitHub(t, "acme", "drift-nb", 2*time.Minute, "is Available after the repairs", available)
}

// TestAgentRestartConvergesWithoutWrites kills the agent with SIGKILL while a workspace is
// being created, restarts it, and checks it converges with no duplicates; then restarts it
// again with everything settled and counts zero writes for the unchanged workspaces, on the
// compute cluster and on the hub.
func TestAgentRestartConvergesWithoutWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	west := agents["west"]
	names := []string{"restart-a", "restart-b", "restart-c"}
	for _, n := range names {
		createWorkspace(t, "bob", "beta", newWorkspace(n), "west")
	}
	require.NoError(t, west.Kill(), "SIGKILL mid-way")
	require.NoError(t, west.Restart(ctx))
	for _, n := range names {
		waitHub(t, "beta", n, 2*time.Minute, "converges after the agent was killed", available)
	}
	lc, ns := localClient(t, "west"), localNamespace(t, "beta")
	for _, n := range names {
		deps := &appsv1.DeploymentList{}
		require.NoError(t, lc.List(ctx, deps, client.InNamespace(ns), client.MatchingLabels{"atrium.dev/workspace": n}))
		require.Len(t, deps.Items, 1, "no duplicate Deployments for %s", n)
		cms := &corev1.ConfigMapList{}
		require.NoError(t, lc.List(ctx, cms, client.InNamespace(ns), client.MatchingLabels{"atrium.dev/access-for": n}))
		require.Len(t, cms.Items, 1, "no duplicate access resources for %s", n)
	}

	// Settled: restart and count writes until the agent has verified every workspace (it
	// heart-beats, which is the only write it should make).
	require.NoError(t, west.Stop())
	localMark, err := testbed.AuditMark(env.Cluster("west").AuditLogPath())
	require.NoError(t, err)
	hubMark, err := testbed.AuditMark(env.Hub.AuditLogPath())
	require.NoError(t, err)
	require.NoError(t, west.Restart(ctx))
	// The restarted agent has re-verified everything once its heartbeat reports the mirrors
	// and a resync period (5 s) has passed.
	waitLocal(t, time.Minute, "restarted agent heart-beats", func(ctx context.Context) (bool, error) {
		w, err := testbed.Writes(env.Hub.AuditLogPath(), testbed.AgentUser("west"), hubMark)
		if err != nil {
			return false, err
		}
		for _, e := range w {
			if strings.Contains(e.RequestURI, "/computeclusters/west/status") {
				return true, nil
			}
		}
		return false, nil
	})
	time.Sleep(8 * time.Second) // observe a window longer than the resync period: writes would show up in it
	localWrites, err := testbed.Writes(env.Cluster("west").AuditLogPath(), testbed.ComputeAgentUser, localMark)
	require.NoError(t, err)
	for _, e := range localWrites {
		require.Failf(t, "write to the compute cluster by a restarted agent with nothing to do", "%s", e)
	}
	hubWrites, err := testbed.Writes(env.Hub.AuditLogPath(), testbed.AgentUser("west"), hubMark)
	require.NoError(t, err)
	for _, e := range hubWrites {
		if strings.Contains(e.RequestURI, "/computeclusters/west") {
			continue // heartbeats
		}
		require.Failf(t, "write to the hub by a restarted agent with nothing to do", "%s", e)
	}
}

// TestHubOutage stops kcp: the local workload keeps running and drift is still repaired from
// the local mirror; after kcp returns, status sync resumes.
func TestHubOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	createWorkspace(t, "alice", "acme", newWorkspace("outage-nb"), "east")
	waitHub(t, "acme", "outage-nb", 2*time.Minute, "becomes Available", available)
	lc, ns := localClient(t, "east"), localNamespace(t, "acme")

	require.NoError(t, env.Hub.Stop())
	hubUp := false
	t.Cleanup(func() {
		if !hubUp {
			_ = env.Hub.Restart(context.Background())
		}
	})

	// Drift during the outage is repaired from the local mirror.
	old := &appsv1.Deployment{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "outage-nb"}, old))
	require.NoError(t, lc.Delete(ctx, old))
	waitLocal(t, time.Minute, "Deployment recreated while the hub is down", func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		if err := lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "outage-nb"}, d); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return d.UID != old.UID && d.Status.ReadyReplicas == 1, nil
	})
	// Nothing local is deleted or scaled down for silence (observe a while).
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		replicas, err := deploymentReplicas(ctx, lc, ns, "outage-nb")
		require.NoError(t, err)
		require.EqualValues(t, 1, replicas, "the workspace must keep running while the hub is down")
		lw := &computev1alpha1.LocalWorkspace{}
		require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "outage-nb"}, lw))
		require.True(t, lw.DeletionTimestamp.IsZero())
		time.Sleep(time.Second)
	}

	require.NoError(t, env.Hub.Restart(ctx))
	hubUp = true
	setDesired(t, "alice", "acme", "outage-nb", workspacesv1alpha1.DesiredStatusStopped)
	waitHub(t, "acme", "outage-nb", 3*time.Minute, "status sync resumes after the hub returns", phase(workspacesv1alpha1.WorkspacePhaseStopped))
}

// TestHostileTenantData: labels, annotations and a display name with newlines, colons, quotes,
// template syntax and a long string render into exactly one ConfigMap of the strategy's shape.
func TestHostileTenantData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hostile := "x\nkind: Secret\nnamespace: kube-system\n\"quoted\": {{ .AccessStrategy }} ---\n" + strings.Repeat("long ", 2000)
	ws := newWorkspace("hostile-nb")
	ws.Spec.DisplayName = "evil: \"display\"\n  injected: true\n{{ .Service }}"
	ws.Labels = map[string]string{"team": "a.b-c_d"}
	ws.Annotations = map[string]string{"note": hostile}
	createWorkspace(t, "alice", "acme", ws, "east")
	got := waitHub(t, "acme", "hostile-nb", 2*time.Minute, "becomes Available", available)

	lc, ns := localClient(t, "east"), localNamespace(t, "acme")
	cms := &corev1.ConfigMapList{}
	require.NoError(t, lc.List(ctx, cms, client.MatchingLabels{"atrium.dev/access-for": "hostile-nb"}))
	require.Len(t, cms.Items, 1, "exactly one access resource")
	cm := cms.Items[0]
	require.Equal(t, ns, cm.Namespace)
	require.Equal(t, got.Status.AccessResources[0].Name, cm.Name)
	require.Equal(t, ws.Spec.DisplayName, cm.Annotations["display-name"], "the display name is data, verbatim")
	require.Equal(t, hostile, cm.Annotations["note"], "the annotation is data, verbatim")
	require.Equal(t, "a.b-c_d", cm.Annotations["team"])
	require.Equal(t, []string{"origin", "service"}, keys(cm.Data), "no keys were injected")
	secrets := &corev1.SecretList{}
	require.NoError(t, lc.List(ctx, secrets, client.InNamespace("kube-system")))
	for _, s := range secrets.Items {
		require.NotContains(t, s.Name, "hostile")
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}
