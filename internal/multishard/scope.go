package multishard

import (
	"context"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
)

// The logical clusters of one shard share one wildcard informer per kind; the cluster that
// apiexport.Provider engages hands out a view of it whose event handlers must only see that
// cluster's objects. kcp-dev/multicluster-provider v0.2.1 filters the handlers registered with
// AddEventHandler and AddEventHandlerWithResyncPeriod, but not those registered with
// AddEventHandlerWithOptions, which controller-runtime v0.21's sources use: every watch of
// every engaged cluster then received the events of all clusters, and every controller
// reconciled each event once per organization (requests for objects its cluster does not
// have). Fixed upstream in kcp-dev/multicluster-provider#49, in releases that need newer
// controller-runtime and multicluster-runtime than ours; until we move, the clusters a shard
// engages are wrapped here so that every way of adding a handler filters by cluster.

// scopedEngage is the manager a shard's provider engages its clusters with.
type scopedEngage struct {
	mcmanager.Manager
}

// Engage engages cl with the manager, with informers scoped to the logical cluster name.
func (m scopedEngage) Engage(ctx context.Context, name string, cl cluster.Cluster) error {
	return m.Manager.Engage(ctx, name, scopeEvents(logicalcluster.Name(name), cl))
}

// scopeEvents returns cl with a cache whose informers deliver only name's events.
func scopeEvents(name logicalcluster.Name, cl cluster.Cluster) cluster.Cluster {
	return &eventScopedCluster{Cluster: cl, cache: &eventScopedCache{Cache: cl.GetCache(), name: name}}
}

type eventScopedCluster struct {
	cluster.Cluster
	cache cache.Cache
}

func (c *eventScopedCluster) GetCache() cache.Cache { return c.cache }

type eventScopedCache struct {
	cache.Cache
	name logicalcluster.Name
}

func (c *eventScopedCache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	inf, err := c.Cache.GetInformer(ctx, obj, opts...)
	if err != nil {
		return nil, err
	}
	return &eventScopedInformer{Informer: inf, name: c.name}, nil
}

func (c *eventScopedCache) GetInformerForKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...cache.InformerGetOption) (cache.Informer, error) {
	inf, err := c.Cache.GetInformerForKind(ctx, gvk, opts...)
	if err != nil {
		return nil, err
	}
	return &eventScopedInformer{Informer: inf, name: c.name}, nil
}

// eventScopedInformer filters the events of every handler added to it by logical cluster.
type eventScopedInformer struct {
	cache.Informer
	name logicalcluster.Name
}

func (i *eventScopedInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.Informer.AddEventHandler(onlyCluster(i.name, h))
}

func (i *eventScopedInformer) AddEventHandlerWithResyncPeriod(h toolscache.ResourceEventHandler, resync time.Duration) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.Informer.AddEventHandlerWithResyncPeriod(onlyCluster(i.name, h), resync)
}

func (i *eventScopedInformer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, opts toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.Informer.AddEventHandlerWithOptions(onlyCluster(i.name, h), opts)
}

// onlyCluster passes h the events of objects of the logical cluster name.
func onlyCluster(name logicalcluster.Name, h toolscache.ResourceEventHandler) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			if inCluster(name, obj) {
				h.OnAdd(obj, isInInitialList)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			if inCluster(name, newObj) {
				h.OnUpdate(oldObj, newObj)
			}
		},
		DeleteFunc: func(obj any) {
			if inCluster(name, obj) {
				h.OnDelete(obj)
			}
		},
	}
}

func inCluster(name logicalcluster.Name, obj any) bool {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	o, ok := obj.(logicalcluster.Object)
	return ok && logicalcluster.From(o) == name
}
