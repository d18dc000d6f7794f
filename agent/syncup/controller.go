package syncup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"github.com/atrium-dev/atrium/agent/hubpatch"
	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "atrium-syncup"

// agentConditions are the hub conditions the agent owns.
var agentConditions = []workspacesv1alpha1.ConditionType{
	workspacesv1alpha1.ConditionAvailable,
	workspacesv1alpha1.ConditionProgressing,
	workspacesv1alpha1.ConditionDegraded,
	workspacesv1alpha1.ConditionStopped,
	workspacesv1alpha1.ConditionIdleDetection,
}

// Reconciler writes LocalWorkspace status to the hub.
type Reconciler struct {
	// Cluster is this compute cluster's name.
	Cluster string
	// Local is a client for the compute cluster.
	Local client.Client
	// Hub finds the hub cluster (logical cluster) of a mirror's origin.
	Hub multicluster.Provider
	// LiveReader reads a logical cluster bypassing caches; only a live read may conclude that
	// a hub object is gone.
	LiveReader func(ctx context.Context, logicalCluster multicluster.ClusterName) (client.Reader, error)
	// RetryInterval is how long to wait when the origin's logical cluster is not (yet) served.
	// Defaults to 5 seconds.
	RetryInterval time.Duration
	// OnStatusWrite, when set, observes every status written to the hub with the time since
	// the local status last changed (the sync lag).
	OnStatusWrite func(lag time.Duration)
	// MaxConcurrentReconciles is how many mirrors are synced at once. Defaults to 1.
	MaxConcurrentReconciles int
	// HubWriter writes hub Workspaces; share one between sync down and sync up, so each
	// starts from the other's last write while the cache is behind. Defaults to one of its own.
	HubWriter *hubpatch.Writer
	// Resync, when set, hands a hub workspace that exists but is not in the hub cache to the
	// syncer that owns the finalizer (syncdown.Reconciler.Enqueue): the cache holds only the
	// workspaces labelled as placed here, so one moved away while the agent was down is seen
	// only through its mirror, here.
	Resync func(logicalCluster, namespace, name string)
}

// FieldManager returns the server-side-apply field manager of this cluster's agent.
func (r *Reconciler) FieldManager() string { return "atrium-agent-" + r.Cluster }

// SetupWithManager registers the controller with the compute cluster's manager.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.RetryInterval == 0 {
		r.RetryInterval = 5 * time.Second
	}
	if r.HubWriter == nil {
		r.HubWriter = &hubpatch.Writer{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&computev1alpha1.LocalWorkspace{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			statusChanged{},
		))).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// Reconcile handles one LocalWorkspace.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	lw := &computev1alpha1.LocalWorkspace{}
	if err := r.Local.Get(ctx, req.NamespacedName, lw); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	logger := log.FromContext(ctx).WithValues("logicalCluster", lw.Spec.Origin.LogicalCluster,
		"workspace", klog.KRef(lw.Spec.Origin.Namespace, lw.Spec.Origin.Name), "computeCluster", r.Cluster)
	return r.reconcile(log.IntoContext(ctx, logger), lw)
}

func (r *Reconciler) reconcile(ctx context.Context, lw *computev1alpha1.LocalWorkspace) (ctrl.Result, error) {
	origin := lw.Spec.Origin
	cl, err := r.Hub.Get(ctx, multicluster.ClusterName(origin.LogicalCluster))
	if err != nil {
		if errors.Is(err, multicluster.ErrClusterNotFound) {
			// Not served (yet): the shard is being followed, or the hub is unreachable. Wait;
			// silence is never a reason to delete.
			return ctrl.Result{RequeueAfter: r.RetryInterval}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get hub cluster %s: %w", origin.LogicalCluster, err)
	}

	ws := &workspacesv1alpha1.Workspace{}
	key := client.ObjectKey{Namespace: origin.Namespace, Name: origin.Name}
	if err := cl.GetClient().Get(ctx, key, ws); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("failed to get hub workspace: %w", err)
		}
		return r.removeIfGone(ctx, lw)
	}
	if ws.UID != origin.UID {
		return r.removeIfGone(ctx, lw)
	}
	if !ws.IsPlacedOn(r.Cluster) || !lw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.writeStatus(ctx, cl.GetClient(), r.liveReader(ctx, origin.LogicalCluster), lw, ws)
}

