package shards

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/cli"
	"github.com/atrium-dev/atrium/internal/kcp"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestOrganizationsLandOnTheShardTheyAskFor checks where kcp really put each organization's
// logical cluster, by asking each shard directly, and that an unknown shard is a clear error.
func TestOrganizationsLandOnTheShardTheyAskFor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.Equal(t, []string{testbed.RootShard, otherShard}, env.Hub.Shards())

	for name, want := range map[string]string{rootOrg: testbed.RootShard, shardOrg: otherShard} {
		o := org(t, name)
		require.Equal(t, want, o.Shard, "organization %s as bootstrap reports it", name)
		// The shard's own API holds the logical cluster; the other shard does not.
		for _, shard := range env.Hub.Shards() {
			cfg, err := env.Hub.ShardConfig(shard)
			require.NoError(t, err)
			c, err := client.New(kcp.ConfigForCluster(cfg, logicalcluster.NewPath(o.Cluster)), client.Options{Scheme: kcp.Scheme})
			require.NoError(t, err)
			err = c.Get(ctx, client.ObjectKey{Name: corev1alpha1.LogicalClusterName}, &corev1alpha1.LogicalCluster{})
			if shard == want {
				require.NoError(t, err, "shard %s holds organization %s (logical cluster %s)", shard, name, o.Cluster)
			} else {
				require.Error(t, err, "shard %s must not hold organization %s (logical cluster %s)", shard, name, o.Cluster)
			}
		}
	}

	// `atrium org list` shows the shards.
	out := atrium(t, "org", "list", "--kubeconfig", env.Hub.Kubeconfig)
	require.NoError(t, out.err)
	require.Regexp(t, `(?m)^acme\s+root:orgs:acme\s+Ready\s+root\s`, out.stdout)
	require.Regexp(t, `(?m)^globex\s+root:orgs:globex\s+Ready\s+shard-1\s`, out.stdout)

	// An unknown shard is refused before anything is created, naming the shards there are.
	out = atrium(t, "org", "create", "initech", "--admin", rootTenant, "--shard", "shard-9", "--kubeconfig", env.Hub.Kubeconfig)
	require.Error(t, out.err)
	require.Contains(t, out.err.Error(), `unknown kcp shard "shard-9"`)
	require.Contains(t, out.err.Error(), "root, shard-1")
	orgs, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.OrgsWorkspace)), client.Options{Scheme: kcp.Scheme})
	require.NoError(t, err)
	err = orgs.Get(ctx, client.ObjectKey{Name: "initech"}, &tenancyv1alpha1.Workspace{})
	require.True(t, apierrors.IsNotFound(err), "no workspace for the refused organization: %v", err)
}

// TestBothAgentsFollowBothShards checks the endpoint slice publishes one virtual-workspace URL
// per shard that hosts an organization, that both agents follow both, and that each agent's
// Lease is named for its cluster and slice.
func TestBothAgentsFollowBothShards(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	roots, shard1 := shardURL(t, testbed.RootShard), shardURL(t, otherShard)
	onShards := func(urls []string) bool {
		var r, s bool
		for _, u := range urls {
			r = r || strings.HasPrefix(u, roots+"/")
			s = s || strings.HasPrefix(u, shard1+"/")
		}
		return len(urls) == 2 && r && s
	}

	var urls []string
	waitFor(t, time.Minute, "the endpoint slice lists the virtual workspaces of root and shard-1", func(ctx context.Context) (bool, error) {
		slice := &apisv1alpha1.APIExportEndpointSlice{}
		c, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: sliceScheme})
		if err != nil {
			return false, err
		}
		if err := c.Get(ctx, client.ObjectKey{Name: exports.ExportName}, slice); err != nil {
			return false, err
		}
		urls = urls[:0]
		for _, e := range slice.Status.APIExportEndpoints {
			urls = append(urls, e.URL)
		}
		return onShards(urls), nil
	})
	t.Logf("endpoint slice URLs: %v", urls)

	for _, name := range []string{"east", "west"} {
		var shards []string
		waitFor(t, time.Minute, "ComputeCluster "+name+" reports both shards", func(ctx context.Context) (bool, error) {
			cc := &platformv1alpha1.ComputeCluster{}
			if err := providerClient(t).Get(ctx, client.ObjectKey{Name: name}, cc); err != nil {
				return false, err
			}
			shards = cc.Status.Shards
			return onShards(shards), nil
		})
		require.ElementsMatch(t, urls, shards, "the agent of %s follows exactly the slice's URLs", name)

		lease := &coordinationv1.Lease{}
		require.NoError(t, localClient(t, name).Get(ctx, client.ObjectKey{Namespace: "atrium-system", Name: "atrium-agent-" + name + "-" + exports.ExportName}, lease),
			"the agent's Lease is named for its cluster and endpoint slice")
		require.NotNil(t, lease.Spec.HolderIdentity)
	}
}

