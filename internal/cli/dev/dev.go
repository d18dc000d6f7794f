// Package dev implements `atrium dev`: the local platform on this machine, built from the same
// test bed the e2e tests use (a kcp hub and compute clusters with kwok nodes).
package dev

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/test/testbed"
)

// NewCommand returns `atrium dev`.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local Atrium platform for development and evaluation",
	}
	cmd.AddCommand(newUpCommand())
	return cmd
}

type upOptions struct {
	stateDir string
	clusters int
}

func newUpCommand() *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a kcp hub and compute clusters in the foreground; Ctrl-C stops them",
		Long: `Start the local platform: a kcp hub and compute clusters (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok nodes), all on loopback.

Kubeconfigs are written to <state-dir>/kubeconfigs and logs to <state-dir>/logs. Running it
again on the same state dir resumes the platform with its data.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.stateDir, "state-dir", ".atrium", "directory for data, kubeconfigs and logs")
	cmd.Flags().IntVar(&o.clusters, "clusters", 2, "number of compute clusters")
	return cmd
}

func (o *upOptions) run(ctx context.Context) error {
	if o.clusters < 1 {
		return fmt.Errorf("--clusters must be at least 1, got %d", o.clusters)
	}
	dir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return fmt.Errorf("failed to resolve state dir: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	names := make([]string, 0, o.clusters)
	for i := range o.clusters {
		names = append(names, fmt.Sprintf("cluster-%d", i+1))
	}
	start := time.Now()
	fmt.Printf("starting kcp hub and %d compute clusters in %s (logs in %s)\n", o.clusters, dir, filepath.Join(dir, "logs"))
	env, err := testbed.StartEnv(ctx, dir, testbed.EnvOptions{Hub: true, Clusters: names})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("stopping the local platform")
		_ = env.Stop()
	}()

	kubeconfigs := filepath.Join(dir, "kubeconfigs")
	if err := os.MkdirAll(kubeconfigs, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", kubeconfigs, err)
	}
	links := map[string]string{"admin.kubeconfig": env.Hub.Kubeconfig}
	for _, name := range names {
		links["cluster-"+name+".kubeconfig"] = env.Cluster(name).Kubeconfig
	}
	for link, target := range links {
		path := filepath.Join(kubeconfigs, link)
		data, err := os.ReadFile(target)
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", target, err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("failed to write %s: %w", path, err)
		}
		fmt.Printf("  kubeconfig %s\n", path)
	}
	fmt.Printf("local platform ready in %s; press Ctrl-C to stop\n", time.Since(start).Round(time.Second))
	<-ctx.Done()
	return nil
}
