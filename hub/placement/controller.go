package placement

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/clusterhealth"
	"github.com/atrium-dev/atrium/hub/roster"
	"github.com/atrium-dev/atrium/hub/statusapply"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-placement"
	// FieldManager owns the Scheduled condition, status.placement.{cluster,time,shard} and
	// the atrium.dev/cluster label.
	FieldManager = "atrium-hub-placement"
)

// Reconciler places workspaces; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
	// Platform reads ComputeClusters (cached) in root:atrium.
	Platform client.Reader
	// PlatformCache is watched for ComputeCluster changes.
	PlatformCache cache.Cache
	// ShardOf returns the virtual-workspace URL a logical cluster is seen through.
	ShardOf func(ctx context.Context, logicalCluster multicluster.ClusterName) string
	// Roster indexes workspaces by placement. Required.
	Roster *roster.Roster
	// Grace is the heartbeat grace period (as clusterhealth's). Required.
	Grace time.Duration
	// EvictionGraceOverride replaces the clusters' eviction grace periods when non-zero.
	EvictionGraceOverride time.Duration
	// OrganizationOf returns the name of the organization whose logical cluster is given
	// ("" when unknown), for ComputeClusters' spec.organizations. Optional: without it an
	// organization is known by its logical cluster only.
	OrganizationOf func(ctx context.Context, logicalCluster string) (string, error)
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time

	// decide serializes choosing a cluster and reserving the workspace's requests on it.
	decide sync.Mutex
}

// SetupWithManager registers the controller. A ComputeCluster change that may change what fits
// requeues the unplaced workspaces that ask to run; one that changes its readiness or spec
// requeues those placed on it (eviction). Heartbeats alone requeue nothing.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.ComputeCluster{},
			clusterhealth.EnqueueOnChange(clusterhealth.FitChanged, func(*platformv1alpha1.ComputeCluster) []mcreconcile.Request {
				return r.Roster.Unplaced()
			}))).
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
		if apierrors.IsNotFound(err) {
			r.Roster.Forget(req)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	s := &scope{req: req, client: cl.GetClient(), ws: ws, now: r.Now()}
	r.observe(s)
	return r.reconcile(ctx, s)
}

// scope is what one reconcile works on.
type scope struct {
	req    mcreconcile.Request
	client client.Client
	ws     *workspacesv1alpha1.Workspace
	now    time.Time
}

func (r *Reconciler) observe(s *scope) {
	r.Roster.Observe(s.req, roster.EntryOf(s.ws))
}

func (r *Reconciler) reconcile(ctx context.Context, s *scope) (reconcile.Result, error) {
	if s.ws.IsDeleting() {
		return reconcile.Result{}, nil
	}
	if cluster := s.ws.PlacedCluster(); cluster != "" {
		return r.reconcilePlaced(ctx, s, cluster)
	}
	return reconcile.Result{}, r.reconcileUnplaced(ctx, s)
}

