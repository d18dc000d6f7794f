package reachability

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/clusterhealth"
	"github.com/atrium-dev/atrium/hub/roster"
	"github.com/atrium-dev/atrium/hub/statusapply"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-reachability"
	// FieldManager owns the ClusterReachable condition.
	FieldManager = clusterhealth.FieldManager
)

// Reconciler sets ClusterReachable and releases deletions stuck on lost clusters.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
	// Platform reads ComputeClusters (cached) in root:atrium.
	Platform client.Reader
	// PlatformCache is watched for ComputeCluster changes.
	PlatformCache cache.Cache
	// Roster indexes workspaces by placement. Required.
	Roster *roster.Roster
	// Recorder records events about ComputeClusters.
	Recorder record.EventRecorder
	// Grace is the heartbeat grace period (as clusterhealth's). Required.
	Grace time.Duration
	// DeletionTimeout is how long a deletion waits for an unreachable cluster's agent. Required.
	DeletionTimeout time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// SetupWithManager registers the controller. A change of a ComputeCluster's readiness (its
// Ready condition, which clusterhealth flips the moment a heartbeat expires) requeues the
// workspaces placed on it; heartbeats that change nothing requeue nothing.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.ComputeCluster{},
			clusterhealth.EnqueueOnChange(clusterhealth.ReadinessChanged, func(cc *platformv1alpha1.ComputeCluster) []mcreconcile.Request {
				return r.Roster.On(cc.Name)
			}))).
		Complete(r)
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
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return r.reconcile(ctx, req, cl.GetClient(), ws)
}

func (r *Reconciler) reconcile(ctx context.Context, req mcreconcile.Request, c client.Client, ws *workspacesv1alpha1.Workspace) (reconcile.Result, error) {
	cluster := ws.PlacedCluster()
	if cluster == "" {
		if ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable) == nil {
			return reconcile.Result{}, nil
		}
		// Evicted or never placed: no cluster to judge; drop the condition this manager owns.
		return reconcile.Result{}, statusapply.Workspace(ctx, c, ws, FieldManager, map[string]any{})
	}
	// Keep the roster's index current even before the placement controller saw the workspace.
	r.Roster.Observe(req, roster.EntryOf(ws))
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("computeCluster", cluster))
	now := r.Now()

	cc := &platformv1alpha1.ComputeCluster{}
	if err := r.Platform.Get(ctx, client.ObjectKey{Name: cluster}, cc); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("failed to get ComputeCluster %s: %w", cluster, err)
		}
		cc = nil
	}
	j := Judge(cc, cluster, now, r.Grace)

	if ws.IsDeleting() && !j.Reachable {
		if done, wait, err := r.releaseDeletion(ctx, c, string(req.ClusterName), ws, cc, cluster, now); done || err != nil || wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, err
		}
	}
	// No requeue for when a reachable verdict expires: clusterhealth flips the cluster's Ready
	// condition at that moment, and that change requeues every workspace placed there.
	return reconcile.Result{}, r.writeReachable(ctx, c, ws, j, now)
}

// Verdict is whether a workspace's cluster is reachable.
type Verdict struct {
	Reachable bool
	Reason    workspacesv1alpha1.ConditionReason
	Message   string
	// Until is how long a reachable verdict holds.
	Until time.Duration
}

// Judge returns the ClusterReachable verdict for a workspace placed on cluster (cc nil: the
// ComputeCluster does not exist).
func Judge(cc *platformv1alpha1.ComputeCluster, cluster string, now time.Time, grace time.Duration) Verdict {
	if cc == nil {
		return Verdict{Reason: workspacesv1alpha1.ReasonClusterNotFound, Message: fmt.Sprintf("ComputeCluster %s does not exist", cluster)}
	}
	h := clusterhealth.Health(cc, now, grace)
	if h.Ready {
		return Verdict{Reachable: true, Reason: workspacesv1alpha1.ReasonHeartbeatCurrent, Until: h.Until + 10*time.Millisecond,
			Message: fmt.Sprintf("compute cluster %s heartbeats", cluster)}
	}
	if cc.Status.HeartbeatTime == nil {
		return Verdict{Reason: workspacesv1alpha1.ReasonClusterUnreachable, Message: fmt.Sprintf("compute cluster %s has never heartbeat", cluster)}
	}
	return Verdict{Reason: workspacesv1alpha1.ReasonClusterUnreachable, Message: fmt.Sprintf(
		"no heartbeat from compute cluster %s for %s (since %s; grace %s); the workspace probably still runs there",
		cluster, h.Age.Round(time.Second), cc.Status.HeartbeatTime.UTC().Format(time.RFC3339), grace)}
}

