package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/admission"
	"github.com/atrium-dev/atrium/hub/orglimits"
	"github.com/atrium-dev/atrium/hub/roster"
	"github.com/atrium-dev/atrium/internal/exportprovider"
)

// Options configures the hub controller. Every field is documented with its default.
type Options struct {
	// HubConfig authenticates the hub controller at kcp and points at the provider workspace
	// (…/clusters/root:atrium), with an identity in the atrium:hub-controllers group. Required.
	HubConfig *rest.Config
	// EndpointSlice is the APIExportEndpointSlice to follow. Defaults to the export's own
	// (exports.ExportName), which lists every shard.
	EndpointSlice string
	// HeartbeatGrace is how old a ComputeCluster's heartbeat may be before the cluster is
	// Ready=False and its workspaces ClusterReachable=False. Defaults to 40 seconds.
	HeartbeatGrace time.Duration
	// DeletionTimeout is how long a deleting workspace waits for the agent of an unreachable
	// cluster before the hub removes that agent's finalizer (the agent removes the leftovers
	// when it returns). Counted from the later of the deletion request and the last heartbeat.
	// Defaults to 5 minutes.
	DeletionTimeout time.Duration
	// EvictionGraceOverride, when set, replaces every ComputeCluster's
	// spec.evictionPolicy.gracePeriodMinutes (for tests: the API's minimum is 5 minutes). Only
	// clusters whose policy mode is Reschedule are affected. Defaults to 0 (use the policy).
	EvictionGraceOverride time.Duration
	// LeaderElection makes replicas elect one active hub controller through a Lease in the
	// provider workspace. Defaults to false (one replica).
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease in the provider workspace. Defaults to "default".
	LeaderElectionNamespace string
	// TimeUnit is the length of one "minute" of idle timeouts and lifetimes. Defaults to one
	// minute; a test and demo knob (e.g. 1s) so that policies fire in seconds.
	TimeUnit time.Duration
	// MetricsAddr serves Prometheus metrics; "0" disables. Defaults to "0".
	MetricsAddr string
	// MetricsAuthConfig, when set, serves the metrics over HTTPS (a self-signed certificate) and
	// only to requests whose bearer token the cluster it reaches authenticates (TokenReview) and
	// authorizes for GET /metrics (SubjectAccessReview): the cluster the hub runs in, where its
	// scrapers live (kcp knows none of their tokens). Nil serves plain HTTP.
	MetricsAuthConfig *rest.Config
	// HealthAddr serves /healthz and /readyz; "0" disables. Defaults to "0".
	HealthAddr string
	// PprofAddr serves Go's net/http/pprof profiles under /debug/pprof/; "0" disables.
	// Profiles expose internals and cost CPU while taken: bind it to loopback or a private
	// network. Defaults to "0".
	PprofAddr string
	// OrgMaxWorkspaces is how many Workspaces an organization without an OrganizationQuota (or
	// whose quota sets none) may have. Defaults to platformv1alpha1.DefaultMaxWorkspaces (100).
	OrgMaxWorkspaces int32
	// OrgMaxWorkspaceShares is the same for WorkspaceShares. Defaults to
	// platformv1alpha1.DefaultMaxWorkspaceShares (500).
	OrgMaxWorkspaceShares int32
	// WebhookAddr is host:port of the admission webhooks kcp calls for Workspaces and
	// WorkspaceShares (hub/admission), over TLS; "0" disables them. Every replica serves them,
	// leader or not. kcp must reach the address at the URL `atrium hub init --webhook-url` wrote
	// into root:atrium. Defaults to "0".
	WebhookAddr string
	// WebhookCertDir holds tls.crt and tls.key of the webhook server, signed by the CA given to
	// `atrium hub init --webhook-ca-file`; reloaded when they change. Required with WebhookAddr.
	WebhookCertDir string
	// MaxConcurrentReconciles is how many Workspaces (or WorkspaceTemplates) each hub
	// controller reconciles at once. Their work is mostly waiting for kcp, so more than the
	// CPUs helps; placement decisions stay serialized inside (hub/placement). Defaults to 4.
	MaxConcurrentReconciles int
}

