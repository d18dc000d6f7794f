package isolation

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

var scheme = testbed.Scheme

// adminClient is the kcp admin's client of an organization (to observe; tenants act with
// userClient).
func adminClient(t *testing.T, org string) client.Client {
	t.Helper()
	c, err := env.Hub.Client(bootstrap.OrgPath(org))
	require.NoError(t, err)
	return c
}

// userClient is the client of a tenant (member or organization admin) of org.
func userClient(t *testing.T, user, org string) client.Client {
	t.Helper()
	c, err := env.Hub.UserClient(user, bootstrap.OrgPath(org))
	require.NoError(t, err)
	return c
}

// userProviderClient is the client of a tenant aimed at the platform's workspace root:atrium.
func userProviderClient(t *testing.T, user string) client.Client {
	t.Helper()
	cfg, err := env.Hub.UserConfig(user, logicalcluster.NewPath(exports.ProviderWorkspace))
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func localClient(t *testing.T, cluster string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(cluster).Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// localNamespace is the namespace on every compute cluster that holds the workspaces of
// namespace ns of org.
func localNamespace(org, ns string) string {
	return mirror.Namespace(stack.Orgs[org].Cluster, ns)
}

// newWorkspace is a small workspace of owner (annotation set), not created yet; it names no
// template, so the organization's default template governs it.
func newWorkspace(name, owner string, mutate ...func(*workspacesv1alpha1.Workspace)) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: owner}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
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

func withTemplate(name string) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: name}
	}
}

func spec(mutate func(*workspacesv1alpha1.WorkspaceSpec)) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) { mutate(&ws.Spec) }
}

// create creates obj as user in org and deletes it (as the kcp admin) when the test ends.
func create(t *testing.T, user, org string, obj client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, userClient(t, user, org).Create(ctx, obj), "create %s as %s in %s", obj.GetName(), user, org)
	cleanup(t, org, obj)
}

func cleanup(t *testing.T, org string, obj client.Object) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = client.IgnoreNotFound(adminClient(t, org).Delete(ctx, obj))
	})
}

// waitWorkspace waits until the hub Workspace org/default/name satisfies cond, and returns it.
func waitWorkspace(t *testing.T, org, name string, timeout time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) *workspacesv1alpha1.Workspace {
	t.Helper()
	return waitWorkspaceIn(t, org, "default", name, timeout, what, cond)
}

// waitWorkspaceIn is waitWorkspace for a workspace of namespace ns.
func waitWorkspaceIn(t *testing.T, org, ns, name string, timeout time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) *workspacesv1alpha1.Workspace {
	t.Helper()
	c := adminClient(t, org)
	var last *workspacesv1alpha1.Workspace
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ws); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = ws
		return cond(ws), nil
	})
	require.NoError(t, err, "workspace %s/%s/%s: %s; last: %s", org, ns, name, what, describe(last))
	return last
}

// invalidFor is true once the hub judged the current generation invalid for reason.
func invalidFor(reason workspacesv1alpha1.ConditionReason) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		c := ws.GetCondition(workspacesv1alpha1.ConditionValid)
		return c != nil && c.ObservedGeneration == ws.Generation && c.Status == metav1.ConditionFalse && c.Reason == string(reason)
	}
}

func available(ws *workspacesv1alpha1.Workspace) bool { return ws.IsAvailable() && !ws.IsStopped() }

