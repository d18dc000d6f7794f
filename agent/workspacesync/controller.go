package workspacesync

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/atrium-dev/atrium/agent/confine"
	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "atrium-workspacesync"

// What a hub write changed, as reported to Reconciler.OnHubWrite.
const (
	// WriteFinalizer adds or removes the agent's finalizer.
	WriteFinalizer = "finalizer"
	// WriteStatus patches the agent-owned part of the status.
	WriteStatus = "status"
)

// Reconciler syncs hub Workspaces placed on this compute cluster with their local mirrors; see
// the package doc.
type Reconciler struct {
	// Cluster is this compute cluster's name, as in status.placement.cluster. Required.
	Cluster string
	// Local is a client for the compute cluster, reading from its cache. Required.
	Local client.Client
	// LocalCache is the compute cluster's cache, whose LocalWorkspace events are mapped back to
	// their hub workspaces. Required.
	LocalCache cache.Cache
	// LocalReader reads the compute cluster past the cache, which holds only the namespaces
	// the agent manages: it finds a namespace of a workspace's name that someone else made, to
	// adopt it. Defaults to Local.
	LocalReader client.Reader
	// LiveReader reads a logical cluster past every cache, only off the hot path: a workspace
	// that is not in the cache, and a mirror whose hub object seems gone. Without it (tests of
	// the syncer alone) nothing out of the cache is acted on and no mirror is removed as an
	// orphan.
	LiveReader func(ctx context.Context, logicalCluster multicluster.ClusterName) (client.Reader, error)
	// ShardOf returns the shard serving a logical cluster (recorded in the mirror's origin).
	// Optional.
	ShardOf func(ctx context.Context, logicalCluster multicluster.ClusterName) string
	// DefaultAccessStrategy is this cluster's access strategy for workspaces whose effective
	// spec names none. Defaults to none.
	DefaultAccessStrategy string
	// Confiner confines every namespace before a mirror is written into it. The agent always
	// sets it; nil (tests of the syncer alone) leaves namespaces as created.
	Confiner *confine.Confiner
	// MaxConcurrentReconciles is how many workspaces are synced at once. Defaults to 1.
	MaxConcurrentReconciles int
	// DeletionPollInterval is how often a workspace being cleaned up is checked again while
	// its mirror is being removed (its deletion event usually comes first). Defaults to 1
	// second.
	DeletionPollInterval time.Duration
	// OutOfCachePollInterval is how often a workspace this agent still holds (placed here,
	// with its finalizer, or with a mirror here) is read live while it is not in the cache.
	// Defaults to 5 seconds.
	OutOfCachePollInterval time.Duration
	// RetryInterval is how long to wait when a mirror's logical cluster is not served (yet):
	// its shard is being followed, or the hub is unreachable. Defaults to 5 seconds.
	RetryInterval time.Duration
	// ConflictBackoff is the delay before retrying a hub write that met a newer version, with
	// up to as much again of jitter; it doubles with every further conflict of the workspace
	// up to MaxConflictBackoff. Defaults to 200 milliseconds.
	ConflictBackoff time.Duration
	// MaxConflictBackoff caps ConflictBackoff's growth. Defaults to 10 seconds.
	MaxConflictBackoff time.Duration
	// OnHubWrite, when set, observes every write to a hub Workspace: what it changed
	// (WriteFinalizer, WriteStatus) and its error (nil when written).
	OnHubWrite func(write string, err error)
	// OnStatusWrite, when set, observes every status written to the hub with the time since
	// the mirror's status last changed (the sync lag).
	OnStatusWrite func(lag time.Duration)

	manager   mcmanager.Manager
	writes    lastWrites
	conflicts *backoff
}

func (r *Reconciler) defaults() {
	if r.LocalReader == nil {
		r.LocalReader = r.Local
	}
	if r.MaxConcurrentReconciles <= 0 {
		r.MaxConcurrentReconciles = 1
	}
	if r.DeletionPollInterval <= 0 {
		r.DeletionPollInterval = time.Second
	}
	if r.OutOfCachePollInterval <= 0 {
		r.OutOfCachePollInterval = 5 * time.Second
	}
	if r.RetryInterval <= 0 {
		r.RetryInterval = 5 * time.Second
	}
	if r.ConflictBackoff <= 0 {
		r.ConflictBackoff = 200 * time.Millisecond
	}
	if r.MaxConflictBackoff < r.ConflictBackoff {
		r.MaxConflictBackoff = max(10*time.Second, r.ConflictBackoff)
	}
	if r.OnHubWrite == nil {
		r.OnHubWrite = func(string, error) {}
	}
	if r.OnStatusWrite == nil {
		r.OnStatusWrite = func(time.Duration) {}
	}
	r.conflicts = newBackoff(r.ConflictBackoff, r.MaxConflictBackoff)
}

