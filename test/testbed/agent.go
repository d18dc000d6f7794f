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
	// AddrFlags are more of the agent's flags that take a loopback address (e.g.
	// --pprof-bind-address); the test bed gives each a port it holds, and AddrURL returns it.
	// The health and metrics addresses are always set.
	AddrFlags []string
}

// Agent is a running atrium-agent process (bin/atrium-agent, built by `make build`).
type Agent struct {
	opts AgentOptions
	ctrl *controller
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
	args := append([]string{
		"--cluster-name=" + opts.Cluster.Name,
		"--hub-kubeconfig=" + hubKubeconfig,
		"--kubeconfig=" + localKubeconfig,
		"--zap-log-level=debug",
	}, opts.Args...)
	ctrl, err := newController(name, bin, dir, opts.Cluster.LogDir(), args, opts.AddrFlags)
	if err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, ctrl: ctrl}
	if err := a.Restart(ctx); err != nil {
		_ = a.Stop()
		return nil, err
	}
	return a, nil
}

// Restart starts the agent again (after Kill or Stop) and waits until it is healthy. A port of
// the agent that another program took meanwhile is replaced: read the URLs after Restart.
func (a *Agent) Restart(ctx context.Context) error { return a.ctrl.start(ctx) }

// Kill stops the agent with SIGKILL, as a crash would.
func (a *Agent) Kill() error { return a.ctrl.proc.kill() }

// Stop stops the agent gracefully.
func (a *Agent) Stop() error { return a.ctrl.stop(10 * time.Second) }

// PID returns the agent's PID, or 0.
func (a *Agent) PID() int { return a.ctrl.proc.PID() }

// LogPath is the agent's log file.
func (a *Agent) LogPath() string { return a.ctrl.proc.logPath }

// ReadyURL is the agent's /readyz endpoint (not ready while its heartbeats fail).
func (a *Agent) ReadyURL() string { return a.ctrl.url(a.ctrl.ports.Health, "/readyz") }

// MetricsURL is the agent's Prometheus endpoint.
func (a *Agent) MetricsURL() string { return a.ctrl.url(a.ctrl.ports.Metrics, "/metrics") }

// AddrURL returns http://<address> of one of AgentOptions.AddrFlags, or "" for another flag.
func (a *Agent) AddrURL(flag string) string { return a.ctrl.extraURL(flag) }
