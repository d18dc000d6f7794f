// Command atrium-agent runs Atrium's agent for one compute cluster (and one kcp shard, or all):
// it materializes the hub Workspaces placed on its cluster and reports their status back.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/atrium-dev/atrium/agent"
	"github.com/atrium-dev/atrium/agent/confine"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		opts          agent.Options
		hubKubeconfig string
		kubeconfig    string
		labels        map[string]string
		hubQPS        float32
		hubBurst      int
		localQPS      float32
		localBurst    int
		podSecurity   string
		networkPolicy bool
		quota         string
		limitMax      string
		limitRequest  string
		zapOpts       = zap.Options{Development: false}
	)
	cmd := &cobra.Command{
		Use:   "atrium-agent --cluster-name NAME --hub-kubeconfig FILE",
		Short: "Run the Atrium agent of one compute cluster",
		Long: `Run the Atrium agent of one compute cluster. It follows every virtual-workspace URL of the
APIExportEndpointSlice in the hub's provider workspace, materializes the Workspaces the hub
placed on this cluster (PVC, Deployment, Service, access resources), writes their status back,
and heart-beats its ComputeCluster.

--hub-kubeconfig must point at the provider workspace (server .../clusters/root:atrium) with an
identity in the atrium:agents group. --kubeconfig is the compute cluster (in-cluster if empty).`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			hubCfg, err := clientcmd.BuildConfigFromFlags("", hubKubeconfig)
			if err != nil {
				return fmt.Errorf("failed to load --hub-kubeconfig %q: %w", hubKubeconfig, err)
			}
			localCfg, err := ctrl.GetConfig()
			if kubeconfig != "" {
				localCfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
			}
			if err != nil {
				return fmt.Errorf("failed to load the compute cluster config: %w", err)
			}
			hubCfg.QPS, hubCfg.Burst = hubQPS, hubBurst
			localCfg.QPS, localCfg.Burst = localQPS, localBurst
			opts.HubConfig, opts.LocalConfig, opts.Labels, opts.AgentVersion = hubCfg, localCfg, labels, version
			c := &opts.Confinement
			c.PodSecurityLevel = workspacesv1alpha1.PodSecurityLevel(podSecurity)
			c.NetworkPolicy.Disabled = !networkPolicy
			for flagName, pair := range map[string]struct {
				in  string
				out *corev1.ResourceList
			}{
				"--resource-quota":              {quota, &c.Quota.Hard},
				"--limit-range-max":             {limitMax, &c.Limits.Max},
				"--limit-range-default-request": {limitRequest, &c.Limits.DefaultRequest},
			} {
				if *pair.out, err = resourceList(pair.in); err != nil {
					return fmt.Errorf("failed to parse %s: %w", flagName, err)
				}
			}
			return agent.Run(ctrl.SetupSignalHandler(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ClusterName, "cluster-name", "", "name of this compute cluster (its ComputeCluster object)")
	f.StringVar(&hubKubeconfig, "hub-kubeconfig", "", "kubeconfig of the hub's provider workspace")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the compute cluster (default: in-cluster)")
	f.StringVar(&opts.EndpointSlice, "endpoint-slice", "", "APIExportEndpointSlice to follow (default: the export's own, every shard)")
	f.DurationVar(&opts.HeartbeatPeriod, "heartbeat-period", 10*time.Second, "period of ComputeCluster heartbeats")
	f.StringToStringVar(&labels, "labels", nil, "labels of the ComputeCluster, e.g. region=eu,gpu=a100")
	f.StringVar(&opts.Region, "region", "", "region recorded on the ComputeCluster")
	f.StringVar(&opts.DefaultAccessStrategy, "default-access-strategy", "", "access strategy for workspaces that name none")
	f.BoolVar(&opts.LeaderElection, "leader-elect", false, "elect one active replica through a Lease on the compute cluster")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "atrium-system", "namespace of the leader-election Lease")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", "0", "address of the Prometheus metrics endpoint (0 disables)")
	f.BoolVar(&opts.MetricsSecure, "metrics-secure", false, "serve metrics over HTTPS, only to bearer tokens the compute cluster authenticates and authorizes for GET /metrics (TokenReview, SubjectAccessReview)")
	f.StringVar(&opts.HealthAddr, "health-probe-bind-address", "0", "address of /healthz and /readyz (0 disables)")
	f.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", 8, "workspaces each controller (the workspace syncer, the materializer) reconciles at once")
	f.Float32Var(&hubQPS, "hub-qps", 200, "client-side rate limit of requests to kcp, per resource type and organization (logical cluster)")
	f.IntVar(&hubBurst, "hub-burst", 400, "burst above --hub-qps")
	f.Float32Var(&localQPS, "kube-api-qps", 200, "client-side rate limit of requests to the compute cluster, per resource type")
	f.IntVar(&localBurst, "kube-api-burst", 400, "burst above --kube-api-qps")
	f.StringVar(&opts.PprofAddr, "pprof-bind-address", "0", "address of Go's pprof profiles under /debug/pprof/ (0 disables; bind to loopback or a private network)")
	f.DurationVar(&opts.ResyncPeriod, "resync-period", 0, "re-check period of running workspaces' access resources (default 60s)")
	f.StringVar(&podSecurity, "pod-security-level", string(workspacesv1alpha1.PodSecurityLevelRestricted), "Pod Security level enforced on every workspace namespace: restricted or baseline (advertised on the ComputeCluster)")
	f.StringVar(&opts.Confinement.PodSecurityVersion, "pod-security-version", "", "Pod Security version pinned on workspace namespaces, e.g. v1.35 (default: the compute cluster's minor version)")
	f.BoolVar(&networkPolicy, "network-policy", true, "give every workspace namespace a NetworkPolicy (ingress only from the access path and the agent, egress to DNS and the internet)")
	f.StringSliceVar(&opts.Confinement.NetworkPolicy.IngressNamespaces, "network-policy-ingress-namespaces", confine.DefaultIngressNamespaces, "namespaces of the ingress controllers (the access path) that may reach workspaces")
	f.StringVar(&opts.Confinement.NetworkPolicy.AgentNamespace, "network-policy-agent-namespace", "atrium-system", "the agent's namespace, whose pods may reach workspaces (activity reads)")
	f.StringToStringVar(&opts.Confinement.NetworkPolicy.AgentPodLabels, "network-policy-agent-pod-labels", nil, "labels of the agent's pods, narrowing --network-policy-agent-namespace (empty: every pod there)")
	f.StringVar(&opts.Confinement.NetworkPolicy.DNSNamespace, "network-policy-dns-namespace", "kube-system", "namespace of the cluster DNS pods workspaces may query")
	f.StringToStringVar(&opts.Confinement.NetworkPolicy.DNSPodLabels, "network-policy-dns-pod-labels", map[string]string{"k8s-app": "kube-dns"}, "labels of the cluster DNS pods")
	f.StringSliceVar(&opts.Confinement.NetworkPolicy.EgressDeniedCIDRs, "network-policy-egress-deny-cidrs", confine.DefaultEgressDeniedCIDRs, "address ranges workspaces may not reach (the API server's own addresses are always added)")
	f.StringSliceVar(&opts.Confinement.NetworkPolicy.EgressAllowedCIDRs, "network-policy-egress-allow-cidrs", nil, "address ranges workspaces may reach even inside the denied ones (a registry, a proxy, node-local DNS)")
	f.StringVar(&quota, "resource-quota", quantities(confine.DefaultQuota), "spec.hard of every workspace namespace's ResourceQuota, name=quantity,... (empty: no ResourceQuota)")
	f.StringVar(&limitMax, "limit-range-max", quantities(confine.DefaultLimitMax), "maximum, and default limit, of every workspace container (LimitRange), name=quantity,... (empty, with an empty --limit-range-default-request: no LimitRange)")
	f.StringVar(&limitRequest, "limit-range-default-request", quantities(confine.DefaultLimitDefaultRequest), "request of workspace containers that set none (LimitRange), name=quantity,...")
	_ = cmd.MarkFlagRequired("cluster-name")
	_ = cmd.MarkFlagRequired("hub-kubeconfig")
	goFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(goFlags)
	f.AddGoFlagSet(goFlags)
	return cmd
}

// quantities renders a resource list as a flag's default: name=quantity pairs, sorted.
func quantities(l corev1.ResourceList) string {
	pairs := make([]string, 0, len(l))
	for name, q := range l {
		pairs = append(pairs, string(name)+"="+q.String())
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// resourceList parses a flag's comma-separated name=quantity pairs; empty is an empty list.
func resourceList(in string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for _, pair := range strings.Split(in, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, v, ok := strings.Cut(pair, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not name=quantity", pair)
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pair, err)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}
