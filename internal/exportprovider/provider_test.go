package exportprovider

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/kcp-dev/logicalcluster/v3"
	mcpcache "github.com/kcp-dev/multicluster-provider/pkg/cache"
	"github.com/kcp-dev/multicluster-provider/pkg/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/multicluster-runtime/pkg/clusters"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
)

const (
	root   = "https://127.0.0.1:6443/services/apiexport/2x5hxgoxl6y6xy3q/workspaces.atrium.dev"
	shard1 = "https://127.0.0.1:6444/services/apiexport/2x5hxgoxl6y6xy3q/workspaces.atrium.dev"
)

// fakeCluster is an engaged logical cluster as the provider holds it: only its config (the
// shard's URL plus /clusters/<name>), a cache that is synced, and a life until disengaged.
type fakeCluster struct {
	cluster.Cluster
	cfg     *rest.Config
	stopped chan struct{}
}

type syncedCache struct{ cache.Cache }

func (syncedCache) WaitForCacheSync(context.Context) bool { return true }

func (f *fakeCluster) GetConfig() *rest.Config { return f.cfg }
func (f *fakeCluster) GetCache() cache.Cache   { return syncedCache{} }
func (f *fakeCluster) Start(ctx context.Context) error {
	<-ctx.Done()
	close(f.stopped)
	return nil
}

// newProvider is a Provider around the upstream one's cluster set, without its informers (they
// need a kcp): the tests drive followed and newCluster as the upstream provider calls them.
func newProvider(t *testing.T) *Provider {
	t.Helper()
	return &Provider{
		Provider: &provider.Provider{Clusters: clusters.New[cluster.Cluster]()},
		scheme:   runtime.NewScheme(),
		log:      logr.Discard(),
		live:     map[string]client.Client{},
	}
}

// engage adds a logical cluster served at shard, as the upstream provider does.
func engage(t *testing.T, p *Provider, shard, name string) *fakeCluster {
	t.Helper()
	cl := &fakeCluster{cfg: &rest.Config{Host: shard + "/clusters/" + name}, stopped: make(chan struct{})}
	require.NoError(t, p.Clusters.Add(context.Background(), multicluster.ClusterName(name), cl, nil))
	return cl
}

// TestShardLeavingDisengagesItsClusters: when a URL leaves the slice, the logical clusters
// served through it are disengaged (their context ends, Get no longer finds them), and those of
// the remaining shard stay; a URL that comes back can engage its clusters afresh.
func TestShardLeavingDisengagesItsClusters(t *testing.T) {
	p := newProvider(t)
	p.followed([]string{shard1, root})
	assert.Equal(t, []string{root, shard1}, p.URLs(), "sorted")
	acme := engage(t, p, root, "acme-cluster")
	globex := engage(t, p, shard1, "globex-cluster")
	assert.Equal(t, shard1, p.ShardURL(context.Background(), "globex-cluster"))
	assert.Equal(t, root, p.ShardURL(context.Background(), "acme-cluster"))

	p.followed([]string{root})
	select {
	case <-globex.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the cluster of the departed shard is still running")
	}
	_, err := p.Get(context.Background(), "globex-cluster")
	require.ErrorIs(t, err, multicluster.ErrClusterNotFound)
	assert.Equal(t, "", p.ShardURL(context.Background(), "globex-cluster"))
	_, err = p.Get(context.Background(), "acme-cluster")
	require.NoError(t, err, "the remaining shard's cluster stays engaged")
	select {
	case <-acme.stopped:
		t.Fatal("the remaining shard's cluster was stopped")
	default:
	}

	// While shard-1 is gone its clusters are not engaged again, even by a late event of its
	// old watch; once it is back they are.
	_, err = p.newCluster(&rest.Config{Host: shard1}, logicalcluster.Name("globex-cluster"), nil, runtime.NewScheme(), nil)
	require.ErrorContains(t, err, "left the endpoint slice")
	p.followed([]string{root, shard1})
	engage(t, p, shard1, "globex-cluster")
	assert.Equal(t, shard1, p.ShardURL(context.Background(), "globex-cluster"))
}

// TestSliceEmptied: a slice without endpoints (kcp omits the field) disengages everything.
func TestSliceEmptied(t *testing.T) {
	p := newProvider(t)
	p.followed([]string{root})
	cl := engage(t, p, root, "acme-cluster")
	p.followed(nil)
	select {
	case <-cl.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("still engaged")
	}
	assert.Empty(t, p.URLs())
}

func TestForget(t *testing.T) {
	p := newProvider(t)
	p.followed([]string{root})
	engage(t, p, root, "acme-cluster")
	p.live[root+"/clusters/acme-cluster"] = nil
	p.live[root+"/clusters/other"] = nil
	p.Forget("acme-cluster")
	assert.NotContains(t, p.live, root+"/clusters/acme-cluster")
	assert.Contains(t, p.live, root+"/clusters/other")
}

// TestNew: the provider is built without contacting kcp.
func TestNew(t *testing.T) {
	_, err := New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{Scheme: runtime.NewScheme()})
	require.ErrorContains(t, err, "EndpointSlice is required")
	_, err = New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{EndpointSlice: "x"})
	require.ErrorContains(t, err, "Scheme is required")
}

// TestUpstreamAPIReaderIsTheCache pins why LiveReader exists: the upstream provider's clusters
// answer GetAPIReader with their cache (multicluster-provider v0.7.1), which cannot confirm that
// an object is gone. If this fails, upstream offers a live reader: use it and drop LiveReader.
func TestUpstreamAPIReaderIsTheCache(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1/services/apiexport/x/workspaces.atrium.dev"}
	wildcard, err := mcpcache.NewWildcardCache(cfg, cache.Options{Scheme: runtime.NewScheme()})
	require.NoError(t, err)
	cl, err := mcpcache.NewScopedCluster(cfg, logicalcluster.Name("acme-cluster"), wildcard, runtime.NewScheme(), nil)
	require.NoError(t, err)
	assert.Same(t, any(cl.GetCache()), any(cl.GetAPIReader()), "the upstream API reader is the scoped cache")
}
