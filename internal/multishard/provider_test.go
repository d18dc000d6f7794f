package multishard

import (
	"context"
	"sync"
	"testing"

	apisv1alpha1 "github.com/kcp-dev/kcp/sdk/apis/apis/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
)

// fakeChild stands in for one shard's apiexport provider: it serves a fixed set of clusters
// and records whether it runs.
type fakeChild struct {
	url      string
	clusters map[string]bool
	mu       sync.Mutex
	running  bool
	indexes  []string
}

func (f *fakeChild) Get(_ context.Context, name string) (cluster.Cluster, error) {
	if f.clusters[name] {
		return nil, nil
	}
	return nil, multicluster.ErrClusterNotFound
}

func (f *fakeChild) IndexField(_ context.Context, _ client.Object, field string, _ client.IndexerFunc) error {
	f.indexes = append(f.indexes, field)
	return nil
}

func (f *fakeChild) Run(ctx context.Context, _ mcmanager.Manager) error {
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return nil
}

func TestProviderFollowsTheSlice(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := apisv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	slice := &apisv1alpha1.APIExportEndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "export"}}
	slice.Status.APIExportEndpoints = []apisv1alpha1.APIExportEndpoint{{URL: "https://shard-1/vw"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(slice).WithStatusSubresource(slice).Build()

	clustersByURL := map[string]map[string]bool{
		"https://shard-1/vw": {"org-a": true},
		"https://shard-2/vw": {"org-b": true},
	}
	children := map[string]*fakeChild{}
	var changes [][]string
	p, err := New(&rest.Config{Host: "https://hub/clusters/root:atrium"}, Options{
		EndpointSlice: "export",
		Scheme:        scheme,
		NewChild: func(cfg *rest.Config, _ *runtime.Scheme) (Child, error) {
			ch := &fakeChild{url: cfg.Host, clusters: clustersByURL[cfg.Host]}
			children[cfg.Host] = ch
			return ch, nil
		},
		OnChange: func(urls []string) { changes = append(changes, urls) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.IndexField(ctx, nil, "by-owner", nil); err != nil {
		t.Fatal(err)
	}

	t.Run("one shard", func(t *testing.T) {
		if err := p.sync(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		if got := p.URLs(); len(got) != 1 || got[0] != "https://shard-1/vw" {
			t.Fatalf("URLs = %v", got)
		}
		if _, err := p.Get(ctx, "org-a"); err != nil {
			t.Fatalf("org-a should be served: %v", err)
		}
		if _, err := p.Get(ctx, "org-b"); err == nil {
			t.Fatal("org-b is on a shard not yet in the slice")
		}
		if got := children["https://shard-1/vw"].indexes; len(got) != 1 || got[0] != "by-owner" {
			t.Fatalf("indexes registered before the shard appeared must be applied to it, got %v", got)
		}
	})

	t.Run("a shard appears", func(t *testing.T) {
		slice.Status.APIExportEndpoints = append(slice.Status.APIExportEndpoints, apisv1alpha1.APIExportEndpoint{URL: "https://shard-2/vw"})
		if err := c.Status().Update(ctx, slice); err != nil {
			t.Fatal(err)
		}
		if err := p.sync(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Get(ctx, "org-b"); err != nil {
			t.Fatalf("org-b should be served: %v", err)
		}
		if got := p.ShardURL(ctx, "org-b"); got != "https://shard-2/vw" {
			t.Fatalf("ShardURL(org-b) = %q", got)
		}
	})

	t.Run("a shard is drained", func(t *testing.T) {
		slice.Status.APIExportEndpoints = slice.Status.APIExportEndpoints[1:]
		if err := c.Status().Update(ctx, slice); err != nil {
			t.Fatal(err)
		}
		if err := p.sync(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Get(ctx, "org-a"); err == nil {
			t.Fatal("org-a's shard left the slice; it must no longer be served")
		}
		if got := p.URLs(); len(got) != 1 || got[0] != "https://shard-2/vw" {
			t.Fatalf("URLs = %v", got)
		}
	})

	t.Run("an unreadable slice keeps the shards", func(t *testing.T) {
		if err := c.Delete(ctx, slice); err != nil {
			t.Fatal(err)
		}
		if err := p.sync(ctx, c, nil); err == nil {
			t.Fatal("want an error for a missing slice")
		}
		if got := p.URLs(); len(got) != 1 {
			t.Fatalf("no deletes on silence: URLs = %v", got)
		}
	})

	if len(changes) != 3 {
		t.Fatalf("OnChange calls = %v, want 3", changes)
	}
	p.stopAll()
}
