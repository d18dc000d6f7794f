package multishard

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apisv1alpha1 "github.com/kcp-dev/kcp/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/kcp/sdk/apis/apis/v1alpha2"
	"github.com/kcp-dev/multicluster-provider/apiexport"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
)

// Child is what the Provider needs of a per-URL provider; apiexport.Provider satisfies it.
type Child interface {
	multicluster.Provider
	Run(ctx context.Context, mgr mcmanager.Manager) error
}

// Options configures a Provider.
type Options struct {
	// EndpointSlice is the name of the APIExportEndpointSlice to follow, in the logical cluster
	// the provider config points at. Required.
	EndpointSlice string
	// Scheme is used by the per-shard caches. Required.
	Scheme *runtime.Scheme
	// PollInterval is how often the slice is re-read. Defaults to 5 seconds.
	PollInterval time.Duration
	// NewChild creates the provider of one virtual-workspace URL. Defaults to an
	// apiexport.Provider watching apis.kcp.io/v1alpha2 APIBindings (the only version the
	// virtual workspace serves; v1alpha1 silently engages nothing).
	NewChild func(cfg *rest.Config, scheme *runtime.Scheme) (Child, error)
	// OnChange, when set, is called with the current URLs after they changed.
	OnChange func(urls []string)
}

func (o *Options) defaults() {
	if o.PollInterval == 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.NewChild == nil {
		o.NewChild = func(cfg *rest.Config, scheme *runtime.Scheme) (Child, error) {
			return apiexport.New(cfg, apiexport.Options{Scheme: scheme, ObjectToWatch: &apisv1alpha2.APIBinding{}})
		}
	}
}

// Provider follows an APIExportEndpointSlice; see the package documentation.
type Provider struct {
	cfg  *rest.Config
	opts Options
	log  logr.Logger

	mu       sync.RWMutex
	children map[string]*child
	indexers []indexer
	live     map[string]client.Client
}

type child struct {
	url      string
	provider Child
	cancel   context.CancelFunc
	done     chan struct{}
}

type indexer struct {
	obj     client.Object
	field   string
	extract client.IndexerFunc
}

var _ multicluster.Provider = &Provider{}

// New returns a Provider that reads the slice with cfg (which points at the provider workspace).
func New(cfg *rest.Config, opts Options) (*Provider, error) {
	if opts.EndpointSlice == "" {
		return nil, errors.New("multishard: Options.EndpointSlice is required")
	}
	if opts.Scheme == nil {
		return nil, errors.New("multishard: Options.Scheme is required")
	}
	opts.defaults()
	return &Provider{
		cfg:      rest.CopyConfig(cfg),
		opts:     opts,
		log:      log.Log.WithName("multishard").WithValues("endpointSlice", opts.EndpointSlice),
		children: map[string]*child{},
		live:     map[string]client.Client{},
	}, nil
}

