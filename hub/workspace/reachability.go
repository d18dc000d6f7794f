package workspace

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/clusterhealth"
)

// Reachability tells a placed workspace whether the compute cluster it is placed on is
// reachable (ClusterReachable), and lets the deletion of a workspace on a lost cluster finish.
// It never deletes or moves anything: an unreachable cluster probably still runs the
// workspace. An unplaced workspace has no ClusterReachable condition.
//
// Deleting a workspace whose cluster is unreachable waits for the cluster's agent (its
// finalizer) until the deletion timeout has passed since both the deletion request and the
// last heartbeat. Then the hub records ClusterReachable=False (LocalCleanupPending) and an
// event on the ComputeCluster, and removes the agent's finalizer; the agent, when it returns,
// deletes mirrors whose hub object is gone.
//
// There is no look again for when a reachable verdict expires: clusterhealth flips the
// cluster's Ready condition at that moment, and that change requeues every workspace placed
// there.

// reconcileReachability judges the placed cluster and releases a deletion stuck on it.
func (r *Reconciler) reconcileReachability(ctx context.Context, s *scope) error {
	ws := s.ws
	cluster := ws.PlacedCluster()
	if cluster == "" {
		// Evicted or never placed: no cluster to judge.
		removeCondition(ws, workspacesv1alpha1.ConditionClusterReachable)
		return nil
	}
	cc, err := s.computeCluster(ctx, r.Platform, cluster)
	if err != nil {
		return err
	}
	j := Judge(cc, cluster, s.now, r.HeartbeatGrace)
	status := metav1.ConditionFalse
	if j.Reachable {
		status = metav1.ConditionTrue
	}
	now := metav1.NewTime(s.now)
	// The heartbeat age in the message is the age at the transition: the condition is
	// rewritten when status, reason or generation change, not as the age grows.
	have := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable)
	released := have != nil && have.Reason == string(workspacesv1alpha1.ReasonLocalCleanupPending) && ws.IsDeleting() && !j.Reachable
	if !released && (have == nil || have.Status != status || have.Reason != string(j.Reason) || have.ObservedGeneration != ws.Generation) {
		setCondition(ws, workspacesv1alpha1.ConditionClusterReachable, status, j.Reason, j.Message, now)
		log.FromContext(ctx).Info("cluster reachability changed", "computeCluster", cluster, "status", status, "reason", j.Reason, "message", j.Message)
	}
	if !ws.IsDeleting() || j.Reachable {
		return nil
	}
	finalizer := workspacesv1alpha1.AgentFinalizer(cluster)
	if !controllerutil.ContainsFinalizer(ws, finalizer) {
		return nil
	}
	deadline := ReleaseAt(ws, cc, r.DeletionTimeout)
	if s.now.Before(deadline) {
		s.requeue(deadline.Sub(s.now))
		return nil
	}
	setCondition(ws, workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionFalse, workspacesv1alpha1.ReasonLocalCleanupPending, fmt.Sprintf(
		"deleted while compute cluster %s was unreachable for longer than %s: the hub released finalizer %s; the cluster's agent removes the local leftovers when it returns",
		cluster, r.DeletionTimeout, finalizer), now)
	s.release, s.releaseCluster = finalizer, cc
	return nil
}

// releaseFinalizer removes the finalizer of the lost cluster's agent, after the status write
// recorded why, on the version that write answered.
func (r *Reconciler) releaseFinalizer(ctx context.Context, s *scope, w *writes) error {
	latest := w.latest.DeepCopy()
	patch := client.MergeFromWithOptions(latest.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if !controllerutil.RemoveFinalizer(latest, s.release) {
		return nil
	}
	if err := s.client.Patch(ctx, latest, patch, client.FieldOwner(FieldManager)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to remove finalizer %s: %w", s.release, err))
	}
	w.wrote(latest)
	if cc := s.releaseCluster; cc != nil && r.Recorder != nil {
		r.Recorder.Eventf(cc, corev1.EventTypeWarning, string(workspacesv1alpha1.ReasonLocalCleanupPending),
			"workspace %s/%s of logical cluster %s was deleted while this cluster was unreachable; its local resources are removed when the agent returns",
			s.ws.Namespace, s.ws.Name, s.logicalCluster())
	}
	log.FromContext(ctx).Info("released deletion of a workspace on an unreachable cluster; local cleanup pending", "computeCluster", s.ws.PlacedCluster(), "finalizer", s.release)
	return nil
}

// Reachability is whether a workspace's cluster is reachable.
type Reachability struct {
	Reachable bool
	Reason    workspacesv1alpha1.ConditionReason
	Message   string
	// Until is how long a reachable verdict holds.
	Until time.Duration
}

// Judge returns the ClusterReachable verdict for a workspace placed on cluster (cc nil: the
// ComputeCluster does not exist).
func Judge(cc *platformv1alpha1.ComputeCluster, cluster string, now time.Time, grace time.Duration) Reachability {
	if cc == nil {
		return Reachability{Reason: workspacesv1alpha1.ReasonClusterNotFound, Message: fmt.Sprintf("ComputeCluster %s does not exist", cluster)}
	}
	h := clusterhealth.Health(cc, now, grace)
	if h.Ready {
		return Reachability{Reachable: true, Reason: workspacesv1alpha1.ReasonHeartbeatCurrent, Until: h.Until + 10*time.Millisecond,
			Message: fmt.Sprintf("compute cluster %s heartbeats", cluster)}
	}
	if cc.Status.HeartbeatTime == nil {
		return Reachability{Reason: workspacesv1alpha1.ReasonClusterUnreachable, Message: fmt.Sprintf("compute cluster %s has never heartbeat", cluster)}
	}
	return Reachability{Reason: workspacesv1alpha1.ReasonClusterUnreachable, Message: fmt.Sprintf(
		"no heartbeat from compute cluster %s for %s (since %s; grace %s); the workspace probably still runs there",
		cluster, h.Age.Round(time.Second), cc.Status.HeartbeatTime.UTC().Format(time.RFC3339), grace)}
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
