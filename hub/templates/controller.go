package templates

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/orglimits"
	"github.com/atrium-dev/atrium/hub/statusapply"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-templates"
	// FieldManager owns the Valid condition and status.effective.
	FieldManager = "atrium-hub-templates"
)

// Reconciler resolves hub Workspaces; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
	// Quotas reads the organizations' limits (hub/orglimits). Required.
	Quotas *orglimits.Quotas
	// PlatformCache is watched for OrganizationQuota changes. Required.
	PlatformCache cache.Cache
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// SetupWithManager registers the controller. Workspaces are re-resolved when their template
// appears, disappears or gains or loses the default-template label (those not pinned to a
// template yet follow the label), when any execution profile of their logical cluster changes,
// when a workspace of the organization is deleted (a slot of the organization's quota may be
// free) and when the organization's quota changes.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		// Template specs are immutable: their creation, deletion and labels matter, not the
		// status updates templateuse makes for every workspace created or deleted.
		Watches(&workspacesv1alpha1.WorkspaceTemplate{}, workspacesOf(func(ws *workspacesv1alpha1.Workspace, obj client.Object) bool {
			name := ws.TemplateName()
			return name == "" || name == obj.GetName()
		}), mcbuilder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&workspacesv1alpha1.WorkspaceExecutionProfile{}, workspacesOf(func(*workspacesv1alpha1.Workspace, client.Object) bool { return true })).
		Watches(&workspacesv1alpha1.Workspace{}, onDelete(workspacesOf(func(ws *workspacesv1alpha1.Workspace, _ client.Object) bool {
			return !orglimits.WorkspaceAdmitted(ws)
		}))).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.OrganizationQuota{},
			handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, quota *platformv1alpha1.OrganizationQuota) []mcreconcile.Request {
				name := multicluster.ClusterName(quota.Spec.LogicalCluster)
				cl, err := r.Manager.GetCluster(ctx, name)
				if err != nil {
					return nil // not engaged (yet): its workspaces reconcile when it is
				}
				return listWorkspaces(ctx, name, cl, func(*workspacesv1alpha1.Workspace, client.Object) bool { return true }, quota)
			}))).
		Complete(r)
}

// workspacesOf maps an object of a logical cluster to the workspaces of that cluster matching.
func workspacesOf(match func(*workspacesv1alpha1.Workspace, client.Object) bool) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
			return listWorkspaces(ctx, clusterName, cl, match, obj)
		})
	}
}

func listWorkspaces(ctx context.Context, clusterName multicluster.ClusterName, cl cluster.Cluster, match func(*workspacesv1alpha1.Workspace, client.Object) bool, obj client.Object) []mcreconcile.Request {
	list := &workspacesv1alpha1.WorkspaceList{}
	if err := cl.GetCache().List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "failed to list workspaces", "logicalCluster", clusterName)
		return nil
	}
	var out []mcreconcile.Request
	for i := range list.Items {
		if match(&list.Items[i], obj) {
			out = append(out, mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}})
		}
	}
	return out
}

// onDelete passes only the deletion events of h's objects.
func onDelete(h mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request]) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		inner := h(clusterName, cl)
		return handler.TypedFuncs[client.Object, mcreconcile.Request]{
			DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
				inner.Delete(ctx, e, q)
			},
		}
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
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return reconcile.Result{}, r.reconcile(ctx, cl.GetClient(), string(req.ClusterName), ws)
}