// Run follows the slice until ctx ends, engaging the clusters of every shard with mgr.
func (p *Provider) Run(ctx context.Context, mgr mcmanager.Manager) error {
	s := runtime.NewScheme()
	if err := apisv1alpha1.AddToScheme(s); err != nil {
		return fmt.Errorf("failed to build scheme: %w", err)
	}
	c, err := client.New(p.cfg, client.Options{Scheme: s})
	if err != nil {
		return fmt.Errorf("failed to create client for the endpoint slice: %w", err)
	}
	defer p.stopAll()
	ticker := time.NewTicker(p.opts.PollInterval)
	defer ticker.Stop()
	for {
		if err := p.sync(ctx, c, mgr); err != nil {
			// No deletes on silence: an unreadable slice keeps the shards we have.
			p.log.Error(err, "failed to read the endpoint slice; keeping the current shards")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

func (p *Provider) sync(ctx context.Context, c client.Client, mgr mcmanager.Manager) error {
	slice := &apisv1alpha1.APIExportEndpointSlice{}
	if err := c.Get(ctx, client.ObjectKey{Name: p.opts.EndpointSlice}, slice); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("APIExportEndpointSlice %q not found: %w", p.opts.EndpointSlice, err)
		}
		return fmt.Errorf("failed to get APIExportEndpointSlice %q: %w", p.opts.EndpointSlice, err)
	}
	want := map[string]bool{}
	for _, ep := range slice.Status.APIExportEndpoints {
		want[ep.URL] = true
	}

	p.mu.Lock()
	changed := false
	for url, ch := range p.children {
		if !want[url] {
			p.log.Info("shard left the endpoint slice; stopping its provider", "url", url)
			ch.cancel()
			delete(p.children, url)
			changed = true
		}
	}
	for url := range want {
		if _, ok := p.children[url]; ok {
			continue
		}
		ch, err := p.startChild(ctx, url, mgr)
		if err != nil {
			p.mu.Unlock()
			return err
		}
		p.children[url] = ch
		changed = true
	}
	urls := p.urlsLocked()
	p.mu.Unlock()
	if changed && p.opts.OnChange != nil {
		p.opts.OnChange(urls)
	}
	return nil
}

// startChild creates and runs the provider of one URL; it is restarted with backoff if it fails
// while its URL is still in the slice. Called with p.mu held.
func (p *Provider) startChild(ctx context.Context, url string, mgr mcmanager.Manager) (*child, error) {
	cfg := rest.CopyConfig(p.cfg)
	cfg.Host = url
	prov, err := p.opts.NewChild(cfg, p.opts.Scheme)
	if err != nil {
		return nil, fmt.Errorf("failed to create provider for %s: %w", url, err)
	}
	for _, ix := range p.indexers {
		if err := prov.IndexField(ctx, ix.obj, ix.field, ix.extract); err != nil {
			return nil, fmt.Errorf("failed to add index %s to the provider of %s: %w", ix.field, url, err)
		}
	}
	childCtx, cancel := context.WithCancel(ctx)
	ch := &child{url: url, provider: prov, cancel: cancel, done: make(chan struct{})}
	p.log.Info("following shard", "url", url)
	go func() {
		defer close(ch.done)
		backoff := time.Second
		for {
			err := prov.Run(childCtx, scopedEngage{Manager: mgr})
			if childCtx.Err() != nil {
				return
			}
			p.log.Error(err, "provider of shard stopped; restarting", "url", url, "backoff", backoff)
			select {
			case <-childCtx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
		}
	}()
	return ch, nil
}

func (p *Provider) stopAll() {
	p.mu.Lock()
	children := p.children
	p.children = map[string]*child{}
	p.mu.Unlock()
	for _, ch := range children {
		ch.cancel()
		<-ch.done
	}
}

// Get returns the cluster called name from whichever shard serves it.
func (p *Provider) Get(ctx context.Context, name string) (cluster.Cluster, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, ch := range p.children {
		if cl, err := ch.provider.Get(ctx, name); err == nil {
			return cl, nil
		}
	}
	return nil, multicluster.ErrClusterNotFound
}

// ShardURL returns the virtual-workspace URL through which the cluster called name is served,
// or "" if no shard serves it.
func (p *Provider) ShardURL(ctx context.Context, name string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for url, ch := range p.children {
		if _, err := ch.provider.Get(ctx, name); err == nil {
			return url
		}
	}
	return ""
}

// LiveReader returns a reader that reads the logical cluster called name straight from its
// shard's virtual workspace, bypassing every cache. The clusters' own GetAPIReader is their
// cache in multicluster-provider v0.2.1, so it cannot confirm that an object is gone.
func (p *Provider) LiveReader(ctx context.Context, name string) (client.Reader, error) {
	url := p.ShardURL(ctx, name)
	if url == "" {
		return nil, multicluster.ErrClusterNotFound
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := url + "/clusters/" + name
	if r, ok := p.live[key]; ok {
		return r, nil
	}
	cfg := rest.CopyConfig(p.cfg)
	cfg.Host = key
	c, err := client.New(cfg, client.Options{Scheme: p.opts.Scheme})
	if err != nil {
		return nil, fmt.Errorf("failed to create a live client for %s: %w", name, err)
	}
	p.live[key] = c
	return c, nil
}

// IndexField adds an index to every current and future shard's cache.
func (p *Provider) IndexField(ctx context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.indexers = append(p.indexers, indexer{obj: obj, field: field, extract: extract})
	var errs []error
	for _, ch := range p.children {
		errs = append(errs, ch.provider.IndexField(ctx, obj, field, extract))
	}
	return errors.Join(errs...)
}

// URLs returns the virtual-workspace URLs currently followed, sorted.
func (p *Provider) URLs() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.urlsLocked()
}

func (p *Provider) urlsLocked() []string {
	urls := make([]string, 0, len(p.children))
	for url := range p.children {
		urls = append(urls, url)
	}
	sort.Strings(urls)
	return urls
}
