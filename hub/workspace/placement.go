package workspace

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/clusterhealth"
)

// Placement puts valid hub Workspaces on ComputeClusters: the Scheduled condition and
// status.placement.{cluster,time,shard,region}, with the label atrium.dev/cluster after it;
// the agent named by placement.cluster runs the workspace.
//
// A cluster fits when it is Ready (heartbeat judged now, see clusterhealth.Health), not
// unschedulable, serves the workspace's shard, enforces a Pod Security level the workspace's
// pod was checked against (status.effective.podSecurityLevel: a restricted workspace runs on
// clusters enforcing restricted or baseline, a baseline one on baseline clusters only; a
// cluster whose agents report no level, status.podSecurity, takes nothing), matches the
// template's and the workspace's cluster selectors, offers the access strategy, and has room
// for the requests (the pod's: the larger of the workspace container's and each init
// container's, EffectiveWorkspaceSpec.PodRequests). The no-fit message gives each cluster's
// reason. Among fitting clusters the least allocated wins (mean of the cpu and memory ratios
// after placing).
//
// Shard identity is the virtual-workspace URL of the APIExport on the shard holding the
// workspace's logical cluster: the hub records the URL it sees the workspace through
// (Provider.ShardURL), and a cluster serves that shard when its agents report the URL in
// status.shards (the agents follow the same endpoint slices, so the URLs are the same strings)
// and spec.shards, when set, lists it too.
//
// Capacity: free = allocatable − max(status.allocated, committed), per resource, where
// allocated is what the agent counts from workspace pods and committed is the sum of the
// requests of running workspaces the hub has placed there (capacity.go). The larger of the two
// covers both workspaces placed but not yet counted by a heartbeat and pods the agent counts
// that the hub has not seen yet. Decisions are serialized: choosing a cluster and reserving the
// workspace's requests happen under one lock, so each decision sees what the ones before
// reserved; everything else runs concurrently. A placement is written only on the version of
// the workspace it was decided on (status.go), so a reconcile that read an outdated cache
// cannot place a workspace twice.
//
// The decision is written once and never changed silently: a placed workspace stays placed.
// Stopped workspaces are placed only when started (Scheduled=False WaitingForStart), so a
// stopped workspace holds no capacity and a stopped workspace of a lost cluster can move.
// Eviction: a STOPPED workspace on a cluster whose eviction policy is Reschedule and that has
// been unreachable longer than the policy's grace period loses its placement
// (Scheduled=False Evicted, "moved from <cluster>: its data stays on the lost cluster") and is
// placed again when started. Running workspaces are never evicted.

// reconcilePlacement places an unplaced workspace, or evicts a placed one when its cluster's
// policy says so.
func (r *Reconciler) reconcilePlacement(ctx context.Context, s *scope) error {
	if s.ws.IsDeleting() {
		return nil
	}
	if cluster := s.ws.PlacedCluster(); cluster != "" {
		return r.reconcilePlaced(ctx, s, cluster)
	}
	return r.reconcileUnplaced(ctx, s)
}

// reconcilePlaced evicts a stopped workspace of a lost cluster when its policy says so.
func (r *Reconciler) reconcilePlaced(ctx context.Context, s *scope, cluster string) error {
	cc, err := s.computeCluster(ctx, r.Platform, cluster)
	if err != nil || cc == nil {
		return err
	}
	evict, wait := EvictionDue(cc, s.ws, s.now, r.HeartbeatGrace, r.EvictionGraceOverride)
	if !evict {
		s.requeue(wait)
		return nil
	}
	s.ws.Status.Placement = nil
	setCondition(s.ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonEvicted,
		fmt.Sprintf("moved from %s: its data stays on the lost cluster; the workspace is placed again when it is started", cluster), metav1.NewTime(s.now))
	log.FromContext(ctx).Info("evicting stopped workspace from lost cluster", "computeCluster", cluster)
	return nil
}

// EvictionDue reports whether ws must leave cc now, or else how long until it may have to
// (0: never, as far as can be told now). Only stopped workspaces of a cluster whose policy is
// Reschedule and whose heartbeat expired longer than the policy's grace period ago are evicted.
func EvictionDue(cc *platformv1alpha1.ComputeCluster, ws *workspacesv1alpha1.Workspace, now time.Time, heartbeatGrace, override time.Duration) (bool, time.Duration) {
	grace, ok := cc.EvictionGracePeriod()
	if !ok {
		return false, 0
	}
	if override > 0 {
		grace = override
	}
	expired, ok := clusterhealth.ExpiredSince(cc, heartbeatGrace)
	if !ok {
		return false, 0
	}
	due := expired.Add(grace)
	if now.Before(due) {
		return false, due.Sub(now)
	}
	return ws.IsStopped(), 0
}