func (o *Options) defaults() {
	if o.EndpointSlice == "" {
		o.EndpointSlice = exports.ExportName
	}
	if o.HeartbeatGrace == 0 {
		o.HeartbeatGrace = 40 * time.Second
	}
	if o.DeletionTimeout == 0 {
		o.DeletionTimeout = 5 * time.Minute
	}
	if o.TimeUnit == 0 {
		o.TimeUnit = time.Minute
	}
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = "default"
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
	if o.WebhookAddr == "" {
		o.WebhookAddr = "0"
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 4
	}
	if o.OrgMaxWorkspaces == 0 {
		o.OrgMaxWorkspaces = platformv1alpha1.DefaultMaxWorkspaces
	}
	if o.OrgMaxWorkspaceShares == 0 {
		o.OrgMaxWorkspaceShares = platformv1alpha1.DefaultMaxWorkspaceShares
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.HubConfig == nil {
		errs = append(errs, errors.New("a hub kubeconfig is required"))
	}
	if o.HeartbeatGrace < 0 || o.DeletionTimeout < 0 || o.EvictionGraceOverride < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if o.OrgMaxWorkspaces < 0 || o.OrgMaxWorkspaceShares < 0 {
		errs = append(errs, errors.New("organization limits must not be negative"))
	}
	if o.WebhookAddr != "0" && o.WebhookCertDir == "" {
		errs = append(errs, errors.New("the webhook server (--webhook-bind-address) needs --webhook-cert-dir"))
	}
	return errors.Join(errs...)
}

// Deps is what every controller setup gets: the shared clients, caches and settings.
type Deps struct {
	// Provider serves the organizations' logical clusters over every shard. Its ShardURL names
	// the virtual workspace (shard) a logical cluster is seen through.
	Provider *exportprovider.Provider
	// Platform reads (from the cache) and writes objects of the provider workspace root:atrium,
	// chiefly ComputeClusters.
	Platform client.Client
	// PlatformCache is the cache behind Platform, for watches on ComputeClusters
	// (source.Kind(deps.PlatformCache, ...) with WatchesRawSource).
	PlatformCache cache.Cache
	// Roster indexes every hub Workspace seen by its placement, so ComputeCluster events can
	// requeue the workspaces they concern across all logical clusters.
	Roster *roster.Roster
	// Quotas reads the organizations' limits (OrganizationQuotas in root:atrium, with the hub's
	// defaults).
	Quotas *orglimits.Quotas
	// Recorder records events in root:atrium (about ComputeClusters).
	Recorder record.EventRecorder
	// Options are the hub's options after defaulting.
	Options Options
	// Now is the clock.
	Now func() time.Time
}

// SetupFunc registers one controller with the manager.
type SetupFunc func(mgr mcmanager.Manager, deps Deps) error

// NewScheme returns the scheme the hub's clients use.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, workspacesv1alpha1.AddToScheme, platformv1alpha1.AddToScheme,
		apisv1alpha1.AddToScheme, apisv1alpha2.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("failed to build scheme: %w", err)
		}
	}
	return s, nil
}

// controllerOptions sets the concurrency of every controller reconciling Workspaces or
// WorkspaceTemplates (all of the hub's but clusterhealth, which judges a handful of
// ComputeClusters).
func controllerOptions(scheme *runtime.Scheme, concurrency int) config.Controller {
	perKind := map[string]int{}
	for _, obj := range []runtime.Object{&workspacesv1alpha1.Workspace{}, &workspacesv1alpha1.WorkspaceTemplate{}} {
		if gvks, _, err := scheme.ObjectKinds(obj); err == nil {
			perKind[gvks[0].GroupKind().String()] = concurrency
		}
	}
	return config.Controller{GroupKindConcurrency: perKind}
}