func (r *Reconciler) reconcile(ctx context.Context, c client.Client, logicalCluster string, ws *workspacesv1alpha1.Workspace) error {
	if ws.IsDeleting() {
		return nil // nothing new will run; the last resolution stays for the agent's cleanup
	}
	eff, bad, err := r.resolve(ctx, c, logicalCluster, ws)
	if err != nil {
		return err
	}
	now := metav1.NewTime(r.Now())
	var valid metav1.Condition
	if bad != nil {
		valid = statusapply.Condition(ws, workspacesv1alpha1.ConditionValid, metav1.ConditionFalse, bad.Reason, bad.Message, now)
		// Keep the last valid effective spec: whatever runs keeps running as it was validated,
		// and an invalid generation never reaches the agent.
		eff = ws.Status.Effective
	} else {
		valid = statusapply.Condition(ws, workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, workspacesv1alpha1.ReasonResolved,
			fmt.Sprintf("the spec resolved within template %q", eff.Template), now)
	}
	if statusapply.ConditionsMatch(ws, valid) && equality.Semantic.DeepEqual(ws.Status.Effective, eff) {
		return nil
	}
	if err := writeStatus(ctx, c, ws, valid, eff); err != nil {
		return err
	}
	log.FromContext(ctx).Info("resolved workspace", "valid", valid.Status, "reason", valid.Reason, "message", valid.Message, "template", templateOf(eff))
	return nil
}

func templateOf(eff *workspacesv1alpha1.EffectiveWorkspaceSpec) string {
	if eff == nil {
		return ""
	}
	return eff.Template
}

// writeStatus writes the Valid condition and status.effective. The apply carries both, every
// time (the manager's complete set). An apply through kcp's virtual workspace never removes a
// field it omits, though, so when the effective spec loses fields (an env list emptied, a
// profile without annotations), a merge patch against the previous effective spec removes them
// first.
func writeStatus(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, valid metav1.Condition, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) error {
	if old := ws.Status.Effective; old != nil && eff != nil && !equality.Semantic.DeepEqual(old, eff) {
		updated := ws.DeepCopy()
		updated.Status.Effective = eff.DeepCopy()
		if err := c.Status().Patch(ctx, updated, client.MergeFrom(ws), client.FieldOwner(FieldManager)); err != nil {
			return fmt.Errorf("failed to replace status.effective: %w", err)
		}
	}
	conds, err := statusapply.Conditions(valid)
	if err != nil {
		return err
	}
	status := map[string]any{"conditions": conds}
	if eff != nil {
		encoded, err := statusapply.Encode(eff)
		if err != nil {
			return err
		}
		status["effective"] = encoded
	}
	return statusapply.Workspace(ctx, c, ws, FieldManager, status)
}

// resolve reads the template, the execution profiles and the organization's workspaces, and
// resolves ws. An invalid workspace is not an error: it is reported through the Valid condition.
func (r *Reconciler) resolve(ctx context.Context, c client.Client, logicalCluster string, ws *workspacesv1alpha1.Workspace) (*workspacesv1alpha1.EffectiveWorkspaceSpec, *Invalid, error) {
	if bad, err := r.checkOrganizationLimit(ctx, c, logicalCluster, ws); err != nil || bad != nil {
		return nil, bad, err
	}
	tmpl, bad, err := Template(ctx, c, ws)
	if err != nil || bad != nil {
		return nil, bad, err
	}
	profiles := &workspacesv1alpha1.WorkspaceExecutionProfileList{}
	if err := c.List(ctx, profiles); err != nil {
		return nil, nil, fmt.Errorf("failed to list WorkspaceExecutionProfiles: %w", err)
	}
	byName := make(map[string]*workspacesv1alpha1.WorkspaceExecutionProfile, len(profiles.Items))
	for i := range profiles.Items {
		byName[profiles.Items[i].Name] = &profiles.Items[i]
	}
	eff, bad := Resolve(ws, tmpl, func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) {
		p, ok := byName[name]
		return p, ok
	})
	return eff, bad, nil
}

func (r *Reconciler) checkOrganizationLimit(ctx context.Context, c client.Client, logicalCluster string, ws *workspacesv1alpha1.Workspace) (*Invalid, error) {
	limits, err := r.Quotas.For(ctx, logicalCluster)
	if err != nil {
		return nil, err
	}
	all := &workspacesv1alpha1.WorkspaceList{}
	if err := c.List(ctx, all); err != nil {
		return nil, fmt.Errorf("failed to list the organization's workspaces: %w", err)
	}
	if ok, msg := orglimits.CheckWorkspace(ws, all.Items, limits); !ok {
		return invalid(workspacesv1alpha1.ReasonOrganizationLimitReached, "%s", msg), nil
	}
	return nil, nil
}
