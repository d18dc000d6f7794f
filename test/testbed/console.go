package testbed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
)

// ConsoleOptions configures StartConsole.
type ConsoleOptions struct {
	// Hub is the kcp hub the console serves. Required.
	Hub *Hub
	// Port to serve on, on 127.0.0.1; 0 picks a free one.
	Port int
	// Args are extra atrium-console flags.
	Args []string
}

// Console is a running atrium-console process (bin/atrium-console, built by `make build`),
// serving plain HTTP on loopback with token sign-in, as the local platform runs it.
type Console struct {
	opts                 ConsoleOptions
	bin, dir, kubeconfig string
	ports                consolePorts
	proc                 *process
}

// StartConsole starts the console on the hub and waits until it answers. Its hub kubeconfig
// names the hub's server and CA and no user: the console has no identity of its own.
func StartConsole(ctx context.Context, opts ConsoleOptions) (*Console, error) {
	if opts.Hub == nil {
		return nil, errors.New("ConsoleOptions.Hub is required")
	}
	bin, err := Binary("atrium-console")
	if err != nil {
		return nil, fmt.Errorf("%w (or `make build` for atrium-console)", err)
	}
	dir := filepath.Join(opts.Hub.Dir, "atrium-console")
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "hub.kubeconfig")
	anonymous := &rest.Config{Host: opts.Hub.Config.Host, TLSClientConfig: rest.TLSClientConfig{CAData: opts.Hub.Config.CAData}}
	if err := writeKubeconfig(kubeconfig, "hub", anonymous); err != nil {
		return nil, err
	}
	c := &Console{opts: opts, bin: bin, dir: dir, kubeconfig: kubeconfig}
	// A port the caller names (the local platform keeps it across resumes) stays; otherwise
	// both are the test bed's to move when one is taken.
	fresh := opts.Port == 0
	if fresh {
		err = pickPorts(&c.ports, HoldPort)
	} else {
		c.ports.Listen, err = holdPort(opts.Port)
		if err == nil {
			c.ports.Metrics, err = HoldPort()
		}
	}
	if err != nil {
		return nil, err
	}
	c.build()
	if err := startOnPorts(ctx, "atrium-console", fresh, &c.ports, HoldPort, func() error { c.build(); return nil }, c.start, c.Stop); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// consolePorts are the console's listen and metrics ports.
type consolePorts struct{ Listen, Metrics int }

func (p *consolePorts) fields() []*int { return []*int{&p.Listen, &p.Metrics} }

// build (re)creates the process with the current ports.
func (c *Console) build() {
	args := append([]string{
		"--hub-kubeconfig=" + c.kubeconfig,
		"--listen-address=127.0.0.1:" + itoa(c.ports.Listen),
		"--public-url=" + c.URL(),
		"--insecure-cookies",
		"--auth=token",
		"--metrics-bind-address=127.0.0.1:" + itoa(c.ports.Metrics),
		"--zap-log-level=info",
	}, c.opts.Args...)
	c.proc = newProcess("atrium-console", c.bin, c.dir, c.opts.Hub.LogDir(), portValues(&c.ports), args...)
}

// Restart starts the console again (after Kill or Stop) on its ports and waits until it answers.
func (c *Console) Restart(ctx context.Context) error { return c.start(ctx) }

func (c *Console) start(ctx context.Context) error {
	if err := c.proc.launch(ctx); err != nil {
		return err
	}
	url := c.URL() + "/healthz"
	return waitFor(ctx, "atrium-console /healthz", 100*time.Millisecond, []*process{c.proc}, func(ctx context.Context) (bool, error) {
		body, err := httpGet(ctx, url)
		return err == nil && body == "ok", err
	})
}

// URL is where browsers reach the console.
func (c *Console) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", c.ports.Listen) }

// MetricsURL is the console's Prometheus endpoint.
func (c *Console) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", c.ports.Metrics)
}

// Kill stops the console with SIGKILL.
func (c *Console) Kill() error { return c.proc.kill() }

// Stop stops the console gracefully.
func (c *Console) Stop() error { return c.proc.stop(10 * time.Second) }

// PID returns the console's PID, or 0.
func (c *Console) PID() int { return c.proc.PID() }

// LogPath is the console's log file.
func (c *Console) LogPath() string { return c.proc.logPath }
