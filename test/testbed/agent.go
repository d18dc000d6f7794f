package testbed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
)

// AgentOptions configures StartAgent.
type AgentOptions struct {
	// Hub and Cluster are the hub and compute cluster the agent connects. Required.
	Hub     *Hub
	Cluster *ComputeCluster
	// Replica distinguishes several replicas of one cluster's agent (log and port files).
	Replica string
	// Args are extra atrium-agent flags (e.g. --leader-elect, --default-access-strategy).
	Args []string
	// HubProxy, when set, is the URL of an HTTP CONNECT proxy (a TCPProxy) the agent reaches
	// the hub through: its hub kubeconfig names it as proxy-url, so every hub connection, to
	// the provider workspace and to the virtual workspaces alike, can be cut there.
	HubProxy string
}

// Agent is a running atrium-agent process (bin/atrium-agent, built by `make build`).
type Agent struct {
	opts        AgentOptions
	proc        *process
	healthPort  int
	metricsPort int
}

// StartAgent starts the agent of opts.Cluster with the test bed's identities (AgentUser on the
// hub, ComputeAgentUser on the compute cluster) and waits until its health endpoint answers.
func StartAgent(ctx context.Context, opts AgentOptions) (*Agent, error) {
	if opts.Hub == nil || opts.Cluster == nil {
		return nil, errors.New("AgentOptions.Hub and Cluster are required")
	}
	bin, err := Binary("atrium-agent")
	if err != nil {
		return nil, fmt.Errorf("%w (or `make build` for atrium-agent)", err)
	}
	name := "agent-" + opts.Cluster.Name
	if opts.Replica != "" {
		name += "-" + opts.Replica
	}
	dir := filepath.Join(opts.Cluster.Dir, name)
	hubKubeconfig := filepath.Join(dir, "hub.kubeconfig")
	localKubeconfig := filepath.Join(dir, "local.kubeconfig")
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	if err := opts.Hub.WriteKubeconfig(hubKubeconfig, AgentUser(opts.Cluster.Name), logicalcluster.NewPath("root:atrium")); err != nil {
		return nil, err
	}
	if opts.HubProxy != "" {
		if err := setKubeconfigProxy(hubKubeconfig, opts.HubProxy); err != nil {
			return nil, err
		}
	}
	if err := opts.Cluster.WriteKubeconfig(localKubeconfig, ComputeAgentUser); err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, healthPort: ports[0], metricsPort: ports[1]}
	args := append([]string{
		"--cluster-name=" + opts.Cluster.Name,
		"--hub-kubeconfig=" + hubKubeconfig,
		"--kubeconfig=" + localKubeconfig,
		"--health-probe-bind-address=127.0.0.1:" + itoa(a.healthPort),
		"--metrics-bind-address=127.0.0.1:" + itoa(a.metricsPort),
		"--zap-log-level=debug",
	}, opts.Args...)
	a.proc = newProcess(name, bin, dir, opts.Cluster.LogDir(), args...)
	if err := a.Restart(ctx); err != nil {
		_ = a.Stop()
		return nil, err
	}
	return a, nil
}

// Restart starts the agent again (after Kill or Stop) and waits until it is healthy.
func (a *Agent) Restart(ctx context.Context) error {
	if err := a.proc.start(); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", a.healthPort)
	return waitFor(ctx, a.proc.name+" /healthz", 100*time.Millisecond, []*process{a.proc}, func(ctx context.Context) (bool, error) {
		body, err := httpGet(ctx, url)
		return err == nil && body == "ok", err
	})
}

// Kill stops the agent with SIGKILL, as a crash would.
func (a *Agent) Kill() error { return a.proc.kill() }

// Stop stops the agent gracefully.
func (a *Agent) Stop() error { return a.proc.stop(10 * time.Second) }

// PID returns the agent's PID, or 0.
func (a *Agent) PID() int { return a.proc.PID() }

// LogPath is the agent's log file.
func (a *Agent) LogPath() string { return a.proc.logPath }

// ReadyURL is the agent's /readyz endpoint (not ready while its heartbeats fail).
func (a *Agent) ReadyURL() string { return fmt.Sprintf("http://127.0.0.1:%d/readyz", a.healthPort) }

// MetricsURL is the agent's Prometheus endpoint.
func (a *Agent) MetricsURL() string { return fmt.Sprintf("http://127.0.0.1:%d/metrics", a.metricsPort) }
