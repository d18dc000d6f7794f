package testbed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
)

// HubControllerOptions configures StartHubController.
type HubControllerOptions struct {
	// Hub is the kcp hub the controller connects to. Required.
	Hub *Hub
	// Replica distinguishes several replicas (log files and directories).
	Replica string
	// Args are extra atrium-hub flags (e.g. --heartbeat-grace=6s, --deletion-timeout=10s).
	Args []string
	// AddrFlags are more of atrium-hub's flags that take a loopback address (e.g.
	// --pprof-bind-address, a webhook's); the test bed gives each a port it holds, and AddrURL
	// returns it. The health and metrics addresses are always set.
	AddrFlags []string
}

// HubController is a running atrium-hub process (bin/atrium-hub, built by `make build`).
type HubController struct {
	opts HubControllerOptions
	ctrl *controller
}

// StartHubController starts the hub controller with the test bed's identity HubControllerUser
// (group atrium:hub-controllers) on the provider workspace root:atrium, and waits until its
// health endpoint answers.
func StartHubController(ctx context.Context, opts HubControllerOptions) (*HubController, error) {
	if opts.Hub == nil {
		return nil, errors.New("HubControllerOptions.Hub is required")
	}
	bin, err := Binary("atrium-hub")
	if err != nil {
		return nil, fmt.Errorf("%w (or `make build` for atrium-hub)", err)
	}
	name := "atrium-hub"
	if opts.Replica != "" {
		name += "-" + opts.Replica
	}
	dir := filepath.Join(opts.Hub.Dir, name)
	kubeconfig := filepath.Join(dir, "hub.kubeconfig")
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	if err := opts.Hub.WriteKubeconfig(kubeconfig, HubControllerUser, logicalcluster.NewPath("root:atrium")); err != nil {
		return nil, err
	}
	args := append([]string{
		"--hub-kubeconfig=" + kubeconfig,
		"--zap-log-level=debug",
	}, opts.Args...)
	ctrl, err := newController(name, bin, dir, opts.Hub.LogDir(), args, opts.AddrFlags)
	if err != nil {
		return nil, err
	}
	h := &HubController{opts: opts, ctrl: ctrl}
	if err := h.Restart(ctx); err != nil {
		_ = h.Stop()
		return nil, err
	}
	return h, nil
}

// Restart starts the hub controller again (after Kill or Stop) and waits until it is healthy. A
// port that another program took meanwhile is replaced: read the URLs after Restart.
func (h *HubController) Restart(ctx context.Context) error { return h.ctrl.start(ctx) }

// Kill stops the hub controller with SIGKILL, as a crash would.
func (h *HubController) Kill() error { return h.ctrl.proc.kill() }

// Stop stops the hub controller gracefully.
func (h *HubController) Stop() error { return h.ctrl.stop(10 * time.Second) }

// PID returns the hub controller's PID, or 0.
func (h *HubController) PID() int { return h.ctrl.proc.PID() }

// LogPath is the hub controller's log file.
func (h *HubController) LogPath() string { return h.ctrl.proc.logPath }

// MetricsURL is the hub controller's Prometheus endpoint.
func (h *HubController) MetricsURL() string { return h.ctrl.url(h.ctrl.ports.Metrics, "/metrics") }

// AddrURL returns http://<address> of one of HubControllerOptions.AddrFlags, or "" for another
// flag.
func (h *HubController) AddrURL(flag string) string { return h.ctrl.extraURL(flag) }
