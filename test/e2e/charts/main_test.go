// Package charts tests the Helm charts against the real test bed: a kcp hub and one compute
// cluster (kube-apiserver, controller-manager, scheduler, kwok). Every rendered object passes a
// server-side dry-run (the API server's own schema and admission checks); the agent chart is
// installed, its Deployment rolls out on kwok nodes (kwok runs no containers, so this proves
// scheduling and admission, not the image), its RBAC is checked verb by verb with the chart's
// ServiceAccount, and the atrium-agent binary runs with the chart's arguments and that
// ServiceAccount's token, registers with the hub and materializes a workspace.
package charts

import (
	"context"
	"os"
	"testing"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

// clusterName is a compute cluster the test bed's hub has an agent identity for.
const clusterName = "north"

var env *testbed.Env

func TestMain(m *testing.M) {
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:      true,
		Clusters: []string{clusterName},
		AfterStart: func(ctx context.Context, env *testbed.Env) error {
			if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
				return err
			}
			return bootstrap.RegisterAgent(ctx, env.Hub.Config, clusterName, testbed.AgentUser(clusterName))
		},
	}, &env))
}
