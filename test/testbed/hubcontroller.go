package testbed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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
	// webhook is the serving certificate of the webhook server; configured is the webhook URL
	// last written into root:atrium.
	webhook    *webhookCerts
	configured string
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
	certs, err := ensureWebhookCerts(filepath.Join(dir, "webhook"))
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--hub-kubeconfig=" + kubeconfig,
		"--webhook-cert-dir=" + certs.Dir,
		"--zap-log-level=debug",
	}, opts.Args...)
	addrFlags := opts.AddrFlags
	if !slices.Contains(addrFlags, webhookAddrFlag) {
		addrFlags = append(slices.Clone(addrFlags), webhookAddrFlag)
	}
	ctrl, err := newController(name, bin, dir, opts.Hub.LogDir(), args, addrFlags)
	if err != nil {
		return nil, err
	}
	h := &HubController{opts: opts, ctrl: ctrl, webhook: certs}
	if err := h.Restart(ctx); err != nil {
		_ = h.Stop()
		return nil, err
	}
	return h, nil
}

// Restart starts the hub controller again (after Kill or Stop) and waits until it is ready
// (/readyz answers once the webhook server serves too). A port that another program took
// meanwhile is replaced: read the URLs after Restart; a new webhook port is written into
// root:atrium's webhook configurations.
func (h *HubController) Restart(ctx context.Context) error {
	if err := h.ctrl.start(ctx); err != nil {
		return err
	}
	readyz := h.ctrl.url(h.ctrl.ports.Health, "/readyz")
	if err := waitFor(ctx, h.ctrl.name+" /readyz", 100*time.Millisecond, []*process{h.ctrl.proc}, func(ctx context.Context) (bool, error) {
		body, err := httpGet(ctx, readyz)
		return err == nil && body == "ok", err
	}); err != nil {
		return err
	}
	if url := h.WebhookURL(); url != h.configured {
		if err := configureWebhooks(ctx, h.opts.Hub, url, h.webhook.CAData); err != nil {
			return err
		}
		h.configured = url
	}
	return nil
}

// WebhookURL is the base URL of the hub controller's admission webhooks, as configured in
// root:atrium.
func (h *HubController) WebhookURL() string {
	return "https://" + strings.TrimPrefix(h.ctrl.extraURL(webhookAddrFlag), "http://")
}

// webhookAddrFlag is atrium-hub's flag of the webhook server's address.
const webhookAddrFlag = "--webhook-bind-address"

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
