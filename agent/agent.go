package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	"github.com/atrium-dev/atrium/agent/computepolicy"
	"github.com/atrium-dev/atrium/agent/confine"
	"github.com/atrium-dev/atrium/agent/heartbeat"
	"github.com/atrium-dev/atrium/agent/materialize"
	"github.com/atrium-dev/atrium/agent/mirror"
	"github.com/atrium-dev/atrium/agent/workspacesync"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/exportprovider"
)

// Options configures the agent. Every field is documented with its default.
type Options struct {
	// ClusterName is this compute cluster's name: its ComputeCluster, its finalizer on hub
	// Workspaces, and the placement the hub writes. Required.
	ClusterName string
	// HubConfig authenticates the agent at the hub and points at the provider workspace
	// (…/clusters/root:atrium). Required.
	HubConfig *rest.Config
	// LocalConfig is the compute cluster (a kubeconfig or in-cluster). Required.
	LocalConfig *rest.Config
	// EndpointSlice is the APIExportEndpointSlice to follow. Defaults to the export's own
	// (all shards); a per-shard agent names a slice whose partition selects its shard.
	EndpointSlice string
	// HeartbeatPeriod between ComputeCluster heartbeats. Defaults to 10 seconds.
	HeartbeatPeriod time.Duration
	// Labels are set on the ComputeCluster (region, gpu, ...), for placement selectors.
	Labels map[string]string
	// Region is recorded on the ComputeCluster when it is registered.
	Region string
	// DefaultAccessStrategy is used by workspaces that name none, and advertised. Defaults to none.
	DefaultAccessStrategy string
	// LeaderElection makes replicas elect one active agent through a Lease on the compute
	// cluster, named for the cluster and the endpoint slice (see leaderElectionID), so per-shard
	// agents of one cluster each elect their own. Defaults to false (one replica).
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease. Defaults to "atrium-system".
	LeaderElectionNamespace string
	// MetricsAddr serves Prometheus metrics; "0" disables. Defaults to "0".
	MetricsAddr string
	// MetricsSecure serves the metrics over HTTPS (a self-signed certificate) and only to
	// requests the compute cluster authenticates (TokenReview) and authorizes for GET /metrics
	// (SubjectAccessReview): the agent's identity there needs create on tokenreviews and
	// subjectaccessreviews. Defaults to false (plain HTTP, for loopback).
	MetricsSecure bool
	// HealthAddr serves /healthz and /readyz; "0" disables. Defaults to "0".
	HealthAddr string
	// PprofAddr serves Go's net/http/pprof profiles under /debug/pprof/; "0" disables.
	// Profiles expose internals and cost CPU while taken: bind it to loopback or a private
	// network. Defaults to "0".
	PprofAddr string
	// MaxConcurrentReconciles is how many workspaces each of the agent's controllers (the
	// workspace syncer, the materializer) works on at once. Their work is mostly waiting for the API
	// servers and for access probes, so more than the CPUs helps. Defaults to 8.
	MaxConcurrentReconciles int
	// ResyncPeriod re-reconciles running workspaces to repair unwatched access resources.
	// Defaults to materialize's default (60 s).
	ResyncPeriod time.Duration
	// AgentVersion is reported in the ComputeCluster status.
	AgentVersion string
	// Confinement says how every workspace namespace is confined: Pod Security level, network
	// policy, quota and limits (see package agent/confine). An empty PodSecurityVersion is
	// read from the compute cluster's API server (its minor version); when the NetworkPolicy
	// is enabled, the API server's addresses are read from the kubernetes Service's endpoints
	// and added to the denied egress. The zero value enforces restricted and a NetworkPolicy,
	// with no quota and no limits: cmd/atrium-agent's flags carry the defaults of both.
	Confinement confine.Options
}

