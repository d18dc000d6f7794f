package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestWorkspaceLifecycle: create in two orgs placed on two clusters → Available with URL;
// stop keeps the PVC and removes pods and access resources; start brings them back on the same
// PVC; delete removes everything locally and the hub object disappears. The other cluster's
// agent never touches a workspace that is not its own.
func TestWorkspaceLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	westMark, err := testbed.AuditMark(env.Cluster("west").AuditLogPath())
	require.NoError(t, err)
	hubMark, err := testbed.AuditMark(env.Hub.AuditLogPath())
	require.NoError(t, err)

	type placed struct{ org, user, name, cluster string }
	cases := []placed{{"acme", "alice", "alice-nb", "east"}, {"beta", "bob", "bob-code", "west"}}
	for _, p := range cases {
		createWorkspace(t, p.user, p.org, newWorkspace(p.name), p.cluster)
	}

	for _, p := range cases {
		ws := waitHub(t, p.org, p.name, 2*time.Minute, "becomes Available", available)
		require.Equal(t, workspacesv1alpha1.WorkspacePhaseRunning, ws.Status.Phase)
		require.Equal(t, ide.URL+"/workspaces/default/"+p.name+"/", ws.Status.AccessURL)
		require.Equal(t, p.cluster, ws.Status.Placement.Cluster, "the agent must not change the hub's placement")
		require.Equal(t, localNamespace(t, p.org), ws.Status.Placement.LocalNamespace)
		require.Contains(t, ws.Finalizers, workspacesv1alpha1.AgentFinalizer(p.cluster))
		require.Len(t, ws.Status.AccessResources, 1)
		require.Equal(t, "ConfigMap", ws.Status.AccessResources[0].Kind)
		require.NotEmpty(t, ws.Status.AccessResourceSelector)

		lc := localClient(t, p.cluster)
		ns := localNamespace(t, p.org)
		n, err := runningPods(ctx, lc, ns, p.name)
		require.NoError(t, err)
		require.Equal(t, 1, n, "one Running pod on %s", p.cluster)
		for _, obj := range []struct {
			o    client.Object
			name string
		}{{&corev1.Service{}, p.name}, {&corev1.PersistentVolumeClaim{}, p.name + "-home"}, {&corev1.ConfigMap{}, ws.Status.AccessResources[0].Name}} {
			ok, err := exists(ctx, lc, obj.o, ns, obj.name)
			require.NoError(t, err)
			require.True(t, ok, "%T %s/%s exists on %s", obj.o, ns, obj.name, p.cluster)
		}
		// The other cluster has no mirror of it.
		other := map[string]string{"east": "west", "west": "east"}[p.cluster]
		ok, err := exists(ctx, localClient(t, other), &computev1alpha1.LocalWorkspace{}, ns, p.name)
		require.NoError(t, err)
		require.False(t, ok, "%s must not mirror a workspace placed on %s", other, p.cluster)
	}

	// west's agent made no write on the compute cluster for acme's namespace, nor on the hub
	// for alice-nb.
	westWrites, err := testbed.Writes(env.Cluster("west").AuditLogPath(), testbed.ComputeAgentUser, westMark)
	require.NoError(t, err)
	for _, e := range westWrites {
		require.NotContains(t, e.RequestURI, localNamespace(t, "acme"), "west wrote into acme's namespace: %s", e)
	}
	hubWrites, err := testbed.Writes(env.Hub.AuditLogPath(), testbed.AgentUser("west"), hubMark)
	require.NoError(t, err)
	for _, e := range hubWrites {
		require.NotContains(t, e.RequestURI, "/workspaces/alice-nb", "west's agent wrote to alice-nb: %s", e)
	}

	// Stop alice-nb: pods and access resources go, the PVC stays.
	p := cases[0]
	lc, ns := localClient(t, p.cluster), localNamespace(t, p.org)
	pvc := &corev1.PersistentVolumeClaim{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: p.name + "-home"}, pvc))
	pvcUID := pvc.UID
	setDesired(t, p.user, p.org, p.name, workspacesv1alpha1.DesiredStatusStopped)
	ws := waitHub(t, p.org, p.name, 2*time.Minute, "becomes Stopped", phase(workspacesv1alpha1.WorkspacePhaseStopped))
	require.True(t, meta.IsStatusConditionTrue(ws.Status.Conditions, string(workspacesv1alpha1.ConditionStopped)))
	require.Empty(t, ws.Status.AccessURL)
	waitLocal(t, time.Minute, "pods and access resources removed after stop", func(ctx context.Context) (bool, error) {
		n, err := runningPods(ctx, lc, ns, p.name)
		if err != nil || n != 0 {
			return false, err
		}
		cms := &corev1.ConfigMapList{}
		if err := lc.List(ctx, cms, client.InNamespace(ns), client.HasLabels{"atrium.dev/access-for"}); err != nil {
			return false, err
		}
		return len(cms.Items) == 0, nil
	})
	replicas, err := deploymentReplicas(ctx, lc, ns, p.name)
	require.NoError(t, err)
	require.Zero(t, replicas)
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: p.name + "-home"}, pvc), "the PVC is kept across stop")

	// Start again: same PVC.
	setDesired(t, p.user, p.org, p.name, workspacesv1alpha1.DesiredStatusRunning)
	waitHub(t, p.org, p.name, 2*time.Minute, "is Available again after start", available)
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: p.name + "-home"}, pvc))
	require.Equal(t, pvcUID, pvc.UID, "start reuses the PVC")

	// Delete: everything local goes, then the hub object.
	for _, p := range cases {
		ws := &workspacesv1alpha1.Workspace{}
		c := tenantClient(t, p.user, p.org)
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "default", Name: p.name}, ws))
		require.NoError(t, c.Delete(ctx, ws))
	}
	for _, p := range cases {
		c, lc, ns := orgClient(t, p.org), localClient(t, p.cluster), localNamespace(t, p.org)
		waitLocal(t, 2*time.Minute, "hub object and everything local gone after delete", func(ctx context.Context) (bool, error) {
			err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: p.name}, &workspacesv1alpha1.Workspace{})
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			for _, o := range []client.Object{&computev1alpha1.LocalWorkspace{}, &appsv1.Deployment{}, &corev1.Service{}, &corev1.PersistentVolumeClaim{}} {
				ok, err := exists(ctx, lc, o, ns, strings.TrimSuffix(p.name+suffix(o), ""))
				if err != nil || ok {
					return false, err
				}
			}
			return true, nil
		})
	}
}

func suffix(o client.Object) string {
	if _, ok := o.(*corev1.PersistentVolumeClaim); ok {
		return "-home"
	}
	return ""
}

func setDesired(t *testing.T, user, org, name string, desired workspacesv1alpha1.DesiredStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := tenantClient(t, user, org)
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws))
	patch := client.MergeFrom(ws.DeepCopy())
	ws.Spec.DesiredStatus = desired
	require.NoError(t, c.Patch(ctx, ws, patch))
}
