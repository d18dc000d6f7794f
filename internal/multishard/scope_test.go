package multishard

import (
	"context"
	"testing"

	"github.com/kcp-dev/logicalcluster/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
)

// sharedInformer stands in for a shard's wildcard informer: it hands every event to every
// handler, whatever the cluster, as the informer of multicluster-provider v0.2.1 does for
// handlers added with AddEventHandlerWithOptions.
type sharedInformer struct {
	cache.Informer
	handlers []toolscache.ResourceEventHandler
}

func (s *sharedInformer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, _ toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	s.handlers = append(s.handlers, h)
	return nil, nil
}

func (s *sharedInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	s.handlers = append(s.handlers, h)
	return nil, nil
}

type sharedCache struct {
	cache.Cache
	informer *sharedInformer
}

func (c *sharedCache) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return c.informer, nil
}

type shardCluster struct {
	cluster.Cluster
	cache *sharedCache
}

func (c *shardCluster) GetCache() cache.Cache { return c.cache }

// engageRecorder is the manager: it keeps the clusters engaged with it.
type engageRecorder struct {
	mcmanager.Manager
	engaged map[string]cluster.Cluster
}

func (m *engageRecorder) Engage(_ context.Context, name string, cl cluster.Cluster) error {
	m.engaged[name] = cl
	return nil
}

// counter counts the events a handler receives, by object name.
type counter map[string]int

func (c counter) OnAdd(obj any, _ bool) { c[obj.(client.Object).GetName()]++ }
func (c counter) OnUpdate(_, obj any)   { c[obj.(client.Object).GetName()]++ }
func (c counter) OnDelete(obj any)      { c[objName(obj)]++ }
func objName(obj any) string {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	return obj.(client.Object).GetName()
}

func TestEngagedClustersSeeOnlyTheirOwnEvents(t *testing.T) {
	shared := &sharedInformer{}
	mgr := &engageRecorder{engaged: map[string]cluster.Cluster{}}
	engage := scopedEngage{Manager: mgr}
	for _, name := range []string{"org-a", "org-b"} {
		if err := engage.Engage(context.Background(), name, &shardCluster{cache: &sharedCache{informer: shared}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]counter{}
	for name, cl := range mgr.engaged {
		inf, err := cl.GetCache().GetInformer(context.Background(), &corev1.ConfigMap{})
		if err != nil {
			t.Fatal(err)
		}
		seen[name] = counter{}
		// The way controller-runtime v0.21's sources add their handlers.
		if _, err := inf.AddEventHandlerWithOptions(seen[name], toolscache.HandlerOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	obj := func(cluster, name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{logicalcluster.AnnotationKey: cluster}}}
	}
	for _, h := range shared.handlers {
		h.OnAdd(obj("org-a", "a1"), false)
		h.OnUpdate(obj("org-a", "a1"), obj("org-a", "a1"))
		h.OnAdd(obj("org-b", "b1"), false)
		h.OnDelete(toolscache.DeletedFinalStateUnknown{Obj: obj("org-b", "b1")})
	}
	if got := seen["org-a"]; len(got) != 1 || got["a1"] != 2 {
		t.Errorf("org-a saw %v, want only a1 twice", got)
	}
	if got := seen["org-b"]; len(got) != 1 || got["b1"] != 2 {
		t.Errorf("org-b saw %v, want only b1 twice", got)
	}
}
