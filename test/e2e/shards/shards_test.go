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
	topologyv1alpha1 "github.com/kcp-dev/sdk/apis/topology/v1alpha1"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli"
	"github.com/atrium-dev/atrium/internal/kcp"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestShardJoinsWhileWorkspacesRun is the endpoint slice growing a shard: while a workspace of
// acme (root) runs, globex is created on shard-1, which until then hosted no organization. Its
// virtual workspace joins the export's endpoint slice; both agents and the hub controller follow
// it without a restart (globex's workspaces are placed and run on both clusters, and OwnerOnly
// is enforced there, the hub's webhook asking shard-1 through the front proxy), and acme's
// workspace keeps syncing throughout.
func TestShardJoinsWhileWorkspacesRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	before := pids()
	steady := "alice-steady"
	create(t, rootTenant, rootOrg, newWorkspace(steady, rootTenant, "east"))
	waitHub(t, rootOrg, steady, 3*time.Minute, "Available", available)

	if o := orgIfExists(t, shardOrg); o != nil {
		t.Logf("organization %s exists already (the suite ran out of order); the join is not observed from an empty shard", shardOrg)
	} else {
		waitFor(t, time.Minute, "the endpoint slice lists root only while shard-1 hosts nothing", func(ctx context.Context) (bool, error) {
			urls, err := sliceURLs(ctx, t, exports.ExportName)
			return onlyShards(t, urls, testbed.RootShard), err
		})
		for _, c := range []string{"east", "west"} {
			waitFor(t, time.Minute, c+" reports following root only", func(ctx context.Context) (bool, error) {
				s, err := reportedShards(ctx, t, c)
				return onlyShards(t, s, testbed.RootShard), err
			})
		}
		start := time.Now()
		ensureShardOrg(t)
		t.Logf("organization %s created on %s in %v", shardOrg, otherShard, time.Since(start).Round(time.Millisecond))
		waitFor(t, time.Minute, "the endpoint slice lists shard-1 too", func(ctx context.Context) (bool, error) {
			urls, err := sliceURLs(ctx, t, exports.ExportName)
			return onlyShards(t, urls, testbed.RootShard, otherShard), err
		})
		t.Logf("shard-1 joined the endpoint slice %v after the organization was created", time.Since(start).Round(time.Millisecond))
		for _, c := range []string{"east", "west"} {
			waitFor(t, time.Minute, c+" reports following both shards", func(ctx context.Context) (bool, error) {
				s, err := reportedShards(ctx, t, c)
				return onlyShards(t, s, testbed.RootShard, otherShard), err
			})
			t.Logf("the agent of %s follows shard-1 %v after the organization was created", c, time.Since(start).Round(time.Millisecond))
		}
	}

	for _, c := range []string{"east", "west"} {
		name := "bob-joined-" + c
		create(t, shardTenant, shardOrg, newWorkspace(name, shardTenant, c))
		ws := waitHub(t, shardOrg, name, 3*time.Minute, "Available", available)
		require.Equal(t, c, ws.PlacedCluster())
		require.True(t, strings.HasPrefix(ws.Status.Placement.Shard, shardURL(t, otherShard)+"/"), "recorded on shard-1: %q", ws.Status.Placement.Shard)
		require.NotNil(t, ws.Status.Owner, "the hub's creator webhook and owner controller serve shard-1")
		require.Equal(t, shardTenant, ws.Status.Owner.Username)
	}

	// OwnerOnly on shard-1: a colleague is refused, the org admin (a SubjectAccessReview the hub
	// sends to shard-1 through the front proxy) may.
	private := newWorkspace("carols-private", "carol", "west")
	private.Annotations = nil
	private.Spec.OwnershipType = workspacesv1alpha1.OwnershipTypeOwnerOnly
	create(t, "carol", shardOrg, private)
	require.Equal(t, "carol", waitHub(t, shardOrg, private.Name, time.Minute, "owner recorded", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Owner != nil
	}).Status.Owner.Username)
	rename := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"displayName":"renamed"}}`))
	err := tenantClient(t, "dave", shardOrg).Patch(ctx, private.DeepCopy(), rename)
	require.True(t, apierrors.IsForbidden(err), "dave changing carol's OwnerOnly workspace: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `only its owner "carol" or an organization admin may change it`)
	require.NoError(t, tenantClient(t, shardTenant, shardOrg).Patch(ctx, private.DeepCopy(), rename), "the admin of globex may")

	stopStart(ctx, t, rootTenant, rootOrg, steady, "east")
	require.Equal(t, before, pids(), "no Atrium process restarted")
}

// TestOrganizationsLandOnTheShardTheyAskFor checks where kcp really put each organization's
// logical cluster, by asking each shard directly, and that an unknown shard is a clear error.
func TestOrganizationsLandOnTheShardTheyAskFor(t *testing.T) {
	ensureShardOrg(t)
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
	ensureShardOrg(t)
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
	ensureShardOrg(t)
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
	ensureShardOrg(t)
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

// TestPerShardAgent dedicates west's agent to shard-1: `atrium cluster register --shard`
// creates the shard's Partition and partitioned endpoint slice, and an agent started with that
// --endpoint-slice follows shard-1 only and serves globex's workspaces there. When the slice is
// deleted the agent disengages globex and deletes nothing (the workspace's pod keeps running);
// when the slice is back it engages globex afresh, so a stop made meanwhile reaches the cluster.
func TestPerShardAgent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ensureShardOrg(t)
	name := "bob-dedicated"
	create(t, shardTenant, shardOrg, newWorkspace(name, shardTenant, "west"))
	waitHub(t, shardOrg, name, 3*time.Minute, "Available on west", available)

	register := func() {
		out := atrium(t, "cluster", "register", "west", "--agent-user", testbed.AgentUser("west"), "--shard", otherShard, "--kubeconfig", env.Hub.Kubeconfig)
		require.NoError(t, out.err)
		require.Contains(t, out.stdout, "--endpoint-slice="+bootstrap.ShardSliceName(otherShard))
	}
	register()
	slice := bootstrap.ShardSliceName(otherShard)
	urls, err := sliceURLs(ctx, t, slice)
	require.NoError(t, err)
	require.True(t, onlyShards(t, urls, otherShard), "the partitioned slice lists shard-1 only: %v", urls)

	// Replace west's all-shards agent by one dedicated to shard-1. Its heartbeat entries go
	// with it (an operator retiring an agent release does the same, see the operator guide).
	west := stack.Agents["west"]
	require.NoError(t, west.Stop())
	releaseHeartbeat(ctx, t, "west", "atrium-agent-west")
	dedicated, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: env.Cluster("west"), Replica: otherShard,
		Args: append(agentArgs("west"), "--endpoint-slice="+slice)})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_ = dedicated.Stop()
		releaseHeartbeat(ctx, t, "west", "atrium-agent-west-"+slice)
		require.NoError(t, west.Restart(ctx), "west's all-shards agent returns")
		waitFor(t, time.Minute, "west reports both shards again", func(ctx context.Context) (bool, error) {
			s, err := reportedShards(ctx, t, "west")
			return onlyShards(t, s, testbed.RootShard, otherShard), err
		})
	})
	waitFor(t, time.Minute, "west reports following shard-1 only", func(ctx context.Context) (bool, error) {
		s, err := reportedShards(ctx, t, "west")
		return onlyShards(t, s, otherShard), err
	})
	stopStart(ctx, t, shardTenant, shardOrg, name, "west")
	agentPID := dedicated.PID()

	// The slice deleted: the agent disengages globex and deletes nothing.
	sc, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: sliceScheme})
	require.NoError(t, err)
	require.NoError(t, sc.Delete(ctx, &apisv1alpha1.APIExportEndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: slice}}))
	waitFor(t, time.Minute, "west reports following no shard", func(ctx context.Context) (bool, error) {
		s, err := reportedShards(ctx, t, "west")
		return len(s) == 0, err
	})
	ns := localNamespace(t, shardOrg)
	mirrorUID := mirrorOf(ctx, t, "west", ns, name)
	setDesired(ctx, t, shardTenant, shardOrg, name, workspacesv1alpha1.DesiredStatusStopped)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := runningPods(ctx, localClient(t, "west"), ns, name)
		require.NoError(t, err)
		require.Equal(t, 1, n, "a disengaged shard's workspace keeps running: nothing acts on it, nothing is deleted")
		time.Sleep(500 * time.Millisecond)
	}
	require.Equal(t, mirrorUID, mirrorOf(ctx, t, "west", ns, name), "the mirror is the same object")

	// The slice back: the agent engages globex afresh and the stop made meanwhile arrives.
	start := time.Now()
	register()
	waitHub(t, shardOrg, name, 2*time.Minute, "Stopped once the slice is back", phase(workspacesv1alpha1.WorkspacePhaseStopped))
	waitFor(t, time.Minute, "the Deployment scaled to zero", func(ctx context.Context) (bool, error) {
		r, err := deploymentReplicas(ctx, localClient(t, "west"), ns, name)
		return r == 0, err
	})
	t.Logf("a stop made while the slice was gone reached west %v after it was back", time.Since(start).Round(time.Millisecond))
	setDesired(ctx, t, shardTenant, shardOrg, name, workspacesv1alpha1.DesiredStatusRunning)
	waitHub(t, shardOrg, name, 2*time.Minute, "Available again", available)
	require.Equal(t, mirrorUID, mirrorOf(ctx, t, "west", ns, name), "still the same mirror")
	require.Equal(t, agentPID, dedicated.PID(), "the agent did not restart")
}

// TestTrapPartitionedSliceListsForeignShards pins a kcp v0.31.2 race that
// bootstrap.EnsureShardSlice works around: a partitioned endpoint slice created while other
// shards host bound organizations lists those shards too (their URL controllers see the slice
// before its shard selector is resolved) and keeps them. If this fails repeatedly, kcp resolves
// the selector first: drop dropForeignEndpoints (docs/development.md).
func TestTrapPartitionedSliceListsForeignShards(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ensureShardOrg(t)
	const name = "atrium-trap-partition"
	c := providerClient(t)
	partition := &unstructured.Unstructured{}
	partition.SetGroupVersionKind(topologyv1alpha1.SchemeGroupVersion.WithKind("Partition"))
	partition.SetName(name)
	require.NoError(t, unstructured.SetNestedStringMap(partition.Object, map[string]string{kcp.ShardNameLabel: otherShard}, "spec", "selector", "matchLabels"))
	require.NoError(t, c.Create(ctx, partition))
	t.Cleanup(func() { _ = c.Delete(context.Background(), partition) })
	slice := &apisv1alpha1.APIExportEndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apisv1alpha1.APIExportEndpointSliceSpec{
			APIExport: apisv1alpha1.ExportBindingReference{Path: exports.ProviderWorkspace, Name: exports.ExportName},
			Partition: name,
		},
	}
	sc, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: sliceScheme})
	require.NoError(t, err)
	require.NoError(t, sc.Create(ctx, slice))
	t.Cleanup(func() { _ = sc.Delete(context.Background(), slice) })
	var urls []string
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		urls, _ = sliceURLs(ctx, t, name)
		for _, u := range urls {
			if strings.HasPrefix(u, shardURL(t, testbed.RootShard)+"/") {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("a new partitioned slice for shard-1 did not list root, which hosts bound organizations (urls %v): kcp may have fixed the race; if this repeats, drop bootstrap's dropForeignEndpoints", urls)
	}
}

// TestShardLeavesWhileWorkspacesRun is the endpoint slice losing a shard: globex, the only
// organization on shard-1, is deleted while acme's workspace runs. Its workspaces are cleaned up
// (the deletion was asked for), shard-1's URL leaves the slice, both agents and the hub follow
// without a restart, and acme's workspace keeps running and syncing, untouched.
func TestShardLeavesWhileWorkspacesRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	ensureShardOrg(t)
	steady := "alice-stays"
	create(t, rootTenant, rootOrg, newWorkspace(steady, rootTenant, "west"))
	waitHub(t, rootOrg, steady, 3*time.Minute, "Available", available)
	leaving := "bob-leaving"
	create(t, shardTenant, shardOrg, newWorkspace(leaving, shardTenant, "east"))
	waitHub(t, shardOrg, leaving, 3*time.Minute, "Available", available)
	ns := localNamespace(t, rootOrg)
	mirrorUID := mirrorOf(ctx, t, "west", ns, steady)
	leavingNS := localNamespace(t, shardOrg)
	before := pids()

	start := time.Now()
	require.NoError(t, bootstrap.DeleteOrg(ctx, env.Hub.Config, shardOrg))
	t.Logf("organization %s deleted in %v", shardOrg, time.Since(start).Round(time.Millisecond))
	waitFor(t, 2*time.Minute, "the endpoint slice lists root only", func(ctx context.Context) (bool, error) {
		urls, err := sliceURLs(ctx, t, exports.ExportName)
		return onlyShards(t, urls, testbed.RootShard), err
	})
	t.Logf("shard-1 left the endpoint slice %v after the deletion began", time.Since(start).Round(time.Millisecond))
	for _, c := range []string{"east", "west"} {
		waitFor(t, time.Minute, c+" reports following root only", func(ctx context.Context) (bool, error) {
			s, err := reportedShards(ctx, t, c)
			return onlyShards(t, s, testbed.RootShard), err
		})
	}
	waitFor(t, time.Minute, "globex's workspace is gone from east", func(ctx context.Context) (bool, error) {
		n, err := runningPods(ctx, localClient(t, "east"), leavingNS, leaving)
		return n == 0, err
	})

	n, err := runningPods(ctx, localClient(t, "west"), ns, steady)
	require.NoError(t, err)
	require.Equal(t, 1, n, "acme's workspace kept running")
	require.Equal(t, mirrorUID, mirrorOf(ctx, t, "west", ns, steady), "acme's mirror is untouched")
	stopStart(ctx, t, rootTenant, rootOrg, steady, "west")
	require.Equal(t, before, pids(), "no Atrium process restarted")
}