func describe(ws *workspacesv1alpha1.Workspace) string {
	if ws == nil {
		return "<not found>"
	}
	s := fmt.Sprintf("gen=%d phase=%s cluster=%q", ws.Generation, ws.Status.Phase, ws.PlacedCluster())
	if e := ws.Status.Effective; e != nil {
		s += fmt.Sprintf(" effective{gen=%d template=%s image=%s level=%s}", e.Generation, e.Template, e.Image, e.PodSecurityLevel)
	}
	for _, c := range ws.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

// requireNothingOnClusters asks every compute cluster's API server whether anything of
// workspace org/default/name exists there: its LocalWorkspace, Deployment, pods or home PVC.
func requireNothingOnClusters(t *testing.T, org, name string) {
	t.Helper()
	requireNothingOnClustersIn(t, org, "default", name)
}

// requireNothingOnClustersIn is requireNothingOnClusters for a workspace of namespace hubNS.
func requireNothingOnClustersIn(t *testing.T, org, hubNS, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := localNamespace(org, hubNS)
	for cluster := range env.Clusters {
		c := localClient(t, cluster)
		for _, obj := range []client.Object{&computev1alpha1.LocalWorkspace{}, &appsv1.Deployment{}} {
			err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
			require.True(t, apierrors.IsNotFound(err), "%T %s/%s exists on %s (err %v)", obj, ns, name, cluster, err)
		}
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-home"}, &corev1.PersistentVolumeClaim{})
		require.True(t, apierrors.IsNotFound(err), "PVC %s/%s-home exists on %s (err %v)", ns, name, cluster, err)
		pods := &corev1.PodList{}
		require.NoError(t, c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"atrium.dev/workspace": name}))
		require.Empty(t, pods.Items, "pods of %s exist on %s", name, cluster)
	}
}

// Neighbours are the ordinary workspaces every test must leave running: two colleagues of the
// attacker in acme and a tenant of another organization. The first test that needs them
// creates them.
var neighbours = []struct{ org, owner, name string }{
	{acme, alice, "alice-nb"},
	{acme, carol, "carol-nb"},
	{globex, gus, "gus-nb"},
}

var (
	neighboursOnce sync.Once
	// pids are the platform's processes when the neighbours first ran.
	pids map[string]int
)

// ensureNeighbours creates the neighbours once and waits until they are Available.
func ensureNeighbours(t *testing.T) {
	t.Helper()
	neighboursOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range neighbours {
			ws := newWorkspace(n.name, n.owner)
			require.NoError(t, client.IgnoreAlreadyExists(userClient(t, n.owner, n.org).Create(ctx, ws)))
		}
		for _, n := range neighbours {
			waitWorkspace(t, n.org, n.name, 3*time.Minute, "is Available", available)
		}
		pids = currentPIDs()
	})
	require.NotNil(t, pids, "the neighbours did not start")
}

func currentPIDs() map[string]int {
	out := map[string]int{"kcp": env.Hub.PID(), "atrium-hub": stack.HubController.PID()}
	for name, a := range stack.Agents {
		out["agent-"+name] = a.PID()
	}
	for name, c := range env.Clusters {
		out["kube-apiserver-"+name] = c.APIServerPID()
		out["etcd-"+name] = c.EtcdPID()
	}
	return out
}

// requireNeighboursUnharmed checks that every neighbour is still Available with the effective
// spec it started with, that its pod gets no service-account token, and that no process of the
// platform restarted.
func requireNeighboursUnharmed(t *testing.T) {
	t.Helper()
	for _, n := range neighbours {
		ws := waitWorkspace(t, n.org, n.name, time.Minute, "is still Available", available)
		require.Equal(t, int64(1), ws.Status.Effective.Generation, "%s was re-resolved from another generation", n.name)
		require.Equal(t, bootstrap.DefaultTemplateName, ws.Status.Effective.Template, "%s left its default template", n.name)
		d := &appsv1.Deployment{}
		require.NoError(t, localClient(t, ws.PlacedCluster()).Get(context.Background(), client.ObjectKey{Namespace: localNamespace(n.org, "default"), Name: n.name}, d))
		require.False(t, ptr.Deref(d.Spec.Template.Spec.AutomountServiceAccountToken, true), "the pod of %s gets a service-account token", n.name)
	}
	now := currentPIDs()
	var changed []string
	for name, pid := range pids {
		if now[name] != pid {
			changed = append(changed, fmt.Sprintf("%s %d -> %d", name, pid, now[name]))
		}
	}
	sort.Strings(changed)
	require.Empty(t, changed, "processes restarted: %s", strings.Join(changed, ", "))
}