func (r *Reconciler) reconcileUnplaced(ctx context.Context, s *scope) error {
	ws := s.ws
	now := metav1.NewTime(s.now)
	valid := ws.GetCondition(workspacesv1alpha1.ConditionValid)
	switch {
	case valid == nil || valid.ObservedGeneration != ws.Generation:
		return nil // not judged (the validity phase always judges a workspace it reaches)
	case valid.Status != metav1.ConditionTrue || ws.Status.Effective == nil:
		r.notPlaced(ctx, s, workspacesv1alpha1.ReasonNotValid, "waiting for the workspace to be valid: "+valid.Message)
		return nil
	case s.stop != "":
		return nil // the stop's own event brings it back, stopped
	case ws.IsStopped():
		if c := ws.GetCondition(workspacesv1alpha1.ConditionScheduled); c != nil && c.Reason == string(workspacesv1alpha1.ReasonEvicted) {
			return nil // keep saying where it came from until it starts
		}
		r.notPlaced(ctx, s, workspacesv1alpha1.ReasonWaitingForStart, "the workspace is stopped; it is placed when it is started")
		return nil
	}

	need, err := r.need(ctx, s)
	if err != nil {
		return err
	}
	chosen, region, why, err := r.choose(ctx, s, need)
	if err != nil {
		return err
	}
	if chosen == "" {
		r.notPlaced(ctx, s, workspacesv1alpha1.ReasonNoClusterFits, why)
		return nil
	}
	ws.Status.Placement = &workspacesv1alpha1.WorkspacePlacement{Cluster: chosen, Shard: need.Shard, Region: region, Time: metav1.NewTime(s.now.UTC().Truncate(time.Second))}
	setCondition(ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionTrue, workspacesv1alpha1.ReasonPlaced, "placed on compute cluster "+chosen, now)
	log.FromContext(ctx).Info("placing workspace", "computeCluster", chosen, "shard", need.Shard)
	return nil
}

// notPlaced says why the workspace is not placed.
func (r *Reconciler) notPlaced(ctx context.Context, s *scope, reason workspacesv1alpha1.ConditionReason, message string) {
	before := s.ws.GetCondition(workspacesv1alpha1.ConditionScheduled)
	setCondition(s.ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, reason, message, metav1.NewTime(s.now))
	if before == nil || before.Reason != string(reason) || before.Message != message || before.ObservedGeneration != s.ws.Generation {
		log.FromContext(ctx).Info("workspace not placed", "reason", reason, "message", message)
	}
}

// choose picks a cluster for the workspace and reserves its requests there (s.reservation),
// so that a concurrent decision sees them committed. Decisions are serialized; everything else
// (reading the template, writing the placement) runs concurrently. It returns the chosen
// cluster and its region, or why none fits.
func (r *Reconciler) choose(ctx context.Context, s *scope, need Need) (chosen, region, why string, err error) {
	r.decide.Lock()
	defer r.decide.Unlock()
	clusters := &platformv1alpha1.ComputeClusterList{}
	if err := r.Platform.List(ctx, clusters); err != nil {
		return "", "", "", fmt.Errorf("failed to list ComputeClusters: %w", err)
	}
	candidates := make([]Candidate, 0, len(clusters.Items))
	for i := range clusters.Items {
		candidates = append(candidates, Candidate{Cluster: &clusters.Items[i], Committed: r.capacity.committedTo(clusters.Items[i].Name, s.req)})
	}
	chosen, why = Choose(need, candidates, s.now, r.HeartbeatGrace)
	if chosen == "" {
		return "", "", why, nil
	}
	s.reservation = r.capacity.reserve(s.req, chosen, need.Requests)
	for i := range clusters.Items {
		if clusters.Items[i].Name == chosen {
			region = clusters.Items[i].Region()
		}
	}
	return chosen, region, "", nil
}

// need collects what the workspace needs of a cluster: shard, selectors, access strategy and
// resource requests.
func (r *Reconciler) need(ctx context.Context, s *scope) (Need, error) {
	ws := s.ws
	eff := ws.Status.Effective
	need := Need{AccessStrategy: eff.AccessStrategy, Requests: requestsOf(ws), PodSecurityLevel: eff.PodSecurityLevel}
	if r.ShardOf != nil {
		need.Shard = r.ShardOf(ctx, s.req.ClusterName)
	}
	logical := s.logicalCluster()
	need.Organization, need.Organizations = logical, []string{logical}
	if r.OrganizationOf != nil {
		name, err := r.OrganizationOf(ctx, logical)
		if err != nil {
			return Need{}, err
		}
		if name != "" {
			need.Organization, need.Organizations = name, []string{name, logical}
		}
	}
	// The template the effective spec was resolved with (spec.templateRef, or the default
	// template it pinned), as the validity phase read it.
	var selectors []*metav1.LabelSelector
	if s.template != nil {
		selectors = append(selectors, s.template.Spec.ClusterSelector)
	}
	selectors = append(selectors, ws.Spec.ClusterSelector)
	for _, ls := range selectors {
		if ls == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			// The validity phase rejects invalid selectors; this is a race with an edit.
			return Need{}, fmt.Errorf("invalid cluster selector: %w", err)
		}
		if !sel.Empty() {
			need.Selectors = append(need.Selectors, sel)
		}
	}
	return need, nil
}
