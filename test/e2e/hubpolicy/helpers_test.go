package hubpolicy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/test/testbed"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

var scheme = testbed.Scheme

// orgClient is the kcp admin's client of the organization.
func orgClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath(org)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// userClient is a tenant's client of the organization.
func userClient(t *testing.T, user string) client.Client {
	t.Helper()
	cfg, err := env.Hub.UserConfig(user, bootstrap.OrgPath(org))
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func localClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(cluster).Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// newWorkspace is a small workspace owned by user (annotation set), not created yet.
func newWorkspace(name, user string, mutate ...func(*workspacesv1alpha1.Workspace)) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: user}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			Image: "quay.io/jupyter/base-notebook:2025-06-01",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
		},
	}
	for _, m := range mutate {
		m(ws)
	}
	return ws
}

// create creates ws as user and deletes it when the test ends.
func create(t *testing.T, user string, ws *workspacesv1alpha1.Workspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, userClient(t, user).Create(ctx, ws))
	cleanup(t, ws)
}

func cleanup(t *testing.T, obj client.Object) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = orgClient(t).Delete(ctx, obj)
	})
}

// setDesired sets spec.desiredStatus as user (a merge patch, as kubectl patch would).
func setDesired(t *testing.T, user, name string, desired workspacesv1alpha1.DesiredStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	patch := client.RawPatch("application/merge-patch+json", []byte(fmt.Sprintf(`{"spec":{"desiredStatus":%q}}`, desired)))
	require.NoError(t, userClient(t, user).Patch(ctx, ws, patch))
}

// waitHub waits until the hub Workspace satisfies cond, and returns it.
func waitHub(t *testing.T, name string, timeout time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) *workspacesv1alpha1.Workspace {
	t.Helper()
	c := orgClient(t)
	var last *workspacesv1alpha1.Workspace
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = ws
		return cond(ws), nil
	})
	require.NoError(t, err, "workspace %s: %s; last: %s", name, what, describe(last))
	return last
}

// holdsFor checks that cond keeps holding for d.
func holdsFor(t *testing.T, name string, d time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) {
	t.Helper()
	c := orgClient(t)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ws := &workspacesv1alpha1.Workspace{}
		require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: name}, ws))
		require.True(t, cond(ws), "workspace %s: %s; now: %s", name, what, describe(ws))
		time.Sleep(250 * time.Millisecond)
	}
}

func hasCondition(ct workspacesv1alpha1.ConditionType, status metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		c := ws.GetCondition(ct)
		return c != nil && c.Status == status && c.Reason == string(reason)
	}
}

func available(ws *workspacesv1alpha1.Workspace) bool {
	return ws.IsAvailable() && !ws.IsStopped()
}

func stoppedBy(reason workspacesv1alpha1.ConditionReason, ct workspacesv1alpha1.ConditionType, status metav1.ConditionStatus) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.IsStopped() && hasCondition(ct, status, reason)(ws)
	}
}

func describe(ws *workspacesv1alpha1.Workspace) string {
	if ws == nil {
		return "<not found>"
	}
	s := fmt.Sprintf("gen=%d desired=%s phase=%s cluster=%q owner=%+v access=%+v lastActivity=%v", ws.Generation, ws.Spec.DesiredStatus, ws.Status.Phase,
		ws.PlacedCluster(), ws.Status.Owner, ws.Status.Access, ws.Status.LastActivity)
	for _, c := range ws.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}
