package exportprovider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/kcp-dev/logicalcluster/v3"
	mcpcache "github.com/kcp-dev/multicluster-provider/pkg/cache"
	mcrecorder "github.com/kcp-dev/multicluster-provider/pkg/events/recorder"
	"github.com/kcp-dev/multicluster-provider/pkg/handlers"
	"github.com/kcp-dev/multicluster-provider/pkg/provider"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"k8s.io/client-go/rest"
)

// Options configures a Provider.
type Options struct {
	// EndpointSlice is the name of the APIExportEndpointSlice to follow, in the logical cluster
	// the config points at. Required.
	EndpointSlice string
	// Scheme is used by the per-shard caches and the live readers. Required.
	Scheme *runtime.Scheme
	// Log defaults to controller-runtime's logger named "exportprovider".
	Log *logr.Logger
	// Selectors restrict, per resource, what every cache and list of the provider's clusters
	// holds, e.g. an agent's Workspaces to those labelled atrium.dev/cluster=<its cluster>.
	// An object that leaves its selection is seen as deleted by the watches; reads of one
	// object by name (the live reader's) still find it. Defaults to none.
	Selectors map[schema.GroupResource]labels.Selector
}

// Provider is kcp's apiexport provider with ShardURL, URLs and LiveReader; see the package
// documentation.
type Provider struct {
	*provider.Provider

	config        *rest.Config
	endpointSlice string
	scheme        *runtime.Scheme
	log           logr.Logger

	mu   sync.Mutex
	urls []string
	live map[string]client.Client
}

var (
	_ multicluster.Provider         = &Provider{}
	_ multicluster.ProviderRunnable = &Provider{}
)

// New returns a Provider that reads the endpoint slice with cfg (which points at the provider
// workspace). A multicluster-runtime manager starts it (it is a ProviderRunnable).
func New(cfg *rest.Config, opts Options) (*Provider, error) {
	if opts.EndpointSlice == "" {
		return nil, errors.New("exportprovider: Options.EndpointSlice is required")
	}
	if opts.Scheme == nil {
		return nil, errors.New("exportprovider: Options.Scheme is required")
	}
	if opts.Log == nil {
		l := log.Log.WithName("exportprovider")
		opts.Log = &l
	}
	cfg = rest.CopyConfig(cfg)
	if len(opts.Selectors) > 0 {
		selectors := opts.Selectors
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return &selectingTransport{next: rt, selectors: selectors}
		})
	}
	p := &Provider{
		config:        rest.CopyConfig(cfg),
		endpointSlice: opts.EndpointSlice,
		scheme:        opts.Scheme,
		log:           opts.Log.WithValues("endpointSlice", opts.EndpointSlice),
		live:          map[string]client.Client{},
	}
	ready := provider.ConditionReadyFunc("Ready")
	inner, err := provider.NewProvider(rest.CopyConfig(cfg), opts.EndpointSlice, provider.Options{
		Scheme:              opts.Scheme,
		EndpointSliceObject: &apisv1alpha1.APIExportEndpointSlice{},
		// The provider calls this on every change of the slice, just before it starts and
		// stops the watches of its URLs: the one place to learn which URLs it follows.
		ExtractURLsFromEndpointSlice: func(obj client.Object) ([]string, error) {
			urls, err := provider.DefaultExtractURLsFromEndpointSlice(obj)
			if err != nil {
				return nil, err
			}
			p.followed(urls)
			return urls, nil
		},
		// v1alpha2 is the APIBinding's storage version; kcp v0.31's virtual workspace serves
		// v1alpha1 too (kcp v0.28's served v1alpha2 only, and the provider's default is v1alpha1).
		ObjectToWatch: &apisv1alpha2.APIBinding{},
		Log:           opts.Log,
		AddFilter:     ready,
		UpdateFilter:  ready,
		NewCluster:    p.newCluster,
		Handlers:      handlers.Handlers{forgetter{p}},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create the apiexport provider: %w", err)
	}
	p.Provider = inner
	return p, nil
}

