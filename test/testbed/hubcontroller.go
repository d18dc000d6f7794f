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
}

// HubController is a running atrium-hub process (bin/atrium-hub, built by `make build`).
type HubController struct {
	opts        HubControllerOptions
	proc        *process
	healthPort  int
	metricsPort int
	webhookPort int
	webhook     *webhookCerts
}

// StartHubController starts the hub controller with the test bed's identity HubControllerUser
// (group atrium:hub-controllers) on the provider workspace root:atrium, waits until its health
// endpoint answers, and configures its admission webhooks in root:atrium (served on loopback
// with a certificate of the hub controller's own CA; kcp runs on loopback too) and waits until
// kcp calls them.
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
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	certs, err := ensureWebhookCerts(filepath.Join(dir, "webhook"))
	if err != nil {
		return nil, err
	}
	h := &HubController{opts: opts, healthPort: ports[0], metricsPort: ports[1], webhookPort: ports[2], webhook: certs}
	args := append([]string{
		"--hub-kubeconfig=" + kubeconfig,
		"--health-probe-bind-address=127.0.0.1:" + itoa(h.healthPort),
		"--metrics-bind-address=127.0.0.1:" + itoa(h.metricsPort),
		"--webhook-bind-address=127.0.0.1:" + itoa(h.webhookPort),
		"--webhook-cert-dir=" + certs.Dir,
		"--zap-log-level=debug",
	}, opts.Args...)
	h.proc = newProcess(name, bin, dir, opts.Hub.LogDir(), args...)
	if err := h.Restart(ctx); err != nil {
		_ = h.Stop()
		return nil, err
	}
	if err := configureWebhooks(ctx, opts.Hub, h.WebhookURL(), certs.CAData); err != nil {
		_ = h.Stop()
		return nil, err
	}
	return h, nil
}

// Restart starts the hub controller again (after Kill or Stop) and waits until it is ready:
// /readyz answers once the webhook server serves too.
func (h *HubController) Restart(ctx context.Context) error {
	if err := h.proc.start(); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", h.healthPort)
	return waitFor(ctx, h.proc.name+" /readyz", 100*time.Millisecond, []*process{h.proc}, func(ctx context.Context) (bool, error) {
		body, err := httpGet(ctx, url)
		return err == nil && body == "ok", err
	})
}

// WebhookURL is the base URL of the hub controller's admission webhooks, as configured in
// root:atrium.
func (h *HubController) WebhookURL() string {
	return fmt.Sprintf("https://127.0.0.1:%d", h.webhookPort)
}

// Kill stops the hub controller with SIGKILL, as a crash would.
func (h *HubController) Kill() error { return h.proc.kill() }

// Stop stops the hub controller gracefully.
func (h *HubController) Stop() error { return h.proc.stop(10 * time.Second) }

// PID returns the hub controller's PID, or 0.
func (h *HubController) PID() int { return h.proc.PID() }

// LogPath is the hub controller's log file.
func (h *HubController) LogPath() string { return h.proc.logPath }

// MetricsURL is the hub controller's Prometheus endpoint.
func (h *HubController) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", h.metricsPort)
}
