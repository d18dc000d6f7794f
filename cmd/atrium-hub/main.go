// Command atrium-hub runs Atrium's hub controller: it resolves Workspaces against their
// templates and execution profiles, places them on ComputeClusters, and judges cluster health.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/hub"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		opts          hub.Options
		hubKubeconfig string
		metricsSecure bool
		metricsAuth   string
		qps           float32
		burst         int
		zapOpts       = zap.Options{Development: false}
	)
	cmd := &cobra.Command{
		Use:   "atrium-hub --hub-kubeconfig FILE",
		Short: "Run the Atrium hub controller",
		Long: `Run the Atrium hub controller. It follows every virtual-workspace URL of the
APIExportEndpointSlice in the provider workspace, resolves Workspaces against their templates
(status.effective, condition Valid), places them on Ready ComputeClusters (status.placement,
condition Scheduled), and judges the clusters' heartbeats (ComputeCluster Ready, workspace
ClusterReachable).

--hub-kubeconfig must point at the provider workspace (server .../clusters/root:atrium) with an
identity in the atrium:hub-controllers group.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			cfg, err := clientcmd.BuildConfigFromFlags("", hubKubeconfig)
			if err != nil {
				return fmt.Errorf("failed to load --hub-kubeconfig %q: %w", hubKubeconfig, err)
			}
			cfg.QPS, cfg.Burst = qps, burst
			opts.HubConfig = cfg
			if metricsSecure {
				if opts.MetricsAuthConfig, err = metricsAuthConfig(metricsAuth); err != nil {
					return err
				}
			}
			return hub.Run(ctrl.SetupSignalHandler(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&hubKubeconfig, "hub-kubeconfig", "", "kubeconfig of the hub's provider workspace")
	f.StringVar(&opts.EndpointSlice, "endpoint-slice", "", "APIExportEndpointSlice to follow (default: the export's own, every shard)")
	f.DurationVar(&opts.HeartbeatGrace, "heartbeat-grace", 40*time.Second, "age of a ComputeCluster heartbeat after which the cluster is not Ready")
	f.DurationVar(&opts.DeletionTimeout, "deletion-timeout", 5*time.Minute, "how long a deleting workspace on an unreachable cluster waits before the hub removes the agent's finalizer")
	f.DurationVar(&opts.EvictionGraceOverride, "eviction-grace-override", 0, "replaces every Reschedule eviction policy's grace period (testing only; 0 uses the policy)")
	f.BoolVar(&opts.LeaderElection, "leader-elect", false, "elect one active replica through a Lease in the provider workspace")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "default", "namespace of the leader-election Lease in the provider workspace")
	f.DurationVar(&opts.TimeUnit, "time-unit", time.Minute, "length of one minute of idle timeouts and lifetimes (testing and demos only, e.g. 1s)")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", "0", "address of the Prometheus metrics endpoint (0 disables)")
	f.BoolVar(&metricsSecure, "metrics-secure", false, "serve metrics over HTTPS, only to bearer tokens the cluster the hub runs in authenticates and authorizes for GET /metrics (TokenReview, SubjectAccessReview)")
	f.StringVar(&metricsAuth, "metrics-auth-kubeconfig", "", "kubeconfig of the cluster that authenticates and authorizes metrics scrapes with --metrics-secure (default: the cluster the pod runs in)")
	f.StringVar(&opts.HealthAddr, "health-probe-bind-address", "0", "address of /healthz and /readyz (0 disables)")
	f.StringVar(&opts.WebhookAddr, "webhook-bind-address", "0", "host:port of the admission webhooks kcp calls (creator, ownership), over TLS (0 disables; see `atrium hub init --webhook-url`)")
	f.StringVar(&opts.WebhookCertDir, "webhook-cert-dir", "", "directory with tls.crt and tls.key of the webhook server (reloaded when they change)")
	f.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", 4, "workspaces each controller reconciles at once")
	f.Int32Var(&opts.OrgMaxWorkspaces, "org-max-workspaces", platformv1alpha1.DefaultMaxWorkspaces, "workspaces an organization may have when its OrganizationQuota in root:atrium sets no maxWorkspaces (or it has none)")
	f.Int32Var(&opts.OrgMaxWorkspaceShares, "org-max-workspace-shares", platformv1alpha1.DefaultMaxWorkspaceShares, "workspace shares an organization may have when its OrganizationQuota sets no maxWorkspaceShares (or it has none)")
	f.Float32Var(&qps, "hub-qps", 200, "client-side rate limit of requests to kcp, per resource type and organization (logical cluster)")
	f.IntVar(&burst, "hub-burst", 400, "burst above --hub-qps")
	f.StringVar(&opts.PprofAddr, "pprof-bind-address", "0", "address of Go's pprof profiles under /debug/pprof/ (0 disables; bind to loopback or a private network)")
	_ = cmd.MarkFlagRequired("hub-kubeconfig")
	goFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(goFlags)
	f.AddGoFlagSet(goFlags)
	return cmd
}

// metricsAuthConfig returns the config of the cluster that judges metrics scrapes: the file's,
// or the cluster this pod runs in.
func metricsAuthConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("failed to load --metrics-auth-kubeconfig %q: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("--metrics-secure asks the cluster the hub runs in who scrapes the metrics, and this is not a pod of one (%w): pass --metrics-auth-kubeconfig", err)
	}
	return cfg, nil
}
