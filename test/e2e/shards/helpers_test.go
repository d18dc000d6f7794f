package shards

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/kcp"
	"github.com/atrium-dev/atrium/test/testbed"
)

var scheme = testbed.Scheme

// adminClient is a hub admin client for the organization, through the front proxy.
func adminClient(t *testing.T, org string) client.Client {
	t.Helper()
	c, err := env.Hub.Client(bootstrap.OrgPath(org))
	require.NoError(t, err)
	return c
}

// tenantClient is user's client for the organization's logical cluster, through the front proxy.
func tenantClient(t *testing.T, user, org string) client.Client {
	t.Helper()
	c, err := env.Hub.UserClient(user, bootstrap.OrgPath(org))
	require.NoError(t, err)
	return c
}

func providerClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func localClient(t *testing.T, cluster string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(cluster).Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// org returns the organization as bootstrap reports it (logical cluster, shard).
func org(t *testing.T, name string) bootstrap.Org {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(context.Background(), env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("organization %s not found", name)
	return bootstrap.Org{}
}

// shardURL is the shard's own address (not the front proxy's).
func shardURL(t *testing.T, shard string) string {
	t.Helper()
	cfg, err := env.Hub.ShardConfig(shard)
	require.NoError(t, err)
	return cfg.Host
}

// newWorkspace is a small workspace of user, pinned to a compute cluster by its region label.
func newWorkspace(name, user, cluster string) *workspacesv1alpha1.Workspace {
	return &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: user}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			Image: "quay.io/jupyter/base-notebook:2025-06-01",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
			ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"region": cluster}},
		},
	}
}

// create creates the workspace as the tenant and deletes it (as admin) when the test ends.
func create(t *testing.T, user, org string, ws *workspacesv1alpha1.Workspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, tenantClient(t, user, org).Create(ctx, ws))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = adminClient(t, org).Delete(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: ws.Namespace, Name: ws.Name}})
	})
}

// waitHub waits until the hub Workspace satisfies cond, and returns it.
func waitHub(t *testing.T, org, name string, timeout time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) *workspacesv1alpha1.Workspace {
	t.Helper()
	c := adminClient(t, org)
	var last *workspacesv1alpha1.Workspace
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = ws
		return cond(ws), nil
	})
	require.NoError(t, err, "workspace %s/%s: %s; last: %s", org, name, what, describe(last))
	return last
}

func available(ws *workspacesv1alpha1.Workspace) bool {
	return meta.IsStatusConditionTrue(ws.Status.Conditions, string(workspacesv1alpha1.ConditionAvailable)) &&
		ws.Status.ObservedGeneration == ws.Generation
}

func phase(p workspacesv1alpha1.WorkspacePhase) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Phase == p && ws.Status.ObservedGeneration == ws.Generation
	}
}

func describe(ws *workspacesv1alpha1.Workspace) string {
	if ws == nil {
		return "<not found>"
	}
	s := fmt.Sprintf("gen=%d observed=%d phase=%s cluster=%q", ws.Generation, ws.Status.ObservedGeneration, ws.Status.Phase, ws.PlacedCluster())
	for _, c := range ws.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		lastErr = err
		return ok, nil
	})
	require.NoError(t, err, "%s (last error: %v)", what, lastErr)
}

// localNamespace is where agents mirror the workspaces of an org's default namespace.
func localNamespace(t *testing.T, org string) string {
	return mirror.Namespace(orgCluster(t, org), "default")
}

func orgCluster(t *testing.T, name string) string {
	t.Helper()
	o := org(t, name)
	require.NotEmpty(t, o.Cluster)
	return o.Cluster
}

// runningPods counts the Running pods of a workspace on a compute cluster.
func runningPods(ctx context.Context, c client.Client, ns, name string) (int, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"atrium.dev/workspace": name}); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp.IsZero() {
			n++
		}
	}
	return n, nil
}

func deploymentReplicas(ctx context.Context, c client.Client, ns, name string) (int32, error) {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		return -1, err
	}
	if d.Spec.Replicas == nil {
		return 1, nil
	}
	return *d.Spec.Replicas, nil
}

