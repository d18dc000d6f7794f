package testbed

import (
	"context"
	"fmt"
	"time"
)

// controllerPorts are the ports of an Atrium controller process (an agent, the hub controller):
// its health probes, its metrics and one per extra address flag (ExtraAddrFlags).
type controllerPorts struct {
	Health, Metrics int
	Extra           []int
}

func (p *controllerPorts) fields() []*int {
	out := []*int{&p.Health, &p.Metrics}
	for i := range p.Extra {
		out = append(out, &p.Extra[i])
	}
	return out
}

// controller is an Atrium controller-runtime process (bin/atrium-agent, bin/atrium-hub) on
// loopback ports the test bed holds. Nothing but the test bed's own URLs names those ports, so
// every start, a restart too, may move the process to fresh ports when one is taken.
type controller struct {
	name, bin, dir, logDir string
	// args are the process's flags besides its address flags.
	args []string
	// addrFlags are flags that take a loopback address (e.g. --pprof-bind-address), one port each.
	addrFlags []string
	ports     controllerPorts
	proc      *process
}

func newController(name, bin, dir, logDir string, args, addrFlags []string) (*controller, error) {
	c := &controller{name: name, bin: bin, dir: dir, logDir: logDir, args: args, addrFlags: addrFlags}
	c.ports.Extra = make([]int, len(addrFlags))
	if err := pickPorts(&c.ports, HoldPort); err != nil {
		return nil, err
	}
	c.build()
	return c, nil
}

// build (re)creates the process with the current ports.
func (c *controller) build() {
	args := []string{
		"--health-probe-bind-address=" + c.addr(c.ports.Health),
		"--metrics-bind-address=" + c.addr(c.ports.Metrics),
	}
	for i, flag := range c.addrFlags {
		args = append(args, flag+"="+c.addr(c.ports.Extra[i]))
	}
	c.proc = newProcess(c.name, c.bin, c.dir, c.logDir, portValues(&c.ports), append(args, c.args...)...)
}

func (c *controller) addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// start starts the process and waits until its /healthz answers.
func (c *controller) start(ctx context.Context) error {
	return startOnPorts(ctx, c.name, true, &c.ports, HoldPort, func() error { c.build(); return nil }, func(ctx context.Context) error {
		if err := c.proc.launch(ctx); err != nil {
			return err
		}
		url := c.url(c.ports.Health, "/healthz")
		return waitFor(ctx, c.name+" /healthz", 100*time.Millisecond, []*process{c.proc}, func(ctx context.Context) (bool, error) {
			body, err := httpGet(ctx, url)
			return err == nil && body == "ok", err
		})
	}, func() error { return c.stop(10 * time.Second) })
}

func (c *controller) stop(grace time.Duration) error { return c.proc.stop(grace) }

func (c *controller) url(port int, path string) string {
	return "http://" + c.addr(port) + path
}

// extraURL returns http://<address of flag>, or "" when flag is not one of the address flags.
func (c *controller) extraURL(flag string) string {
	for i, f := range c.addrFlags {
		if f == flag {
			return c.url(c.ports.Extra[i], "")
		}
	}
	return ""
}