// TestWorkspacesRunOnBothShards is the user's view: a tenant of each organization creates a
// workspace on each compute cluster; the hub controller places all four, each agent serves its
// two (one per shard), they become Available with a Running pod, and a workspace of the
// shard-1 organization stops and starts.
func TestWorkspacesRunOnBothShards(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type workload struct{ org, user, name, cluster, shard string }
	var loads []workload
	for _, o := range []struct{ org, user, shard string }{{rootOrg, rootTenant, testbed.RootShard}, {shardOrg, shardTenant, otherShard}} {
		for _, cluster := range []string{"east", "west"} {
			w := workload{org: o.org, user: o.user, name: o.user + "-" + cluster, cluster: cluster, shard: o.shard}
			create(t, w.user, w.org, newWorkspace(w.name, w.user, w.cluster))
			loads = append(loads, w)
		}
	}
	for _, w := range loads {
		ws := waitHub(t, w.org, w.name, 3*time.Minute, "Available", available)
		require.Equal(t, w.cluster, ws.PlacedCluster(), "the hub controller placed %s/%s on its selected cluster", w.org, w.name)
		require.True(t, strings.HasPrefix(ws.Status.Placement.Shard, shardURL(t, w.shard)+"/"),
			"workspace %s/%s is recorded on shard %s, got %q", w.org, w.name, w.shard, ws.Status.Placement.Shard)
		ns := localNamespace(t, w.org)
		waitFor(t, time.Minute, "a Running pod of "+w.org+"/"+w.name+" on "+w.cluster, func(ctx context.Context) (bool, error) {
			n, err := runningPods(ctx, localClient(t, w.cluster), ns, w.name)
			return n == 1, err
		})
	}

	// Stop and start in the shard-1 organization: the agent's status writes go back through
	// shard-1's virtual workspace.
	w := loads[2]
	require.Equal(t, shardOrg, w.org)
	tenant := tenantClient(t, w.user, w.org)
	setDesired := func(d workspacesv1alpha1.DesiredStatus) {
		ws := &workspacesv1alpha1.Workspace{}
		require.NoError(t, tenant.Get(ctx, client.ObjectKey{Namespace: "default", Name: w.name}, ws))
		patch := client.MergeFrom(ws.DeepCopy())
		ws.Spec.DesiredStatus = d
		require.NoError(t, tenant.Patch(ctx, ws, patch))
	}
	ns := localNamespace(t, w.org)
	setDesired(workspacesv1alpha1.DesiredStatusStopped)
	waitHub(t, w.org, w.name, 2*time.Minute, "Stopped", phase(workspacesv1alpha1.WorkspacePhaseStopped))
	waitFor(t, time.Minute, "the Deployment of "+w.name+" scaled to zero", func(ctx context.Context) (bool, error) {
		r, err := deploymentReplicas(ctx, localClient(t, w.cluster), ns, w.name)
		return r == 0, err
	})
	setDesired(workspacesv1alpha1.DesiredStatusRunning)
	waitHub(t, w.org, w.name, 2*time.Minute, "Available again", available)
	waitFor(t, time.Minute, "a Running pod of "+w.name+" again", func(ctx context.Context) (bool, error) {
		n, err := runningPods(ctx, localClient(t, w.cluster), ns, w.name)
		return n == 1, err
	})
}

// TestTenantsOfOneShardCannotSeeTheOther checks isolation across shards through the front
// proxy: each tenant works in their own organization and is refused in the other one.
func TestTenantsOfOneShardCannotSeeTheOther(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct{ user, own, other string }{
		{rootTenant, rootOrg, shardOrg},
		{shardTenant, shardOrg, rootOrg},
	} {
		require.NoError(t, tenantClient(t, tc.user, tc.own).List(ctx, &workspacesv1alpha1.WorkspaceList{}),
			"%s lists workspaces in their own organization %s", tc.user, tc.own)
		err := tenantClient(t, tc.user, tc.other).List(ctx, &workspacesv1alpha1.WorkspaceList{})
		require.True(t, apierrors.IsForbidden(err), "%s must be refused in %s, got %v", tc.user, tc.other, err)
		err = tenantClient(t, tc.user, tc.other).Create(ctx, newWorkspace("intruder", tc.user, "east"))
		require.True(t, apierrors.IsForbidden(err), "%s must not create in %s, got %v", tc.user, tc.other, err)
	}
}

// sliceScheme knows kcp's APIExportEndpointSlice.
var sliceScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := apisv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

type result struct {
	stdout string
	err    error
}

// atrium runs the CLI in-process.
func atrium(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := cli.NewRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	t.Logf("atrium %s\n%s%s(err: %v)", strings.Join(args, " "), out.String(), errOut.String(), err)
	return result{stdout: out.String(), err: err}
}
