package agent

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestRegistrationAndHeartbeat: each agent registers its ComputeCluster with its labels and
// keeps its status current: capacity from its nodes, the shards it follows, the access
// strategies it offers and its default.
func TestRegistrationAndHeartbeat(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, platformv1alpha1.AddToScheme(s))
	c, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: s})
	require.NoError(t, err)
	for _, name := range []string{"east", "west"} {
		var cc platformv1alpha1.ComputeCluster
		var first time.Time
		err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Name: name}, &cc); err != nil || cc.Status.HeartbeatTime == nil {
				return false, nil //nolint:nilerr // keep polling
			}
			if first.IsZero() {
				first = cc.Status.HeartbeatTime.Time
			}
			return cc.Status.HeartbeatTime.After(first), nil // renewed at least once
		})
		require.NoError(t, err, "ComputeCluster %s heart-beats", name)
		require.Equal(t, name, cc.Labels["region"])
		require.Equal(t, resource.MustParse("32"), cc.Status.Capacity.Cpu().DeepCopy(), "2 kwok nodes of 16 CPUs")
		require.Len(t, cc.Status.Shards, 1)
		require.Contains(t, cc.Status.Shards[0], "/services/apiexport/")
		require.Contains(t, cc.Status.AccessStrategies, "loopback")
		require.Equal(t, "loopback", cc.Status.DefaultAccessStrategy)
	}
}

// TestMetrics: the agent serves Prometheus metrics with its reconcilers and workspace
// gauges.
func TestMetrics(t *testing.T) {
	createWorkspace(t, "bob", "beta", newWorkspace("metrics-nb"), "west")
	waitHub(t, "beta", "metrics-nb", 2*time.Minute, "becomes Available", available)
	resp, err := http.Get(agents["west"].MetricsURL()) //nolint:noctx // test
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)
	for _, want := range []string{
		`atrium_agent_workspaces{compute_cluster="west",phase="Running"}`,
		`controller_runtime_reconcile_total{controller="atrium-workspacesync"`,
		`controller_runtime_reconcile_total{controller="atrium-materializer"`,
		`atrium_agent_status_sync_lag_seconds_bucket`,
		`atrium_agent_hub_writes_total{result="written",write="finalizer"}`,
		`atrium_agent_hub_writes_total{result="written",write="status"}`,
		`atrium_agent_heartbeats_total{result="success"}`,
	} {
		require.Contains(t, text, want)
	}
}

// TestLeaderElection: east runs two replicas; only the leader acts. Killing the leader hands
// over to the other, which then serves new workspaces.
func TestLeaderElection(t *testing.T) {
	leader, follower := "east", "east-b"
	if !isLeader(t, agents["east"]) {
		leader, follower = "east-b", "east"
	}
	require.True(t, isLeader(t, agents[leader]))
	require.False(t, isLeader(t, agents[follower]), "exactly one replica leads")

	require.NoError(t, agents[leader].Kill())
	t.Cleanup(func() { _ = agents[leader].Restart(context.Background()) })
	createWorkspace(t, "alice", "acme", newWorkspace("failover-nb"), "east")
	waitHub(t, "acme", "failover-nb", 3*time.Minute, "is served by the new leader", available)
	require.True(t, isLeader(t, agents[follower]))
}

func isLeader(t *testing.T, a *testbed.Agent) bool {
	t.Helper()
	resp, err := http.Get(a.MetricsURL()) //nolint:noctx // test
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	// The Lease is named after the cluster and the endpoint slice: atrium-agent-east-<slice>.
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, `leader_election_master_status{name="atrium-agent-east-`) && strings.HasSuffix(line, "} 1") {
			return true
		}
	}
	return false
}
