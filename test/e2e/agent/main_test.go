// Package agent tests the agent end to end on the real test bed: a kcp hub with two
// organizations and two compute clusters (east, west), each with its atrium-agent process.
// Until the hub controller places workspaces, tests write status.placement as the hub would.
package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
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

var (
	env    *testbed.Env
	agents = map[string]*testbed.Agent{}
	// ide plays the workspaces' web IDE for the access startup probe: it answers 200 unless
	// failing is set.
	ide     *httptest.Server
	failing atomic.Bool
)

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() || strings.Contains(r.URL.Path, "/broken/") {
			http.Error(w, "IDE not up", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer ide.Close()

	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:      true,
		Clusters: []string{"east", "west"},
		ClusterOptions: func(name string) testbed.ComputeClusterOptions {
			return testbed.ComputeClusterOptions{Nodes: 2, NodeLabels: map[string]string{"topology.kubernetes.io/region": name}}
		},
		AfterStart: setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return err
	}
	for org, admin := range map[string]string{"acme": "alice", "beta": "bob"} {
		if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, bootstrap.OrgOptions{Admins: []string{admin}}); err != nil {
			return err
		}
	}
	for _, name := range []string{"east", "west"} {
		cluster := env.Cluster(name)
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, testbed.AgentUser(name)); err != nil {
			return err
		}
		args := []string{"--heartbeat-period=2s", "--default-access-strategy=loopback", "--labels=region=" + name, "--resync-period=5s"}
		if name == "east" {
			// east runs two replicas that elect a leader.
			args = append(args, "--leader-elect")
			b, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: cluster, Replica: "b", Args: args})
			if err != nil {
				return err
			}
			agents["east-b"] = b
		}
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: cluster, Args: args})
		if err != nil {
			return err
		}
		agents[name] = a
		if err := installStrategy(ctx, cluster); err != nil {
			return err
		}
	}
	return nil
}

// strategy renders one ConfigMap per workspace carrying tenant data, and points the access URL
// and the startup probe at the ide server.
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
        annotations:
          display-name: {{ .Workspace.DisplayName }}
          team: {{ index .Workspace.Labels "team" | default "none" }}
          note: {{ index .Workspace.Annotations "note" | default "none" }}
      data:
        service: "{{ .Service.Name }}.{{ .Service.Namespace }}:{{ .Service.Port }}"
        origin: "{{ .Workspace.OriginCluster }}/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}"
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
	// The agent installs the compute CRDs when it starts; wait for them to be served.
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
