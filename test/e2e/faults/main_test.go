// Package faults is Atrium's fault suite: it breaks real processes of the test bed (a kcp hub,
// two compute clusters, their agents and the hub controller) while workspaces are being
// created, stopped, started and deleted, lets the platform converge, and walks both sides with
// the Checker, which must find nothing out of place. It also sends hostile manifests to the
// hub and checks that they are answered and that nothing stops running.
//
// West's agent reaches the hub through a TCPProxy, so the suite can partition west from the
// hub; east's agent is replaced by two leader-electing replicas for the leader-loss fault.
//
// By default a short form runs (small counts, the faults marked short; part of `make test`);
// ATRIUM_FAULTS=full runs every fault with larger counts (`make test-faults`). Both print the
// table of faults, workspaces and divergences.
package faults

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	org    = "acme"
	tenant = "alice"
)

var (
	env    *testbed.Env
	agents map[string]*testbed.Agent
	hubCtl *testbed.HubController
	// orgCluster is the logical cluster name of org.
	orgCluster string
	// ide plays the workspaces' web IDE for the access startup probe.
	ide *httptest.Server
	// full selects the full suite (ATRIUM_FAULTS=full).
	full = os.Getenv("ATRIUM_FAULTS") == "full"
	// hubProxy carries every hub connection of west's agent, so a fault can partition west
	// from the hub (Cut) and heal it.
	hubProxy *testbed.TCPProxy
)

// agentArgs are the flags of a cluster's agents: fast heartbeats and resyncs, the loopback
// access strategy, and a label naming the cluster for cluster selectors.
func agentArgs(cluster string) []string {
	return []string{"--heartbeat-period=1s", "--default-access-strategy=loopback", "--resync-period=5s",
		"--labels=" + clusterLabel + "=" + cluster}
}

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer ide.Close()

	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:      true,
		Clusters: []string{"east", "west"},
		ClusterOptions: func(string) testbed.ComputeClusterOptions {
			return testbed.ComputeClusterOptions{Nodes: 1, NodeCPU: "32", NodeMemory: "64Gi"}
		},
		AfterStart: setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	var err error
	if hubProxy, err = testbed.StartTCPProxy(); err != nil {
		return err
	}
	stack, err := testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs:      []testbed.Org{{Name: org, Admins: []string{tenant}}},
		AgentArgs: agentArgs,
		AgentHubProxy: func(cluster string) string {
			if cluster == "west" {
				return hubProxy.URL()
			}
			return ""
		},
		Strategy:      func(string) *computev1alpha1.WorkspaceAccessStrategy { return testbed.LoopbackStrategy(ide.URL, "") },
		HubController: true,
		HubArgs:       []string{"--heartbeat-grace=20s", "--deletion-timeout=2m"},
	})
	if err != nil {
		return err
	}
	agents, hubCtl, orgCluster = stack.Agents, stack.HubController, stack.Orgs[org].Cluster
	return nil
}