// writeReachable applies ClusterReachable. The heartbeat age in the message is the age at the
// transition: the condition is rewritten when status, reason or generation change, not as the
// age grows.
func (r *Reconciler) writeReachable(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, j Verdict, now time.Time) error {
	status := metav1.ConditionFalse
	if j.Reachable {
		status = metav1.ConditionTrue
	}
	if have := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable); have != nil && have.Status == status &&
		have.Reason == string(j.Reason) && have.ObservedGeneration == ws.Generation {
		return nil
	}
	return r.apply(ctx, c, ws, statusapply.Condition(ws, workspacesv1alpha1.ConditionClusterReachable, status, j.Reason, j.Message, metav1.NewTime(now)))
}

func (r *Reconciler) apply(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, cond metav1.Condition) error {
	conds, err := statusapply.Conditions(cond)
	if err != nil {
		return err
	}
	if err := statusapply.Workspace(ctx, c, ws, FieldManager, map[string]any{"conditions": conds}); err != nil {
		return client.IgnoreNotFound(err)
	}
	log.FromContext(ctx).Info("cluster reachability changed", "status", cond.Status, "reason", cond.Reason, "message", cond.Message)
	return nil
}

// releaseDeletion removes the agent's finalizer of an unreachable cluster once the deletion
// timeout has passed since both the deletion request and the last heartbeat. It reports done
// when it released the workspace, or how long to wait.
func (r *Reconciler) releaseDeletion(ctx context.Context, c client.Client, logicalCluster string, ws *workspacesv1alpha1.Workspace, cc *platformv1alpha1.ComputeCluster, cluster string, now time.Time) (bool, time.Duration, error) {
	finalizer := workspacesv1alpha1.AgentFinalizer(cluster)
	if !controllerutil.ContainsFinalizer(ws, finalizer) {
		return false, 0, nil
	}
	deadline := ReleaseAt(ws, cc, r.DeletionTimeout)
	if now.Before(deadline) {
		return false, deadline.Sub(now), nil
	}
	msg := fmt.Sprintf("deleted while compute cluster %s was unreachable for longer than %s: the hub released finalizer %s; the cluster's agent removes the local leftovers when it returns",
		cluster, r.DeletionTimeout, finalizer)
	if err := r.apply(ctx, c, ws, statusapply.Condition(ws, workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionFalse,
		workspacesv1alpha1.ReasonLocalCleanupPending, msg, metav1.NewTime(now))); err != nil {
		return false, 0, err
	}
	if cc != nil && r.Recorder != nil {
		r.Recorder.Eventf(cc, corev1.EventTypeWarning, string(workspacesv1alpha1.ReasonLocalCleanupPending),
			"workspace %s/%s of logical cluster %s was deleted while this cluster was unreachable; its local resources are removed when the agent returns",
			ws.Namespace, ws.Name, logicalCluster)
	}
	latest := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ws), latest); err != nil {
		return false, 0, client.IgnoreNotFound(fmt.Errorf("failed to re-read workspace: %w", err))
	}
	patch := client.MergeFromWithOptions(latest.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(latest, finalizer)
	if err := c.Patch(ctx, latest, patch); err != nil {
		return false, 0, client.IgnoreNotFound(fmt.Errorf("failed to remove finalizer %s: %w", finalizer, err))
	}
	log.FromContext(ctx).Info("released deletion of a workspace on an unreachable cluster; local cleanup pending", "finalizer", finalizer)
	return true, 0, nil
}

// ReleaseAt is when the hub may remove the agent finalizer of a deleting workspace whose cluster
// is unreachable: the deletion timeout after the later of the deletion request and the last
// heartbeat (cc nil: the ComputeCluster is gone, only the deletion request counts).
func ReleaseAt(ws *workspacesv1alpha1.Workspace, cc *platformv1alpha1.ComputeCluster, timeout time.Duration) time.Time {
	from := time.Time{}
	if ws.DeletionTimestamp != nil {
		from = ws.DeletionTimestamp.Time
	}
	if cc != nil {
		if hb := clusterhealth.LastHeartbeat(cc); hb.After(from) {
			from = hb
		}
	}
	return from.Add(timeout)
}
