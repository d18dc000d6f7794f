// Package shards tests Atrium on a sharded hub, the way a large installation runs it: a kcp
// cache server, two shards (root and shard-1) behind a kcp-front-proxy, two compute clusters
// (east and west) with one agent each following every shard of the export's endpoint slice,
// and the hub controller. The organization acme lives on root (tenant alice); globex (admin
// bob, members carol and dave) comes to shard-1 while acme's workspaces run, so shard-1's
// virtual workspace joins the endpoint slice, and leaves it again at the end, when globex is
// deleted. Everything reaches the hub through the front proxy.
package shards

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	// rootOrg lives on the root shard, shardOrg on shard-1.
	rootOrg, rootTenant   = "acme", "alice"
	shardOrg, shardTenant = "globex", "bob"
	otherShard            = "shard-1"
)

// shardOrgMembers are members of shardOrg besides its admin shardTenant.
var shardOrgMembers = []string{"carol", "dave"}

// agentArgs are the arguments of every agent of the suite (per-shard ones add their slice).
func agentArgs(name string) []string {
	return []string{"--heartbeat-period=1s", "--default-access-strategy=" + testbed.LoopbackStrategyName, "--labels=region=" + name, "--leader-elect"}
}

var (
	env   *testbed.Env
	stack *testbed.Stack
	// ide plays the workspaces' web IDE for the access startup probe.
	ide *httptest.Server
)

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer ide.Close()

	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:          true,
		HubOptions:   testbed.HubOptions{Shards: 2},
		Clusters:     []string{"east", "west"},
		StartTimeout: 10 * time.Minute,
		AfterStart:   setup,
	}, &env))
}

// setup initializes the hub, places acme on root (shard-1 hosts nothing yet), and starts the
// agents (with leader election, to show their per-slice Leases) and the hub controller.
func setup(ctx context.Context, env *testbed.Env) (err error) {
	stack, err = testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{
			{Name: rootOrg, Admins: []string{rootTenant}, Shard: testbed.RootShard},
		},
		AgentArgs:     agentArgs,
		Strategy:      func(string) *computev1alpha1.WorkspaceAccessStrategy { return testbed.LoopbackStrategy(ide.URL, "") },
		HubController: true,
	})
	return err
}
