// Package agent tests the agent end to end on the real test bed: a kcp hub with two
// organizations and two compute clusters (east, west), each with its atrium-agent process.
// Until the hub controller places workspaces, tests write status.placement as the hub would.
package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

var (
	env    *testbed.Env
	agents map[string]*testbed.Agent
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
	stack, err := testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{{Name: "acme", Admins: []string{"alice"}}, {Name: "beta", Admins: []string{"bob"}}},
		// east runs two replicas that elect a leader.
		Agents: map[string][]string{"east": {"b", ""}},
		AgentArgs: func(name string) []string {
			args := []string{"--heartbeat-period=2s", "--default-access-strategy=loopback", "--labels=region=" + name, "--resync-period=5s"}
			if name == "east" {
				args = append(args, "--leader-elect")
			}
			return args
		},
		Strategy: func(string) *computev1alpha1.WorkspaceAccessStrategy {
			return testbed.LoopbackStrategy(ide.URL, accessConfigMap)
		},
	})
	if err != nil {
		return err
	}
	agents = stack.Agents
	return nil
}

// accessConfigMap is the access resource: it carries tenant-controlled strings (display name,
// a label, an annotation) so the tests can check they arrive verbatim and never as YAML.
const accessConfigMap = `apiVersion: v1
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
`