// Run runs the hub controller until ctx ends.
func Run(ctx context.Context, opts Options) error {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return err
	}
	logger := log.FromContext(ctx)
	ctx = log.IntoContext(ctx, logger)

	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	provider, err := exportprovider.New(opts.HubConfig, exportprovider.Options{EndpointSlice: opts.EndpointSlice, Scheme: scheme})
	if err != nil {
		return err
	}
	var webhooks webhook.Server
	if opts.WebhookAddr != "0" {
		reviewer, err := admission.NewSubjectAccessReviewer(opts.HubConfig)
		if err != nil {
			return err
		}
		workspaces, err := admission.NewClusterWorkspaces(opts.HubConfig)
		if err != nil {
			return err
		}
		if webhooks, err = admission.NewServer(admission.ServerOptions{BindAddress: opts.WebhookAddr, CertDir: opts.WebhookCertDir}, reviewer, workspaces); err != nil {
			return err
		}
	}
	// The local manager of the multicluster manager is the provider workspace root:atrium.
	mgr, err := mcmanager.New(opts.HubConfig, provider, manager.Options{
		WebhookServer:                 webhooks,
		Scheme:                        scheme,
		Logger:                        logger,
		Metrics:                       metricsOptions(opts),
		HealthProbeBindAddress:        opts.HealthAddr,
		PprofBindAddress:              opts.PprofAddr,
		Controller:                    controllerOptions(scheme, opts.MaxConcurrentReconciles),
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              "atrium-hub",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("failed to create the manager: %w", err)
	}
	local := mgr.GetLocalManager()
	if err := orglimits.IndexQuotas(ctx, local.GetFieldIndexer()); err != nil {
		return err
	}
	deps := Deps{
		Provider:      provider,
		Platform:      local.GetClient(),
		PlatformCache: local.GetCache(),
		Quotas:        &orglimits.Quotas{Reader: local.GetClient(), DefaultWorkspaces: opts.OrgMaxWorkspaces, DefaultShares: opts.OrgMaxWorkspaceShares},
		Roster:        roster.New(),
		Recorder:      local.GetEventRecorderFor("atrium-hub"), //nolint:staticcheck // Deps.Recorder is a record.EventRecorder; moving to the events API changes every caller
		Options:       opts,
		Now:           time.Now,
	}
	for _, c := range controllers {
		if err := c.setup(mgr, deps); err != nil {
			return fmt.Errorf("failed to set up %s: %w", c.name, err)
		}
	}

	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add readiness check: %w", err)
	}
	if webhooks != nil {
		// Adds the server to the manager's runnables, and makes /readyz wait for it.
		if err := mgr.AddReadyzCheck("webhooks", local.GetWebhookServer().StartedChecker()); err != nil {
			return fmt.Errorf("failed to add the webhook readiness check: %w", err)
		}
	}
	logger.Info("starting hub controller", "endpointSlice", opts.EndpointSlice, "heartbeatGrace", opts.HeartbeatGrace,
		"deletionTimeout", opts.DeletionTimeout, "webhookAddr", opts.WebhookAddr, "leaderElection", opts.LeaderElection, "maxConcurrentReconciles", opts.MaxConcurrentReconciles)
	return mgr.Start(ctx)
}

// metricsOptions serves the metrics as opts say: with MetricsAuthConfig, every scrape must carry
// a bearer token that cluster accepts and authorizes for GET /metrics (controller-runtime's
// filters, asked of that cluster rather than of kcp, the manager's).
func metricsOptions(opts Options) metricsserver.Options {
	o := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.MetricsAuthConfig != nil {
		authConfig := rest.CopyConfig(opts.MetricsAuthConfig)
		o.SecureServing = true
		o.FilterProvider = func(_ *rest.Config, _ *http.Client) (metricsserver.Filter, error) {
			httpClient, err := rest.HTTPClientFor(authConfig)
			if err != nil {
				return nil, fmt.Errorf("failed to create the HTTP client of the metrics authentication: %w", err)
			}
			return filters.WithAuthenticationAndAuthorization(authConfig, httpClient)
		}
	}
	return o
}
