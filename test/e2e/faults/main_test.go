// Package faults is Atrium's fault suite: it breaks real processes of the test bed (a kcp hub,
// two compute clusters, their agents and the hub controller) while workspaces are being
// created, stopped, started and deleted, lets the platform converge, and walks both sides with
// the Checker, which must find nothing out of place. It also sends hostile manifests to the
// hub and checks that they are answered and that nothing stops running.
//
// By default a short form runs (agent SIGKILL during a create storm and during deletes, rapid
// stop/start flips; small counts; part of `make test`); ATRIUM_FAULTS=full runs every fault with
// larger counts (`make test-faults`) and prints the table of faults, workspaces and divergences.
//
// Not covered yet: a compute cluster's etcd restart, a hub partition through a TCP proxy
// between agent and hub (longer than the heartbeat grace), and leader loss between two agent
// replicas.
package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	org    = "acme"
	tenant = "alice"
)

var (
	env    *testbed.Env
	agents = map[string]*testbed.Agent{}
	hubCtl *testbed.HubController
	// orgCluster is the logical cluster name of org.
	orgCluster string
	// ide plays the workspaces' web IDE for the access startup probe.
	ide *httptest.Server
	// full selects the full suite (ATRIUM_FAULTS=full).
	full = os.Getenv("ATRIUM_FAULTS") == "full"
)

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
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return err
	}
	o, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, bootstrap.OrgOptions{Admins: []string{tenant}})
	if err != nil {
		return err
	}
	orgCluster = o.Cluster
	for _, name := range []string{"east", "west"} {
		cluster := env.Cluster(name)
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, testbed.AgentUser(name)); err != nil {
			return err
		}
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: cluster, Args: []string{
			"--heartbeat-period=1s", "--default-access-strategy=loopback", "--resync-period=5s",
		}})
		if err != nil {
			return err
		}
		agents[name] = a
		if err := installStrategy(ctx, cluster); err != nil {
			return err
		}
	}
	h, err := testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub, Args: []string{
		"--heartbeat-grace=20s", "--deletion-timeout=2m",
	}})
	if err != nil {
		return err
	}
	hubCtl = h
	return nil
}

func strategy() string {
	return fmt.Sprintf(`
apiVersion: compute.atrium.dev/v1alpha1
kind: WorkspaceAccessStrategy
metadata:
  name: loopback
spec:
  displayName: Loopback (test)
  accessResourceTemplates:
  - kind: ConfigMap
    apiVersion: v1
    namePrefix: access
    template: |
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: whatever
      data:
        service: "{{ .Service.Name }}.{{ .Service.Namespace }}:{{ .Service.Port }}"
  accessURLTemplate: "%[1]s/workspaces/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}/"
  accessStartupProbe:
    httpGet:
      urlTemplate: "%[1]s/workspaces/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}/api/status"
    periodSeconds: 1
    timeoutSeconds: 2
    failureThreshold: 3
`, ide.URL)
}

func installStrategy(ctx context.Context, cluster *testbed.ComputeCluster) error {
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(ctx, client.ObjectKey{Name: "workspaceaccessstrategies.compute.atrium.dev"}, crd); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return fmt.Errorf("compute CRDs not established on %s: %w", cluster.Name, err)
	}
	s := &computev1alpha1.WorkspaceAccessStrategy{}
	if err := yaml.UnmarshalStrict([]byte(strategy()), s); err != nil {
		return err
	}
	return c.Create(ctx, s)
}