func (o *Options) defaults() {
	if o.EndpointSlice == "" {
		o.EndpointSlice = exports.ExportName
	}
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = "atrium-system"
	}
	if o.MetricsAddr == "" {
		o.MetricsAddr = "0"
	}
	if o.HealthAddr == "" {
		o.HealthAddr = "0"
	}
	if o.PprofAddr == "" {
		o.PprofAddr = "0"
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 8
	}
	if o.AgentVersion == "" {
		o.AgentVersion = "dev"
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.ClusterName == "" {
		errs = append(errs, errors.New("the compute cluster name is required"))
	}
	if o.HubConfig == nil {
		errs = append(errs, errors.New("a hub kubeconfig is required"))
	}
	if o.LocalConfig == nil {
		errs = append(errs, errors.New("a compute cluster kubeconfig (or in-cluster config) is required"))
	}
	return errors.Join(errs...)
}

// NewScheme returns the scheme the agent's clients use.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, computev1alpha1.AddToScheme, workspacesv1alpha1.AddToScheme,
		platformv1alpha1.AddToScheme, apisv1alpha1.AddToScheme, apisv1alpha2.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("failed to build scheme: %w", err)
		}
	}
	return s, nil
}

// Run runs the agent until ctx ends.
func Run(ctx context.Context, opts Options) error {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return err
	}
	logger := log.FromContext(ctx).WithValues("computeCluster", opts.ClusterName)
	ctx = log.IntoContext(ctx, logger)

	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	if err := materialize.InstallCRDs(ctx, opts.LocalConfig); err != nil {
		return fmt.Errorf("failed to install the compute CRDs: %w", err)
	}
	if opts.LeaderElection {
		if err := ensureNamespace(ctx, opts.LocalConfig, opts.LeaderElectionNamespace); err != nil {
			return err
		}
	}

	confinement, err := completeConfinement(ctx, opts.LocalConfig, scheme, opts.Confinement)
	if err != nil {
		return err
	}

	localMgr, err := ctrl.NewManager(opts.LocalConfig, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 logger,
		Metrics:                metricsOptions(opts),
		HealthProbeBindAddress: opts.HealthAddr,
		PprofBindAddress:       opts.PprofAddr,
		// Nothing reads the field managers of compute-cluster objects, and they are the larger
		// part of many (pods, Deployments): not caching them saves memory and deep copies.
		// Only what the agent manages is cached (a shared cluster's other namespaces, pods and
		// services are none of its business, and would cost memory): its namespaces, and in
		// them the NetworkPolicies, ResourceQuotas and LimitRanges it labelled, the workspace
		// Deployments, Services and pods. One that lost its label reads as missing and is
		// applied again; a namespace of a workspace's name made by someone else is found past
		// the cache and adopted (workspacesync). Claims are all cached: a workspace's secondary
		// volumes are claims the agent did not create.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{
			&corev1.Namespace{}:           {Label: managedByAgent},
			&networkingv1.NetworkPolicy{}: {Label: managedByAgent},
			&corev1.ResourceQuota{}:       {Label: managedByAgent},
			&corev1.LimitRange{}:          {Label: managedByAgent},
			&appsv1.Deployment{}:          {Label: materializedObjects},
			&corev1.Service{}:             {Label: materializedObjects},
			&corev1.Pod{}:                 {Label: workspacePods},
		}},
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              leaderElectionID(opts.ClusterName, opts.EndpointSlice),
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("failed to create the compute cluster manager: %w", err)
	}

	// The hub cache holds only the Workspaces placed on this cluster (the hub labels them); kcp
	// v0.31's virtual workspace cannot filter what this identity may read (docs/security.md),
	// so this bounds the agent's memory and work, not its rights.
	provider, err := exportprovider.New(opts.HubConfig, exportprovider.Options{
		EndpointSlice: opts.EndpointSlice,
		Scheme:        scheme,
		Selectors: map[schema.GroupResource]labels.Selector{
			{Group: workspacesv1alpha1.GroupName, Resource: "workspaces"}: labels.SelectorFromSet(labels.Set{workspacesv1alpha1.LabelCluster: opts.ClusterName}),
		},
	})
	if err != nil {
		return err
	}
	hubMgr, err := mcmanager.New(opts.HubConfig, provider, manager.Options{
		Scheme:                 scheme,
		Logger:                 logger.WithName("hub"),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("failed to create the hub manager: %w", err)
	}

	confiner, err := confine.New(localMgr.GetClient(), confinement)
	if err != nil {
		return err
	}
	syncer := &workspacesync.Reconciler{
		Cluster:                 opts.ClusterName,
		Local:                   localMgr.GetClient(),
		LocalCache:              localMgr.GetCache(),
		LocalReader:             localMgr.GetAPIReader(),
		LiveReader:              provider.LiveReader,
		ShardOf:                 provider.ShardURL,
		DefaultAccessStrategy:   opts.DefaultAccessStrategy,
		Confiner:                confiner,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		OnHubWrite:              recordHubWrite,
		OnStatusWrite:           func(lag time.Duration) { statusSyncLag.Observe(lag.Seconds()) },
	}
	if err := syncer.SetupWithManager(hubMgr); err != nil {
		return fmt.Errorf("failed to set up %s: %w", workspacesync.ControllerName, err)
	}
	mat := materialize.NewReconciler(materialize.Options{ClusterName: opts.ClusterName, ResyncPeriod: opts.ResyncPeriod, MaxConcurrentReconciles: opts.MaxConcurrentReconciles})
	if err := mat.SetupWithManager(localMgr); err != nil {
		return fmt.Errorf("failed to set up %s: %w", materialize.ControllerName, err)
	}

	conf := &confine.Reconciler{Confiner: confiner, ClusterName: opts.ClusterName}
	if err := conf.SetupWithManager(localMgr); err != nil {
		return fmt.Errorf("failed to set up %s: %w", confine.ControllerName, err)
	}

	hubClient, err := client.New(opts.HubConfig, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("failed to create hub client: %w", err)
	}
	beats := &beatState{}
	hb, err := heartbeat.New(heartbeat.Options{
		Cluster:               opts.ClusterName,
		Hub:                   hubClient,
		Local:                 localMgr.GetClient(),
		Period:                opts.HeartbeatPeriod,
		Labels:                opts.Labels,
		Region:                opts.Region,
		DefaultAccessStrategy: opts.DefaultAccessStrategy,
		PodSecurity: &platformv1alpha1.PodSecurityStatus{
			Level:   string(confiner.Options().PodSecurityLevel),
			Version: confiner.Options().PodSecurityVersion,
		},
		AgentVersion: opts.AgentVersion,
		Shards:       provider.URLs,
		FieldManager: heartbeatFieldManager(opts.ClusterName, opts.EndpointSlice),
		OnBeat:       beats.record,
	})
	if err != nil {
		return err
	}
	if err := localMgr.Add(hb); err != nil {
		return fmt.Errorf("failed to add heartbeat: %w", err)
	}

	// The hub side runs only on the leader: this runnable needs leader election.
	// The multicluster manager starts the provider itself (it is a ProviderRunnable).
	if err := localMgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if err := hubMgr.Start(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("hub side stopped: %w", err)
		}
		return nil
	})); err != nil {
		return fmt.Errorf("failed to add the hub side: %w", err)
	}

	registerMetrics(localMgr.GetClient(), opts.ClusterName)
	if err := localMgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add health check: %w", err)
	}
	if err := localMgr.AddReadyzCheck("hub", beats.check); err != nil {
		return fmt.Errorf("failed to add readiness check: %w", err)
	}

	checkComputePolicy(ctx, opts.LocalConfig, scheme)

	c := confiner.Options()
	logger.Info("starting agent", "endpointSlice", opts.EndpointSlice, "leaderElection", opts.LeaderElection, "maxConcurrentReconciles", opts.MaxConcurrentReconciles,
		"podSecurityLevel", c.PodSecurityLevel, "podSecurityVersion", c.PodSecurityVersion, "networkPolicy", !c.NetworkPolicy.Disabled,
		"apiServerIPs", c.NetworkPolicy.APIServerIPs, "resourceQuota", len(c.Quota.Hard) > 0, "limitRange", len(c.Limits.Max)+len(c.Limits.DefaultRequest) > 0)
	return localMgr.Start(ctx)
}