// ensureShardOrg creates the shard-1 organization unless it exists (TestShardJoinsWhileWorkspacesRun
// creates it first; a test run alone with -run needs it too).
func ensureShardOrg(t *testing.T) bootstrap.Org {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(context.Background(), env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == shardOrg {
			return o
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o, err := bootstrap.CreateOrg(ctx, env.Hub.Config, shardOrg, bootstrap.OrgOptions{Admins: []string{shardTenant}, Members: shardOrgMembers, Shard: otherShard})
	require.NoError(t, err)
	return *o
}

// sliceURLs returns the virtual-workspace URLs an endpoint slice of root:atrium lists now.
func sliceURLs(ctx context.Context, t *testing.T, name string) ([]string, error) {
	slice := &apisv1alpha1.APIExportEndpointSlice{}
	c, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: sliceScheme})
	if err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, slice); err != nil {
		return nil, err
	}
	var urls []string
	for _, e := range slice.Status.APIExportEndpoints {
		urls = append(urls, e.URL)
	}
	return urls, nil
}

// onlyShards reports whether urls are exactly one virtual-workspace URL of each named shard.
func onlyShards(t *testing.T, urls []string, shards ...string) bool {
	if len(urls) != len(shards) {
		return false
	}
	for _, s := range shards {
		found := false
		for _, u := range urls {
			found = found || strings.HasPrefix(u, shardURL(t, s)+"/")
		}
		if !found {
			return false
		}
	}
	return true
}

// reportedShards is what a compute cluster's agents report following.
func reportedShards(ctx context.Context, t *testing.T, cluster string) ([]string, error) {
	cc := &platformv1alpha1.ComputeCluster{}
	if err := providerClient(t).Get(ctx, client.ObjectKey{Name: cluster}, cc); err != nil {
		return nil, err
	}
	return cc.Status.Shards, nil
}

// setDesired sets a workspace's desiredStatus as its tenant.
func setDesired(ctx context.Context, t *testing.T, user, org, name string, d workspacesv1alpha1.DesiredStatus) {
	t.Helper()
	patch := client.RawPatch("application/merge-patch+json", []byte(fmt.Sprintf(`{"spec":{"desiredStatus":%q}}`, d)))
	require.NoError(t, tenantClient(t, user, org).Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}, patch))
}

// stopStart stops and starts a running workspace and waits for both to reach the compute cluster
// and back: proof that its agent and the hub still sync it.
func stopStart(ctx context.Context, t *testing.T, user, org, name, cluster string) {
	t.Helper()
	ns := localNamespace(t, org)
	setDesired(ctx, t, user, org, name, workspacesv1alpha1.DesiredStatusStopped)
	waitHub(t, org, name, 2*time.Minute, "Stopped", phase(workspacesv1alpha1.WorkspacePhaseStopped))
	waitFor(t, time.Minute, "the Deployment of "+org+"/"+name+" scaled to zero", func(ctx context.Context) (bool, error) {
		r, err := deploymentReplicas(ctx, localClient(t, cluster), ns, name)
		return r == 0, err
	})
	setDesired(ctx, t, user, org, name, workspacesv1alpha1.DesiredStatusRunning)
	waitHub(t, org, name, 2*time.Minute, "Available again", available)
	waitFor(t, time.Minute, "a Running pod of "+org+"/"+name+" again", func(ctx context.Context) (bool, error) {
		n, err := runningPods(ctx, localClient(t, cluster), ns, name)
		return n == 1, err
	})
}

// pids are the PIDs of the suite's Atrium processes: unchanged means nothing restarted.
func pids() map[string]int {
	out := map[string]int{"hub": stack.HubController.PID()}
	for name, a := range stack.Agents {
		out["agent "+name] = a.PID()
	}
	return out
}

// orgIfExists returns the organization, or nil.
func orgIfExists(t *testing.T, name string) *bootstrap.Org {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(context.Background(), env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == name {
			return &o
		}
	}
	return nil
}

// mirrorOf returns the UID of a workspace's mirror on a compute cluster.
func mirrorOf(ctx context.Context, t *testing.T, cluster, ns, name string) types.UID {
	t.Helper()
	lw := &computev1alpha1.LocalWorkspace{}
	require.NoError(t, localClient(t, cluster).Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, lw))
	return lw.UID
}

// releaseHeartbeat gives up everything an agent's heartbeat field manager owns in its
// ComputeCluster's status (an apply of nothing), as an operator does when retiring an agent
// release: otherwise the shards it followed stay listed.
func releaseHeartbeat(ctx context.Context, t *testing.T, cluster, manager string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(platformv1alpha1.SchemeGroupVersion.String())
	u.SetKind("ComputeCluster")
	u.SetName(cluster)
	require.NoError(t, providerClient(t).Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(manager), client.ForceOwnership))
}