// liveReader returns the live reader of logicalCluster, or nil.
func (r *Reconciler) liveReader(ctx context.Context, logicalCluster string) client.Reader {
	if r.LiveReader == nil {
		return nil
	}
	reader, err := r.LiveReader(ctx, multicluster.ClusterName(logicalCluster))
	if err != nil {
		return nil
	}
	return reader
}

// removeIfGone deletes the mirror after confirming with a live read (not a cache: a restarted
// agent's cache can be empty) that its hub object no longer exists. This is how leftovers are
// cleaned up after the hub gave up on an unreachable cluster and removed the agent's finalizer.
func (r *Reconciler) removeIfGone(ctx context.Context, lw *computev1alpha1.LocalWorkspace) (ctrl.Result, error) {
	origin := lw.Spec.Origin
	if r.LiveReader == nil {
		return ctrl.Result{}, nil // cannot confirm: never delete on a cache's word
	}
	reader, err := r.LiveReader(ctx, multicluster.ClusterName(origin.LogicalCluster))
	if err != nil {
		return ctrl.Result{RequeueAfter: r.RetryInterval}, nil //nolint:nilerr // not served right now; silence is no reason to delete
	}
	live := &workspacesv1alpha1.Workspace{}
	err = reader.Get(ctx, client.ObjectKey{Namespace: origin.Namespace, Name: origin.Name}, live)
	switch {
	case err == nil && live.UID == origin.UID:
		// The cache was behind, or does not hold it (moved away, or its cluster label lost):
		// sync down decides, with the finalizer it owns.
		if r.Resync != nil {
			r.Resync(origin.LogicalCluster, origin.Namespace, origin.Name)
		}
		return ctrl.Result{RequeueAfter: r.RetryInterval}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("failed to confirm hub workspace is gone: %w", err)
	}
	if !lw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	log.FromContext(ctx).Info("hub workspace is gone; removing its local mirror", "mirror", klog.KObj(lw))
	if err := r.Local.Delete(ctx, lw, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("failed to delete orphaned mirror: %w", err))
	}
	return ctrl.Result{}, nil
}

// writeStatus writes the agent-owned part of the hub status unless it already matches.
//
// It is a JSON merge patch with optimistic locking, not a server-side apply: kcp's APIExport
// virtual workspace records applies as updates, so fields the agent stops setting (the access
// URL after a stop) would never be removed. Optimistic locking keeps concurrent writers (the
// hub controller's conditions) from losing updates: a conflict is retried on the object read
// live (hubpatch).
func (r *Reconciler) writeStatus(ctx context.Context, hub client.Client, live client.Reader, lw *computev1alpha1.LocalWorkspace, ws *workspacesv1alpha1.Workspace) error {
	var desired workspacesv1alpha1.WorkspaceStatus
	wrote := false
	if err := r.HubWriter.Workspace(ctx, hub, live, ws, true, func(ws *workspacesv1alpha1.Workspace) bool {
		// After a conflict ws is the current object: it may have moved away or been replaced.
		wrote = false
		if ws.UID != lw.Spec.Origin.UID || !ws.IsPlacedOn(r.Cluster) {
			return false
		}
		desired = DesiredStatus(lw, ws)
		if statusMatches(&ws.Status, &desired) {
			return false
		}
		applyAgentStatus(&ws.Status, &desired)
		wrote = true
		return true
	}); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to patch hub status: %w", err))
	}
	if !wrote {
		return nil
	}
	if r.OnStatusWrite != nil {
		r.OnStatusWrite(time.Since(lastLocalChange(lw)))
	}
	log.FromContext(ctx).V(1).Info("wrote hub status", "phase", desired.Phase)
	return nil
}