// SetupWithManager registers the controller with the hub-side multicluster manager; the
// mirrors' events come from LocalCache, which the compute cluster's manager runs.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Local == nil || r.LocalCache == nil {
		return errors.New("workspacesync: Local and LocalCache are required")
	}
	r.defaults()
	r.manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		WatchesRawSource(source.TypedKind[*computev1alpha1.LocalWorkspace, mcreconcile.Request](r.LocalCache, &computev1alpha1.LocalWorkspace{},
			handler.TypedEnqueueRequestsFromMapFunc(originOf), mirrorChanged{})).
		WithOptions(controller.TypedOptions[mcreconcile.Request]{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// Reconcile syncs one hub Workspace with its mirror.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx).WithValues("logicalCluster", req.ClusterName, "workspace", req.NamespacedName, "computeCluster", r.Cluster)
	ctx = log.IntoContext(ctx, logger)
	logicalCluster := string(req.ClusterName)

	lw, err := r.getMirror(ctx, logicalCluster, req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	cl, err := r.manager.GetCluster(ctx, req.ClusterName)
	if err != nil {
		if errors.Is(err, multicluster.ErrClusterNotFound) {
			if lw == nil {
				return ctrl.Result{}, nil
			}
			// Not served (yet): the shard is being followed, or the hub is unreachable. Wait;
			// silence is never a reason to delete.
			return ctrl.Result{RequeueAfter: r.RetryInterval}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get cluster %s: %w", req.ClusterName, err)
	}
	s := &scope{hub: cl.GetClient(), logicalCluster: logicalCluster, key: req.NamespacedName, lw: lw}
	ws := &workspacesv1alpha1.Workspace{}
	if err := s.hub.Get(ctx, req.NamespacedName, ws); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("failed to get workspace: %w", err)
		}
		return r.reconcileOutOfCache(ctx, s)
	}
	s.ws = r.writes.latest(ws)
	return r.reconcile(ctx, s)
}

// getMirror returns the mirror of the hub workspace key of logicalCluster, or nil.
func (r *Reconciler) getMirror(ctx context.Context, logicalCluster string, key types.NamespacedName) (*computev1alpha1.LocalWorkspace, error) {
	lw := &computev1alpha1.LocalWorkspace{}
	err := r.Local.Get(ctx, client.ObjectKey{Namespace: mirror.Namespace(logicalCluster, key.Namespace), Name: key.Name}, lw)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("failed to get local mirror: %w", err)
	}
	return lw, nil
}

// reconcile is one pass over a workspace the agent has at hand (from the cache, or read live):
// the decision, then the phases it calls for, each writing only what differs.
func (r *Reconciler) reconcile(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.lw != nil && s.lw.Spec.Origin.UID != s.ws.UID {
		// A mirror of an earlier hub object of the same name: it goes first (once a live read
		// confirms its object is gone), and nothing below touches it.
		res, err := r.removeOrphan(ctx, s.logicalCluster, s.lw)
		if err != nil || res.RequeueAfter > 0 {
			return res, err
		}
		s.staleMirror, s.lw = true, nil
	}
	var res ctrl.Result
	var err error
	switch decide(r.Cluster, s.ws) {
	case actionNone:
		return ctrl.Result{}, nil
	case actionWait:
		log.FromContext(ctx).V(1).Info("waiting for the hub's effective spec")
		return ctrl.Result{}, nil
	case actionCleanup:
		res, err = r.cleanup(ctx, s)
	case actionSync:
		res, err = r.sync(ctx, s)
	}
	if errors.Is(err, errConflict) {
		delay := r.conflicts.next(s.ws.UID)
		log.FromContext(ctx).V(1).Info("hub workspace changed meanwhile; retrying after the cache caught up", "after", delay)
		return ctrl.Result{RequeueAfter: delay}, nil
	}
	r.conflicts.reset(s.ws.UID)
	return res, err
}