// reconcilePlaced keeps the label in step with the placement and evicts stopped workspaces of
// a lost cluster when its policy says so.
func (r *Reconciler) reconcilePlaced(ctx context.Context, s *scope, cluster string) (reconcile.Result, error) {
	cc := &platformv1alpha1.ComputeCluster{}
	err := r.Platform.Get(ctx, client.ObjectKey{Name: cluster}, cc)
	switch {
	case apierrors.IsNotFound(err):
		cc = nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("failed to get ComputeCluster %s: %w", cluster, err)
	}
	if cc != nil {
		evict, wait := EvictionDue(cc, s.ws, s.now, r.Grace, r.EvictionGraceOverride)
		if evict {
			return reconcile.Result{}, r.evict(ctx, s, cluster)
		}
		if s.ws.Labels[workspacesv1alpha1.LabelCluster] != cluster {
			if err := statusapply.WorkspaceLabels(ctx, s.client, s.ws, FieldManager, map[string]string{workspacesv1alpha1.LabelCluster: cluster}); err != nil {
				return reconcile.Result{}, err
			}
		}
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	if s.ws.Labels[workspacesv1alpha1.LabelCluster] != cluster {
		if err := statusapply.WorkspaceLabels(ctx, s.client, s.ws, FieldManager, map[string]string{workspacesv1alpha1.LabelCluster: cluster}); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, nil
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

// evict clears the placement and the cluster label and says why. It patches explicitly:
// kcp's APIExport virtual workspace records server-side applies as updates, so a field an apply
// omits is never removed.
func (r *Reconciler) evict(ctx context.Context, s *scope, cluster string) error {
	now := metav1.NewTime(s.now)
	cond := statusapply.Condition(s.ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonEvicted,
		fmt.Sprintf("moved from %s: its data stays on the lost cluster; the workspace is placed again when it is started", cluster), now)
	ws := s.ws.DeepCopy()
	statusPatch := client.MergeFromWithOptions(ws.DeepCopy(), client.MergeFromWithOptimisticLock{})
	ws.Status.Placement = nil
	meta.SetStatusCondition(&ws.Status.Conditions, cond)
	if err := s.client.Status().Patch(ctx, ws, statusPatch); err != nil {
		return fmt.Errorf("failed to clear the placement: %w", err)
	}
	labelPatch := client.MergeFrom(ws.DeepCopy())
	delete(ws.Labels, workspacesv1alpha1.LabelCluster)
	if err := s.client.Patch(ctx, ws, labelPatch); err != nil {
		return fmt.Errorf("failed to remove the cluster label: %w", err)
	}
	r.Roster.Observe(s.req, roster.Entry{Requests: roster.Requests(ws)})
	log.FromContext(ctx).Info("evicted stopped workspace from lost cluster", "computeCluster", cluster)
	return nil
}

func (r *Reconciler) reconcileUnplaced(ctx context.Context, s *scope) error {
	ws := s.ws
	valid := ws.GetCondition(workspacesv1alpha1.ConditionValid)
	switch {
	case valid == nil || valid.ObservedGeneration != ws.Generation:
		return nil // the templates controller has not judged this generation yet
	case valid.Status != metav1.ConditionTrue || ws.Status.Effective == nil:
		return r.writeScheduled(ctx, s, workspacesv1alpha1.ReasonNotValid, "waiting for the workspace to be valid: "+valid.Message, nil)
	case ws.IsStopped():
		if c := ws.GetCondition(workspacesv1alpha1.ConditionScheduled); c != nil && c.Reason == string(workspacesv1alpha1.ReasonEvicted) {
			return nil // keep saying where it came from until it starts
		}
		return r.writeScheduled(ctx, s, workspacesv1alpha1.ReasonWaitingForStart, "the workspace is stopped; it is placed when it is started", nil)
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
		return r.writeScheduled(ctx, s, workspacesv1alpha1.ReasonNoClusterFits, why, nil)
	}
	if err := r.place(ctx, s, need, chosen, region); err != nil {
		if apierrors.IsConflict(err) {
			// Decided on an outdated version: the newer one's event brings the workspace back.
			log.FromContext(ctx).V(1).Info("workspace changed before its placement was written; deciding again", "err", err.Error())
			return nil
		}
		return err
	}
	log.FromContext(ctx).Info("placed workspace", "computeCluster", chosen, "shard", need.Shard)
	return nil
}

// choose picks a cluster for the workspace and reserves its requests there in the roster, so
// that a concurrent decision sees them committed. Decisions are serialized; everything else
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
		candidates = append(candidates, Candidate{Cluster: &clusters.Items[i], Committed: r.Roster.Committed(clusters.Items[i].Name, s.req)})
	}
	chosen, why = Choose(need, candidates, s.now, r.Grace)
	if chosen != "" {
		r.Roster.Observe(s.req, roster.Entry{Cluster: chosen, Requests: need.Requests, Running: true})
		for i := range clusters.Items {
			if clusters.Items[i].Name == chosen {
				region = clusters.Items[i].Region()
			}
		}
	}
	return chosen, region, why, nil
}

// place writes the placement on chosen (in region) and the cluster label.
func (r *Reconciler) place(ctx context.Context, s *scope, need Need, chosen, region string) error {
	placement := map[string]any{
		"cluster": chosen,
		"time":    metav1.NewTime(s.now).UTC().Format(time.RFC3339),
	}
	if need.Shard != "" {
		placement["shard"] = need.Shard
	}
	if region != "" {
		placement["region"] = region
	}
	if err := r.writeScheduled(ctx, s, workspacesv1alpha1.ReasonPlaced, "placed on compute cluster "+chosen, placement); err != nil {
		// Give the reservation back: the workspace is still unplaced.
		r.Roster.Observe(s.req, roster.EntryOf(s.ws))
		return err
	}
	return statusapply.WorkspaceLabels(ctx, s.client, s.ws, FieldManager, map[string]string{workspacesv1alpha1.LabelCluster: chosen})
}

// writeScheduled applies the Scheduled condition and, for a placement, the placement fields.
// The placement manager's apply always carries everything it owns; on an unplaced workspace
// that is just the condition.
func (r *Reconciler) writeScheduled(ctx context.Context, s *scope, reason workspacesv1alpha1.ConditionReason, message string, placement map[string]any) error {
	status := metav1.ConditionFalse
	if placement != nil {
		status = metav1.ConditionTrue
	}
	cond := statusapply.Condition(s.ws, workspacesv1alpha1.ConditionScheduled, status, reason, message, metav1.NewTime(s.now))
	if placement == nil && statusapply.ConditionsMatch(s.ws, cond) {
		return nil
	}
	conds, err := statusapply.Conditions(cond)
	if err != nil {
		return err
	}
	apply := map[string]any{"conditions": conds}
	write := statusapply.Workspace
	if placement != nil {
		apply["placement"] = placement
		// Only on the version the decision was made on: a reconcile that read a cache not yet
		// showing an earlier placement must not place the workspace a second time.
		write = statusapply.WorkspaceUnchanged
	}
	if err := write(ctx, s.client, s.ws, FieldManager, apply); err != nil {
		return err
	}
	if placement == nil {
		log.FromContext(ctx).Info("workspace not placed", "reason", reason, "message", message)
	}
	return nil
}

// need collects what the workspace needs of a cluster: shard, selectors, access strategy and
// resource requests.
func (r *Reconciler) need(ctx context.Context, s *scope) (Need, error) {
	ws := s.ws
	eff := ws.Status.Effective
	need := Need{AccessStrategy: eff.AccessStrategy, Requests: roster.Requests(ws), PodSecurityLevel: eff.PodSecurityLevel}
	if r.ShardOf != nil {
		need.Shard = r.ShardOf(ctx, s.req.ClusterName)
	}
	logical := string(s.req.ClusterName)
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
	var selectors []*metav1.LabelSelector
	// The template the effective spec was resolved with (spec.templateRef, or the default
	// template it pinned).
	if name := eff.Template; name != "" {
		tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
		if err := s.client.Get(ctx, client.ObjectKey{Name: name}, tmpl); err != nil {
			return Need{}, fmt.Errorf("failed to get WorkspaceTemplate %s: %w", name, err)
		}
		selectors = append(selectors, tmpl.Spec.ClusterSelector)
	}
	selectors = append(selectors, ws.Spec.ClusterSelector)
	for _, ls := range selectors {
		if ls == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			// The templates controller rejects invalid selectors; this is a race with an edit.
			return Need{}, fmt.Errorf("invalid cluster selector: %w", err)
		}
		if !sel.Empty() {
			need.Selectors = append(need.Selectors, sel)
		}
	}
	return need, nil
}