// applyAgentStatus copies the agent-owned fields of desired into status, leaving the hub's
// fields (placement but its localNamespace, validity, scheduling, effective spec, owner) alone.
func applyAgentStatus(status, desired *workspacesv1alpha1.WorkspaceStatus) {
	status.Phase = desired.Phase
	status.Message = desired.Message
	status.ObservedGeneration = desired.ObservedGeneration
	status.DeploymentName = desired.DeploymentName
	status.ServiceName = desired.ServiceName
	status.AccessURL = desired.AccessURL
	status.ApplicationBasePath = desired.ApplicationBasePath
	status.AccessResourceSelector = desired.AccessResourceSelector
	status.AccessResources = desired.AccessResources
	status.LastActivity = desired.LastActivity
	if status.Placement != nil {
		status.Placement.LocalNamespace = desired.Placement.LocalNamespace
	}
	for _, t := range agentConditions {
		if c := meta.FindStatusCondition(desired.Conditions, string(t)); c != nil {
			meta.SetStatusCondition(&status.Conditions, *c)
		} else {
			meta.RemoveStatusCondition(&status.Conditions, string(t))
		}
	}
}

// DesiredStatus is the agent-owned part of the hub status for a mirror. Conditions keep their
// hub transition times when their status did not change.
func DesiredStatus(lw *computev1alpha1.LocalWorkspace, ws *workspacesv1alpha1.Workspace) workspacesv1alpha1.WorkspaceStatus {
	hubGeneration := ws.Generation
	observed := int64(0)
	if lw.Status.ObservedGeneration == lw.Generation {
		if g, err := strconv.ParseInt(lw.Annotations[mirror.AnnotationHubGeneration], 10, 64); err == nil {
			observed = g
		}
	}
	out := workspacesv1alpha1.WorkspaceStatus{
		Phase:                  lw.Status.Phase,
		Message:                lw.Status.Message,
		ObservedGeneration:     observed,
		DeploymentName:         lw.Status.DeploymentName,
		ServiceName:            lw.Status.ServiceName,
		AccessURL:              lw.Status.AccessURL,
		ApplicationBasePath:    lw.Status.ApplicationBasePath,
		AccessResourceSelector: lw.Status.AccessResourceSelector,
		AccessResources:        lw.Status.AccessResources,
		LastActivity:           lw.Status.LastActivity,
		Placement:              &workspacesv1alpha1.WorkspacePlacement{LocalNamespace: lw.Namespace},
	}
	for _, t := range agentConditions {
		c := meta.FindStatusCondition(lw.Status.Conditions, string(t))
		if c == nil {
			continue
		}
		cond := *c
		cond.ObservedGeneration = observed
		if observed == 0 {
			cond.ObservedGeneration = hubGeneration
		}
		if prev := meta.FindStatusCondition(ws.Status.Conditions, string(t)); prev != nil && prev.Status == cond.Status {
			cond.LastTransitionTime = prev.LastTransitionTime
		}
		out.Conditions = append(out.Conditions, cond)
	}
	return out
}

// statusMatches reports whether the hub status already has every agent-owned field of desired.
func statusMatches(have, want *workspacesv1alpha1.WorkspaceStatus) bool {
	if have.Phase != want.Phase || have.Message != want.Message || have.ObservedGeneration != want.ObservedGeneration ||
		have.DeploymentName != want.DeploymentName || have.ServiceName != want.ServiceName ||
		have.AccessURL != want.AccessURL || have.ApplicationBasePath != want.ApplicationBasePath ||
		have.AccessResourceSelector != want.AccessResourceSelector ||
		!equality.Semantic.DeepEqual(have.AccessResources, want.AccessResources) ||
		!equality.Semantic.DeepEqual(have.LastActivity, want.LastActivity) {
		return false
	}
	if have.Placement == nil || have.Placement.LocalNamespace != want.Placement.LocalNamespace {
		return false
	}
	for _, c := range want.Conditions {
		h := meta.FindStatusCondition(have.Conditions, c.Type)
		if h == nil || h.Status != c.Status || h.Reason != c.Reason || h.Message != c.Message || h.ObservedGeneration != c.ObservedGeneration {
			return false
		}
	}
	return true
}

func lastLocalChange(lw *computev1alpha1.LocalWorkspace) time.Time {
	latest := lw.CreationTimestamp.Time
	for _, c := range lw.Status.Conditions {
		if c.LastTransitionTime.After(latest) {
			latest = c.LastTransitionTime.Time
		}
	}
	return latest
}
