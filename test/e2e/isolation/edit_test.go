package isolation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestInvalidEditsChangeNothing: edits of a running workspace that its template refuses (bigger
// limits, another service account, another access strategy, another image) are answered with
// Valid=False, keep the last valid status.effective, and change nothing on the compute cluster:
// the Deployment keeps its generation and spec, and the compute API server's audit log shows no
// write of the agent to the workspace's Deployment, pods, Service or PVC. An edit the API
// refuses is not even stored.
func TestInvalidEditsChangeNothing(t *testing.T) {
	ensureNeighbours(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const name = "edit-me"
	create(t, bob, acme, newWorkspace(name, bob, withTemplate("tight")))
	ws := waitWorkspace(t, acme, name, 3*time.Minute, "is Available", available)
	good := ws.Status.Effective.DeepCopy()
	cluster := ws.PlacedCluster()
	ns := localNamespace(acme, "default")
	local := localClient(t, cluster)
	before := &appsv1.Deployment{}
	require.NoError(t, local.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, before))
	mark, err := testbed.AuditMark(env.Cluster(cluster).AuditLogPath())
	require.NoError(t, err)

	c := userClient(t, bob, acme)
	// Each edit starts from the spec that runs, so each trips one rule only.
	original := ws.Spec.DeepCopy()
	edit := func(mutate func(*workspacesv1alpha1.WorkspaceSpec)) error {
		cur := &workspacesv1alpha1.Workspace{}
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, cur))
		patch := client.MergeFrom(cur.DeepCopy())
		cur.Spec = *original.DeepCopy()
		mutate(&cur.Spec)
		return c.Patch(ctx, cur, patch)
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*workspacesv1alpha1.WorkspaceSpec)
		reason  workspacesv1alpha1.ConditionReason
		message string
	}{
		{"bigger limits", func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}}
		}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.limits.cpu 64 exceeds the template's maximum 2"},
		{"another service account", func(s *workspacesv1alpha1.WorkspaceSpec) { s.ServiceAccountName = "atrium-agent" },
			workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.serviceAccountName atrium-agent"},
		{"another access strategy", func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: "node-port"}
		}, workspacesv1alpha1.ReasonAccessStrategyNotAllowed, "spec.accessStrategy.name node-port is not allowed"},
		{"another image", func(s *workspacesv1alpha1.WorkspaceSpec) { s.Image = "docker.io/evil/miner:1" },
			workspacesv1alpha1.ReasonImageNotAllowed, `spec.image "docker.io/evil/miner:1" is not allowed by template "tight"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, edit(tc.mutate))
			got := waitWorkspace(t, acme, name, time.Minute, "is Valid=False "+string(tc.reason), invalidFor(tc.reason))
			require.Contains(t, got.GetCondition(workspacesv1alpha1.ConditionValid).Message, tc.message)
			require.True(t, equality.Semantic.DeepEqual(good, got.Status.Effective), "status.effective changed for an invalid generation")
			require.NotEmpty(t, got.PlacedCluster(), "the running workspace lost its placement")
		})
	}
	t.Run("privileged edit refused at the API", func(t *testing.T) {
		err := edit(func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Privileged: ptr.To(true)}
		})
		require.True(t, apierrors.IsInvalid(err), "want Invalid, got %v", err)
		require.Contains(t, err.Error(), "privileged containers are not allowed")
	})

	// Give the agent time to do the wrong thing (it resyncs every second), then look.
	holdsFor(t, 10*time.Second, "the Deployment keeps its generation and spec", func() bool {
		d := &appsv1.Deployment{}
		return local.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d) == nil &&
			d.Generation == before.Generation && equality.Semantic.DeepEqual(d.Spec.Template, before.Spec.Template)
	})
	waitWorkspace(t, acme, name, 30*time.Second, "is still Available", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.IsConditionTrue(workspacesv1alpha1.ConditionAvailable) && !ws.IsStopped()
	})
	writes, err := testbed.Writes(env.Cluster(cluster).AuditLogPath(), testbed.ComputeAgentUser, mark)
	require.NoError(t, err)
	for _, w := range writes {
		if w.ObjectRef == nil || w.ObjectRef.Namespace != ns {
			continue
		}
		switch w.ObjectRef.Resource {
		case "deployments", "pods", "services", "persistentvolumeclaims", "replicasets":
			if w.ObjectRef.Name == name || w.ObjectRef.Name == name+"-home" || len(w.ObjectRef.Name) > len(name) && w.ObjectRef.Name[:len(name)+1] == name+"-" {
				t.Errorf("the agent wrote %s after invalid edits", w)
			}
		}
	}

	// A valid edit rolls out again.
	require.NoError(t, edit(func(s *workspacesv1alpha1.WorkspaceSpec) { s.Image = "quay.io/jupyter/base-notebook:2025-06-01" }))
	got := waitWorkspace(t, acme, name, time.Minute, "is valid again with the new image", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.IsConditionTrue(workspacesv1alpha1.ConditionValid) && ws.Status.Effective != nil && ws.Status.Effective.Image == "quay.io/jupyter/base-notebook:2025-06-01"
	})
	require.Equal(t, got.Generation, got.Status.Effective.Generation)
	requireNeighboursUnharmed(t)
}

// holdsFor checks that cond keeps holding for d.
func holdsFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		require.True(t, cond(), what)
		time.Sleep(250 * time.Millisecond)
	}
}