// Start runs kcp's provider, and beside it a watch for the deletion of the endpoint slice: the
// provider stops every shard's watches when the slice is deleted but, as when one URL leaves,
// keeps the logical clusters engaged, and a slice created again (kcp re-creates an export's
// own slice) would find them there and engage none afresh.
func (p *Provider) Start(ctx context.Context, aware multicluster.Aware) error {
	sliceCache, err := cache.New(p.config, cache.Options{
		Scheme: p.scheme,
		ByObject: map[client.Object]cache.ByObject{
			&apisv1alpha1.APIExportEndpointSlice{}: {Field: fields.SelectorFromSet(fields.Set{"metadata.name": p.endpointSlice})},
		},
	})
	if err != nil {
		return fmt.Errorf("failed to create the cache of endpoint slice %s: %w", p.endpointSlice, err)
	}
	informer, err := sliceCache.GetInformer(ctx, &apisv1alpha1.APIExportEndpointSlice{}, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("failed to watch endpoint slice %s: %w", p.endpointSlice, err)
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		DeleteFunc: func(any) {
			p.log.Info("endpoint slice deleted; disengaging every logical cluster")
			p.followed(nil)
		},
	}); err != nil {
		return fmt.Errorf("failed to watch endpoint slice %s: %w", p.endpointSlice, err)
	}
	go func() {
		if err := sliceCache.Start(ctx); err != nil {
			p.log.Error(err, "watch of the endpoint slice ended")
		}
	}()
	return p.Provider.Start(ctx, aware)
}

// newCluster makes the cluster the provider engages for a logical cluster seen at the shard
// URL cfg.Host, unless that URL has left the slice: the provider stops a departed shard's watch
// only after it asked for the slice's URLs, so an event the old watch delivers in between would
// engage the cluster again, with a cache that no longer changes.
func (p *Provider) newCluster(cfg *rest.Config, name logicalcluster.Name, wildcard mcpcache.WildcardCache, scheme *runtime.Scheme, recorder mcrecorder.EventRecorderGetter) (*mcpcache.ScopedCluster, error) {
	p.mu.Lock()
	following := slices.Contains(p.urls, cfg.Host)
	p.mu.Unlock()
	if !following {
		return nil, fmt.Errorf("not engaging logical cluster %s: its shard %s left the endpoint slice", name, cfg.Host)
	}
	return mcpcache.NewScopedCluster(cfg, name, wildcard, scheme, recorder)
}

// forgetter drops the live reader of a logical cluster whose binding is gone.
type forgetter struct{ p *Provider }

func (f forgetter) OnAdd(client.Object)         {}
func (f forgetter) OnUpdate(_, _ client.Object) {}
func (f forgetter) OnDelete(obj client.Object) {
	f.p.Forget(multicluster.ClusterName(logicalcluster.From(obj)))
}

var _ handlers.Handler = forgetter{}

// followed records the URLs of the slice and disengages the clusters of URLs that left it:
// kcp's apiexport provider (v0.7.1) stops a departed shard's watches but keeps its logical
// clusters engaged, with caches that no longer change, so without this a shard that leaves and
// comes back (a partition's selector changed back, a shard drained and restored) would stay
// stale: the provider engages a cluster only if it has none of that name.
func (p *Provider) followed(urls []string) {
	urls = slices.Clone(urls)
	sort.Strings(urls)
	p.mu.Lock()
	var gone []string
	for _, u := range p.urls {
		if !slices.Contains(urls, u) {
			gone = append(gone, u)
		}
	}
	p.urls = urls
	p.mu.Unlock()
	if len(gone) == 0 || p.Provider == nil {
		return
	}
	for _, name := range p.Clusters.ClusterNames() {
		if url := p.ShardURL(context.Background(), name); slices.Contains(gone, url) {
			p.log.Info("shard left the endpoint slice; disengaging its logical cluster", "url", url, "cluster", name)
			p.Clusters.Remove(name)
			p.Forget(name)
		}
	}
}

// URLs returns the virtual-workspace URLs of the slice as last seen, sorted.
func (p *Provider) URLs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.urls)
}

// ShardURL returns the virtual-workspace URL through which the cluster called name is served,
// or "" if no shard serves it.
func (p *Provider) ShardURL(ctx context.Context, name multicluster.ClusterName) string {
	cl, err := p.Get(ctx, name)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(cl.GetConfig().Host, "/clusters/"+string(name))
}

// LiveReader returns a reader that reads the logical cluster called name straight from its
// shard's virtual workspace, bypassing every cache.
func (p *Provider) LiveReader(ctx context.Context, name multicluster.ClusterName) (client.Reader, error) {
	cl, err := p.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg := cl.GetConfig()
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.live[cfg.Host]; ok {
		return r, nil
	}
	c, err := client.New(cfg, client.Options{Scheme: p.scheme})
	if err != nil {
		return nil, fmt.Errorf("failed to create a live client for %s: %w", name, err)
	}
	p.live[cfg.Host] = c
	return c, nil
}

// Forget drops the live reader of a logical cluster, so no client is kept for a cluster that
// is gone (its organization deleted, its shard left).
func (p *Provider) Forget(name multicluster.ClusterName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for host := range p.live {
		if strings.HasSuffix(host, "/clusters/"+string(name)) {
			delete(p.live, host)
		}
	}
}
