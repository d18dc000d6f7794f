package workspace

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/orglimits"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-workspace"
	// FieldManager is the field manager of every write the hub makes on Workspaces.
	FieldManager = "atrium-hub"
)

// Reconciler reconciles hub Workspaces; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager; set by SetupWithManager.
	Manager mcmanager.Manager
	// Platform reads (cached) ComputeClusters of root:atrium. Required.
	Platform client.Reader
	// PlatformCache is watched for ComputeCluster and OrganizationQuota changes. Required.
	PlatformCache cache.Cache
	// Quotas reads the organizations' limits (hub/orglimits). Required.
	Quotas *orglimits.Quotas
	// ShardOf returns the virtual-workspace URL a logical cluster is seen through. Optional:
	// without it workspaces need no shard.
	ShardOf func(ctx context.Context, logicalCluster multicluster.ClusterName) string
	// OrganizationOf returns the name of the organization whose logical cluster is given
	// ("" when unknown), for ComputeClusters' spec.organizations. Optional: without it an
	// organization is known by its logical cluster only.
	OrganizationOf func(ctx context.Context, logicalCluster string) (string, error)
	// Recorder records events about ComputeClusters. Optional.
	Recorder record.EventRecorder
	// HeartbeatGrace is how old a ComputeCluster's heartbeat may be (as clusterhealth's).
	// Required.
	HeartbeatGrace time.Duration
	// DeletionTimeout is how long a deletion waits for an unreachable cluster's agent before
	// the hub releases its finalizer. Required.
	DeletionTimeout time.Duration
	// EvictionGraceOverride replaces the clusters' eviction grace periods when non-zero.
	EvictionGraceOverride time.Duration
	// TimeUnit is the length of one policy minute of idle timeouts and lifetimes. Defaults to
	// time.Minute; tests shorten it.
	TimeUnit time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time

	// capacity is the placement phase's view of what runs where.
	capacity *capacity
	// decide serializes choosing a cluster and reserving the workspace's requests on it.
	decide sync.Mutex
	// writtenFrom holds, per workspace, the resourceVersions the last reconcile's writes went
	// through: a reconcile that reads one of them reads a cache behind the hub's own writes.
	writtenFrom sync.Map
}

func (r *Reconciler) defaults() {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.TimeUnit <= 0 {
		r.TimeUnit = time.Minute
	}
	if r.capacity == nil {
		r.capacity = newCapacity()
	}
}

// Reconcile handles one hub Workspace.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx).WithValues("logicalCluster", req.ClusterName, "workspace", req.NamespacedName)
	ctx = log.IntoContext(ctx, logger)
	cl, err := r.Manager.GetCluster(ctx, req.ClusterName)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to get cluster %s: %w", req.ClusterName, err)
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := cl.GetClient().Get(ctx, req.NamespacedName, ws); err != nil {
		if apierrors.IsNotFound(err) {
			r.capacity.forget(req)
			r.writtenFrom.Delete(req)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	s := newScope(req, cl.GetClient(), ws, r.Now())
	if r.cacheBehind(s) {
		logger.V(1).Info("cache behind the hub's own write; waiting for it", "resourceVersion", ws.ResourceVersion)
		return reconcile.Result{}, nil
	}
	return r.reconcile(ctx, s)
}

// phase decides one concern of the workspace in s; see the package documentation.
type phase func(ctx context.Context, s *scope) error

func (r *Reconciler) reconcile(ctx context.Context, s *scope) (reconcile.Result, error) {
	r.capacity.observe(s.req, s.orig)
	phases := []phase{r.reconcileOwner, r.reconcileValidity, r.reconcileSharing, r.reconcileLimits,
		r.reconcilePlacement, r.reconcileReachability, r.reconcileLifecycle}
	var errs []error
	for _, p := range phases {
		if err := p(ctx, s); err != nil {
			// Later phases may depend on this one: write what was decided so far.
			errs = append(errs, err)
			break
		}
	}
	outdated, err := r.write(ctx, s)
	if err != nil {
		errs = append(errs, err)
	}
	if outdated {
		return reconcile.Result{RequeueAfter: time.Second}, errors.Join(errs...)
	}
	return reconcile.Result{RequeueAfter: s.requeueAfter}, errors.Join(errs...)
}
