// Package hub tests the hub controller end to end on the real test bed: a kcp hub with one
// organization, two compute clusters (east: large; west: one small node) with their agents, and
// the atrium-hub process with short periods (heartbeat grace 6 s, deletion timeout 10 s, agent
// heartbeat 1 s). Nothing places workspaces but the hub controller.
package hub

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
	heartbeatGrace  = 6 * time.Second
	deletionTimeout = 10 * time.Second
	org             = "acme"
	tenant          = "alice"
)

var (
	env    *testbed.Env
	agents = map[string]*testbed.Agent{}
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
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return err
	}
	if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, bootstrap.OrgOptions{Admins: []string{tenant}}); err != nil {
		return err
	}
	for _, name := range []string{"east", "west"} {
		cluster := env.Cluster(name)
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, testbed.AgentUser(name)); err != nil {
			return err
		}
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: cluster, Args: []string{
			"--heartbeat-period=1s", "--default-access-strategy=loopback", "--labels=region=" + name, "--resync-period=5s",
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
		"--heartbeat-grace=" + heartbeatGrace.String(), "--deletion-timeout=" + deletionTimeout.String(),
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
