// Package cli tests the `atrium` command line end to end on the real test bed: a kcp hub with
// two organizations (acme: alice; beta: bob), one compute cluster (east) with its agent and a
// loopback access strategy, and the hub controller placing workspaces. Commands run in-process
// through cli.NewRootCommand, and once through the built binaries for exit codes and the
// kubectl plugin.
package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

const image = "quay.io/jupyter/base-notebook:2025-06-01"

var (
	env *testbed.Env
	// ide plays the workspaces' web IDE for the access startup probe.
	ide *httptest.Server
	// kubeconfigs holds cluster-east.kubeconfig, laid out like `atrium dev up`'s state dir.
	kubeconfigs string
)

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer ide.Close()

	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:        true,
		Clusters:   []string{"east"},
		AfterStart: setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	if _, err := testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{{Name: "acme", Admins: []string{"alice"}}, {Name: "beta", Admins: []string{"bob"}}},
		AgentArgs: func(string) []string {
			return []string{"--heartbeat-period=2s", "--default-access-strategy=loopback", "--region=eu-east", "--resync-period=5s"}
		},
		Strategy:      func(string) *computev1alpha1.WorkspaceAccessStrategy { return testbed.LoopbackStrategy(ide.URL, "") },
		HubController: true,
	}); err != nil {
		return err
	}
	kubeconfigs = filepath.Join(env.Dir, "kubeconfigs")
	if err := os.MkdirAll(kubeconfigs, 0o755); err != nil {
		return err
	}
	return env.Cluster("east").WriteKubeconfig(filepath.Join(kubeconfigs, "cluster-east.kubeconfig"), "admin")
}