// sync runs the phases of a workspace placed here: finalizer, namespace, mirror, status.
func (r *Reconciler) sync(ctx context.Context, s *scope) (ctrl.Result, error) {
	if err := r.ensureFinalizer(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.ensureNamespace(ctx, s.logicalCluster, s.ws.Namespace); err != nil {
		return ctrl.Result{}, err
	}
	if s.staleMirror {
		// The earlier object's mirror is being removed; its deletion event brings us back.
		return ctrl.Result{RequeueAfter: r.DeletionPollInterval}, nil
	}
	if err := r.ensureMirror(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.writeStatus(ctx, s)
}

// reconcileOutOfCache handles a workspace the hub cache does not hold: deleted, moved away (the
// hub relabels it after changing its placement, or unlabels it on eviction), not labelled yet,
// or never seen because it moved while the agent was down (its mirror's events lead here).
// Only a live read tells; this is the cold path.
func (r *Reconciler) reconcileOutOfCache(ctx context.Context, s *scope) (ctrl.Result, error) {
	reader := r.liveReader(ctx, s.logicalCluster)
	if reader == nil {
		if s.lw != nil {
			return ctrl.Result{RequeueAfter: r.RetryInterval}, nil
		}
		return ctrl.Result{}, nil
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := reader.Get(ctx, s.key, ws); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("failed to read workspace: %w", err)
		}
		ws = nil
	}
	if s.lw != nil && (ws == nil || ws.UID != s.lw.Spec.Origin.UID) {
		// The live answer is the confirmation removeOrphan would read again.
		if err := r.deleteMirror(ctx, s.lw, "hub workspace is gone; removing its local mirror"); err != nil {
			return ctrl.Result{}, err
		}
		if ws == nil {
			return ctrl.Result{}, nil
		}
		s.staleMirror, s.lw = true, nil
	}
	if ws == nil {
		return ctrl.Result{}, nil
	}
	if !ws.IsPlacedOn(r.Cluster) && !hasFinalizer(ws, r.Cluster) {
		if s.lw != nil {
			// Not ours to clean up (no finalizer of ours), but its mirror is here: keep
			// looking, it may come back or be deleted.
			return ctrl.Result{RequeueAfter: r.OutOfCachePollInterval}, nil
		}
		return ctrl.Result{}, nil
	}
	s.ws = r.writes.latest(ws)
	res, err := r.reconcile(ctx, s)
	if err == nil && res.RequeueAfter == 0 {
		// Out of the cache, its changes bring no events: read it again until it is back in
		// the cache (labelled as placed here) or let go of.
		res.RequeueAfter = r.OutOfCachePollInterval
	}
	return res, err
}

// liveReader returns the live reader of logicalCluster, or nil.
func (r *Reconciler) liveReader(ctx context.Context, logicalCluster string) client.Reader {
	if r.LiveReader == nil {
		return nil
	}
	reader, err := r.LiveReader(ctx, multicluster.ClusterName(logicalCluster))
	if err != nil {
		log.FromContext(ctx).V(1).Info("logical cluster not served; cannot read it live", "error", err.Error())
		return nil
	}
	return reader
}

// scope is what one reconcile works on.
type scope struct {
	// hub is the client of the workspace's logical cluster (reads from the cache).
	hub            client.Client
	logicalCluster string
	// key is the hub workspace's namespace and name.
	key types.NamespacedName
	// ws is the hub workspace as last read or written.
	ws *workspacesv1alpha1.Workspace
	// lw is its mirror as last read or written; nil when there is none.
	lw *computev1alpha1.LocalWorkspace
	// staleMirror says a mirror of an earlier hub object of the same name is in the way.
	staleMirror bool
}

// originOf maps a mirror to its hub workspace.
func originOf(_ context.Context, lw *computev1alpha1.LocalWorkspace) []mcreconcile.Request {
	o := lw.Spec.Origin
	if o.LogicalCluster == "" || o.Name == "" {
		return nil
	}
	return []mcreconcile.Request{{
		ClusterName: multicluster.ClusterName(o.LogicalCluster),
		Request:     ctrl.Request{NamespacedName: types.NamespacedName{Namespace: o.Namespace, Name: o.Name}},
	}}
}