// managedByAgent selects the objects the agent labelled as its own.
var managedByAgent = labels.SelectorFromSet(labels.Set{mirror.LabelManagedBy: mirror.ManagedByAgent})

// materializedObjects and workspacePods select what the materializer builds (package
// materialize's labels).
var (
	materializedObjects = labels.SelectorFromSet(labels.Set{materialize.ManagedByLabel: materialize.ManagedBy})
	workspacePods       = labels.SelectorFromSet(labels.Set{materialize.NameLabel: materialize.AppName})
)

// checkComputePolicy says whether the admission policy that confines the agent's writes on
// this cluster (agent/computepolicy) is installed; without it the agent works as before, but
// its credential reaches every namespace its RBAC does.
func checkComputePolicy(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) {
	logger := log.FromContext(ctx)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err == nil {
		err = computepolicy.Check(ctx, c)
	}
	if err != nil {
		logger.Error(err, "WARNING: the agent's admission policy is missing on this compute cluster: its writes are confined by RBAC alone, which reaches every namespace; install it (the agent chart's computePolicy.enabled, docs/operator-guide.md)", "policy", computepolicy.PolicyName)
		return
	}
	logger.Info("the agent's writes are confined by its admission policy", "policy", computepolicy.PolicyName)
}

// completeConfinement completes opts from the compute cluster: the Pod Security version from
// its API server's version, the API server's addresses from the kubernetes Service's
// endpoints. Reading either failing is an error: the agent does not start with a weaker
// confinement than it was asked for.
func completeConfinement(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, opts confine.Options) (confine.Options, error) {
	if opts.PodSecurityVersion == "" {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return opts, fmt.Errorf("failed to create client: %w", err)
		}
		info, err := cs.Discovery().ServerVersion()
		if err != nil {
			return opts, fmt.Errorf("failed to read the compute cluster's version for --pod-security-version: %w", err)
		}
		if opts.PodSecurityVersion, err = confine.PodSecurityVersion(info.GitVersion); err != nil {
			return opts, err
		}
	}
	if !opts.NetworkPolicy.Disabled {
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return opts, fmt.Errorf("failed to create client: %w", err)
		}
		ips, err := confine.APIServerIPs(ctx, c)
		if err != nil {
			return opts, fmt.Errorf("failed to read the API server's addresses for the workspace NetworkPolicy: %w", err)
		}
		opts.NetworkPolicy.APIServerIPs = append(opts.NetworkPolicy.APIServerIPs, ips...)
	}
	return opts, opts.Validate()
}

// ensureNamespace creates the namespace of the leader-election Lease unless it exists.
func ensureNamespace(ctx context.Context, cfg *rest.Config, name string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s for leader election: %w", name, err)
	}
	return nil
}

// beatState remembers the last heartbeat result for the readiness check: an agent that cannot
// reach its hub is not ready (but keeps everything local running).
type beatState struct {
	mu   sync.Mutex
	last error
	seen bool
}

func (b *beatState) record(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last, b.seen = err, true
	result := "success"
	if err != nil {
		result = "failure"
	}
	heartbeats.WithLabelValues(result).Inc()
}

func (b *beatState) check(*http.Request) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.seen {
		return nil // not the leader yet, or starting
	}
	if b.last != nil {
		return fmt.Errorf("last heartbeat failed: %w", b.last)
	}
	return nil
}

// metricsOptions serves the metrics as opts say; secure, every scrape must carry a bearer token
// the compute cluster's API server accepts and authorizes for GET /metrics.
func metricsOptions(opts Options) metricsserver.Options {
	o := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.MetricsSecure {
		o.SecureServing = true
		o.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return o
}
