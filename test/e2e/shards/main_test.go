// Package shards tests Atrium on a sharded hub, the way a large installation runs it: a kcp
// cache server, two shards (root and shard-1) behind a kcp-front-proxy, two compute clusters
// (east and west) with one agent each following every shard of the export's endpoint slice,
// and the hub controller. The organization acme lives on root (tenant alice), globex on
// shard-1 (tenant bob); everything reaches the hub through the front proxy.
package shards

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	// rootOrg lives on the root shard, shardOrg on shard-1.
	rootOrg, rootTenant   = "acme", "alice"
	shardOrg, shardTenant = "globex", "bob"
	otherShard            = "shard-1"
)

var (
	env    *testbed.Env
	agents = map[string]*testbed.Agent{}
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

// setup initializes the hub, places one organization on each shard, and starts the agents
// (with leader election, to show their per-slice Leases) and the hub controller.
func setup(ctx context.Context, env *testbed.Env) error {
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return fmt.Errorf("hub init: %w", err)
	}
	for _, o := range []struct{ name, shard, admin string }{
		{rootOrg, testbed.RootShard, rootTenant},
		{shardOrg, otherShard, shardTenant},
	} {
		if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, o.name, bootstrap.OrgOptions{Admins: []string{o.admin}, Shard: o.shard}); err != nil {
			return fmt.Errorf("creating org %s on shard %s: %w", o.name, o.shard, err)
		}
	}
	for _, name := range []string{"east", "west"} {
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, testbed.AgentUser(name)); err != nil {
			return err
		}
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: env.Cluster(name), Args: []string{
			"--heartbeat-period=1s", "--default-access-strategy=" + strategyName, "--labels=region=" + name, "--leader-elect",
		}})
		if err != nil {
			return err
		}
		agents[name] = a
		if err := installStrategy(ctx, env.Cluster(name), ide.URL); err != nil {
			return err
		}
	}
	if _, err := testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub}); err != nil {
		return err
	}
	return nil
}
