// Package hub tests the hub controller end to end on the real test bed: a kcp hub with one
// organization, two compute clusters (east: large; west: one small node) with their agents, and
// the atrium-hub process with short periods (heartbeat grace 6 s, deletion timeout 10 s, agent
// heartbeat 1 s). Nothing places workspaces but the hub controller.
package hub

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
	heartbeatGrace  = 6 * time.Second
	deletionTimeout = 10 * time.Second
	org             = "acme"
	tenant          = "alice"
)

var (
	env    *testbed.Env
	agents map[string]*testbed.Agent
	hubCtl *testbed.HubController
	// ide plays the workspaces' web IDE for the access startup probe.
	ide *httptest.Server
)

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer ide.Close()

	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:      true,
		Clusters: []string{"east", "west"},
		ClusterOptions: func(name string) testbed.ComputeClusterOptions {
			if name == "west" {
				// One small node: west fills up quickly.
				return testbed.ComputeClusterOptions{Nodes: 1, NodeCPU: "2", NodeMemory: "8Gi"}
			}
			return testbed.ComputeClusterOptions{Nodes: 2}
		},
		AfterStart: setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	stack, err := testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{{Name: org, Admins: []string{tenant}}},
		AgentArgs: func(name string) []string {
			return []string{"--heartbeat-period=1s", "--default-access-strategy=loopback", "--labels=region=" + name, "--resync-period=5s"}
		},
		Strategy:      func(string) *computev1alpha1.WorkspaceAccessStrategy { return testbed.LoopbackStrategy(ide.URL, "") },
		HubController: true,
		HubArgs:       []string{"--heartbeat-grace=" + heartbeatGrace.String(), "--deletion-timeout=" + deletionTimeout.String()},
	})
	if err != nil {
		return err
	}
	agents, hubCtl = stack.Agents, stack.HubController
	return nil
}
