package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

// Clusters are the compute clusters of the benchmark stack. Their names are ones the test
// bed's hub already knows agent identities for.
var Clusters = []string{"east", "west"}

// Tenant creates every benchmark workspace; it is an administrator of every benchmark org.
const Tenant = "alice"

const (
	// heartbeatPeriod is the agents' heartbeat period: short, so a resumed status sync shows
	// within seconds, long enough not to weigh on the hub.
	heartbeatPeriod = 2 * time.Second
	strategyName    = testbed.LoopbackStrategyName
)

var scheme = testbed.Scheme

// EnvOptions is the test bed of the benchmarks: a kcp hub and two compute clusters with
// enough kwok capacity for BENCH_N workspaces (4 nodes × 64 CPU × 256Gi × 1,000 pods each).
func EnvOptions(afterStart func(context.Context, *testbed.Env) error) testbed.EnvOptions {
	return testbed.EnvOptions{
		Hub:      true,
		Clusters: Clusters,
		ClusterOptions: func(string) testbed.ComputeClusterOptions {
			return testbed.ComputeClusterOptions{Nodes: 4, NodeCPU: "64", NodeMemory: "256Gi", NodePods: 1000}
		},
		StartTimeout: 10 * time.Minute,
		AfterStart:   afterStart,
	}
}

// Stack is the platform under measurement on a started test bed: the hub controller, one agent
// per compute cluster with a loopback access strategy, and an httptest server playing every
// workspace's IDE for the access startup probe.
type Stack struct {
	Env           *testbed.Env
	Agents        map[string]*testbed.Agent
	HubController *testbed.HubController
	// Pprof are the pprof base URLs (http://127.0.0.1:port) of the measured processes, by
	// process name ("agent-east", "hub-controller").
	Pprof map[string]string
	ide   *httptest.Server
}

// pprofFlag is the flag of a measured process's pprof endpoint; the test bed gives it a port.
const pprofFlag = "--pprof-bind-address"

// StartStack bootstraps the hub and starts the hub controller and the agents on env, the way
// test/e2e/hub and `atrium dev up` do.
func StartStack(ctx context.Context, env *testbed.Env) (*Stack, error) {
	s := &Stack{Env: env, Agents: map[string]*testbed.Agent{}, Pprof: map[string]string{}}
	s.ide = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return nil, fmt.Errorf("failed to bootstrap the hub: %w", err)
	}
	for _, name := range Clusters {
		cluster := env.Cluster(name)
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, testbed.AgentUser(name)); err != nil {
			return nil, fmt.Errorf("failed to register the agent of %s: %w", name, err)
		}
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: cluster, Args: []string{
			"--heartbeat-period=" + heartbeatPeriod.String(), "--default-access-strategy=" + strategyName,
			"--labels=region=" + name, "--zap-log-level=info",
		}, AddrFlags: []string{pprofFlag}})
		if err != nil {
			return nil, err
		}
		s.Agents[name] = a
		s.Pprof["agent-"+name] = a.AddrURL(pprofFlag)
		if err := testbed.InstallAccessStrategy(ctx, cluster, testbed.LoopbackStrategy(s.ide.URL, ""), a); err != nil {
			return nil, err
		}
	}
	h, err := testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub, Args: []string{"--zap-log-level=info"}, AddrFlags: []string{pprofFlag}})
	if err != nil {
		return nil, err
	}
	s.HubController = h
	s.Pprof["hub-controller"] = h.AddrURL(pprofFlag)
	return s, nil
}

// Close stops the IDE stand-in; the processes belong to the test bed.
func (s *Stack) Close() {
	if s.ide != nil {
		s.ide.Close()
	}
}

// EnsureOrgs creates the organizations bench-0 … bench-<n-1> (Tenant administers them) and
// returns their names.
func (s *Stack) EnsureOrgs(ctx context.Context, n int) ([]string, error) {
	existing, err := bootstrap.ListOrgs(ctx, s.Env.Hub.Config)
	if err != nil {
		return nil, fmt.Errorf("failed to list organizations: %w", err)
	}
	have := map[string]bool{}
	for _, o := range existing {
		have[o.Name] = true
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%d", i)
		if have[names[i]] {
			continue
		}
		if _, err := bootstrap.CreateOrg(ctx, s.Env.Hub.Config, names[i], bootstrap.OrgOptions{Admins: []string{Tenant}}); err != nil {
			return nil, fmt.Errorf("failed to create organization %s: %w", names[i], err)
		}
	}
	return names, nil
}
