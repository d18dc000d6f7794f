// Package hubpolicy tests the hub's owner, sharing, per-user limit, idle and lifetime
// controllers end to end on the real test bed: a kcp hub with one organization (alice admin,
// bob member), one compute cluster (east) with its agent, and the atrium-hub process with one
// policy "minute" lasting one second (--time-unit=1s). A loopback HTTP server plays every
// workspace's IDE: it answers the access probe and reports each workspace's last activity.
package hubpolicy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
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
	org     = "acme"
	admin   = "alice"
	member  = "bob"
	cluster = "east"
)

var (
	env *testbed.Env
	ide *httptest.Server
	// activity is what the IDE reports as last activity, by workspace name; unset: now.
	activity   = map[string]time.Time{}
	activityMu sync.Mutex
)

// setActivity makes the IDE of workspace name report t as its last activity.
func setActivity(name string, t time.Time) {
	activityMu.Lock()
	defer activityMu.Unlock()
	activity[name] = t
}

// serveIDE answers /workspaces/<namespace>/<name>/... like JupyterLab's /api/status.
func serveIDE(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	last := time.Now()
	if len(parts) >= 3 {
		activityMu.Lock()
		if t, ok := activity[parts[2]]; ok {
			last = t
		}
		activityMu.Unlock()
	}
	_, _ = fmt.Fprintf(w, `{"started":"2026-01-01T00:00:00.000000Z","last_activity":%q,"connections":1,"kernels":1}`, last.UTC().Format(time.RFC3339Nano))
}

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(serveIDE))
	defer ide.Close()
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:            true,
		Clusters:       []string{cluster},
		ClusterOptions: func(string) testbed.ComputeClusterOptions { return testbed.ComputeClusterOptions{Nodes: 2} },
		AfterStart:     setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return err
	}
	if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, bootstrap.OrgOptions{Admins: []string{admin}, Members: []string{member}}); err != nil {
		return err
	}
	c := env.Cluster(cluster)
	if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, cluster, testbed.AgentUser(cluster)); err != nil {
		return err
	}
	if _, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: c, Args: []string{
		"--heartbeat-period=1s", "--default-access-strategy=loopback", "--resync-period=1s",
	}}); err != nil {
		return err
	}
	if err := installStrategy(ctx, c); err != nil {
		return err
	}
	_, err := testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub, Args: []string{"--time-unit=1s"}})
	return err
}

// strategy renders one ConfigMap per workspace that carries the allow-lists, as an
// authenticating proxy's configuration would, and points the access URL at the IDE.
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
        accessType: {{ quote .Workspace.AccessType }}
        owner: {{ quote .Workspace.Owner }}
        allowedUsers: {{ quote (join "," .Workspace.AllowedUsers) }}
        allowedGroups: {{ quote (join "," .Workspace.AllowedGroups) }}
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
