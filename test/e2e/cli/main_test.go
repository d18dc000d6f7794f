// Package cli tests the `atrium` command line end to end on the real test bed: a kcp hub with
// two organizations (acme: alice; beta: bob), one compute cluster (east) with its agent and a
// loopback access strategy, and the hub controller placing workspaces. Commands run in-process
// through cli.NewRootCommand, and once through the built binaries for exit codes and the
// kubectl plugin.
package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
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

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, workspacesv1alpha1.AddToScheme, computev1alpha1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

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
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return err
	}
	for org, admin := range map[string]string{"acme": "alice", "beta": "bob"} {
		if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, bootstrap.OrgOptions{Admins: []string{admin}}); err != nil {
			return err
		}
	}
	east := env.Cluster("east")
	if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, "east", testbed.AgentUser("east")); err != nil {
		return err
	}
	if _, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: east, Args: []string{
		"--heartbeat-period=2s", "--default-access-strategy=loopback", "--region=eu-east", "--resync-period=5s",
	}}); err != nil {
		return err
	}
	if err := installStrategy(ctx, east); err != nil {
		return err
	}
	if _, err := testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub}); err != nil {
		return err
	}
	kubeconfigs = filepath.Join(env.Dir, "kubeconfigs")
	if err := os.MkdirAll(kubeconfigs, 0o755); err != nil {
		return err
	}
	return east.WriteKubeconfig(filepath.Join(kubeconfigs, "cluster-east.kubeconfig"), "admin")
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
