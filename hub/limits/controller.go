package limits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/autostop"
	"github.com/atrium-dev/atrium/hub/owner"
	"github.com/atrium-dev/atrium/hub/statusapply"
	"github.com/atrium-dev/atrium/hub/statusremove"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-limits"
	// FieldManager owns the UserLimit condition.
	FieldManager = "atrium-hub-limits"
)

// Reconciler enforces per-user limits; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// ownerIndex indexes hub Workspaces by the username of their owner.
const ownerIndex = "atrium.dev/owner"

// SetupWithManager registers the controller. A change of a workspace that may move a slot (it
// starts, stops, is deleted, changes template) requeues the other workspaces of its owner
// under a limited template, so a slot taken twice from stale caches is settled on both. A
// template's creation or deletion requeues the workspaces using it.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &workspacesv1alpha1.Workspace{}, ownerIndex, func(obj client.Object) []string {
		if o := owner.Of(obj.(*workspacesv1alpha1.Workspace)); o != nil {
			return []string{o.Username}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("failed to index workspaces by owner: %w", err)
	}
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		Watches(&workspacesv1alpha1.Workspace{}, sameOwner, mcbuilder.WithPredicates(slotChanged{})).
		// Template specs are immutable: only their creation and deletion change a limit, not
		// the status updates templateuse makes for every workspace created or deleted.
		Watches(&workspacesv1alpha1.WorkspaceTemplate{}, usersOfTemplate, mcbuilder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// slotChanged passes the workspace events that may move a slot: creations, deletions, and
// updates of what Decide ranks by (running or not, deleting, template, owner, admission).
type slotChanged struct {
	predicate.Funcs
}

func (slotChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*workspacesv1alpha1.Workspace)
	n, ok2 := e.ObjectNew.(*workspacesv1alpha1.Workspace)
	if !ok1 || !ok2 {
		return true
	}
	return o.IsStopped() != n.IsStopped() || o.IsDeleting() != n.IsDeleting() || TemplateOf(o) != TemplateOf(n) ||
		!equality.Semantic.DeepEqual(owner.Of(o), owner.Of(n)) || admitted(o) != admitted(n)
}

// sameOwner maps a workspace under a limited template to the other workspaces of its owner.
func sameOwner(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
		changed, ok := obj.(*workspacesv1alpha1.Workspace)
		o := owner.Of(changed)
		if !ok || o == nil {
			return nil
		}
		if limit, err := limitOf(ctx, cl.GetCache(), TemplateOf(changed)); err != nil || limit == 0 {
			return nil // no limit, no slot to settle (a template's creation requeues its users)
		}
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := cl.GetCache().List(ctx, list, client.MatchingFields{ownerIndex: o.Username}); err != nil {
			log.FromContext(ctx).Error(err, "Failed to list workspaces of an owner", "logicalCluster", clusterName)
			return nil
		}
		var out []mcreconcile.Request
		for i := range list.Items {
			if ws := &list.Items[i]; ws.Name != changed.Name || ws.Namespace != changed.Namespace {
				out = append(out, request(clusterName, ws))
			}
		}
		return out
	})
}

// usersOfTemplate maps a template to the workspaces using it.
func usersOfTemplate(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := cl.GetCache().List(ctx, list); err != nil {
			log.FromContext(ctx).Error(err, "Failed to list workspaces", "logicalCluster", clusterName)
			return nil
		}
		var out []mcreconcile.Request
		for i := range list.Items {
			if TemplateOf(&list.Items[i]) == obj.GetName() {
				out = append(out, request(clusterName, &list.Items[i]))
			}
		}
		return out
	})
}

func request(clusterName multicluster.ClusterName, ws *workspacesv1alpha1.Workspace) mcreconcile.Request {
	return mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(ws)}}
}

// Reconcile handles one hub Workspace.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("logicalCluster", req.ClusterName, "workspace", req.NamespacedName))
	cl, err := r.Manager.GetCluster(ctx, req.ClusterName)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to get cluster %s: %w", req.ClusterName, err)
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := cl.GetClient().Get(ctx, req.NamespacedName, ws); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return reconcile.Result{}, r.reconcile(ctx, cl.GetClient(), ws)
}

func (r *Reconciler) reconcile(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) error {
	if ws.IsDeleting() {
		return nil
	}
	template := TemplateOf(ws)
	limit, err := limitOf(ctx, c, template)
	if err != nil {
		return err
	}
	switch {
	case limit == 0:
		return r.clear(ctx, c, ws)
	case ws.IsStopped():
		// Stopped by the tenant or by us: a refusal stays visible until the tenant asks again;
		// a slot is given up.
		if c := ws.GetCondition(workspacesv1alpha1.ConditionUserLimit); c != nil && c.Status == metav1.ConditionFalse {
			return nil
		}
		return r.clear(ctx, c, ws)
	}

	// Only the owner's workspaces compete with ws (Decide ignores the others): list those,
	// not the organization's.
	var mine []workspacesv1alpha1.Workspace
	if o := owner.Of(ws); o != nil {
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := c.List(ctx, list, client.MatchingFields{ownerIndex: o.Username}); err != nil {
			return fmt.Errorf("failed to list the workspaces of %s: %w", o.Username, err)
		}
		mine = list.Items
	}
	d := Decide(ws, mine, template, limit)
	status := metav1.ConditionTrue
	if !d.Admitted {
		status = metav1.ConditionFalse
	}
	cond := statusapply.Condition(ws, workspacesv1alpha1.ConditionUserLimit, status, d.Reason, d.Message, metav1.NewTime(r.Now()))
	if !statusapply.ConditionsMatch(ws, cond) {
		conds, err := statusapply.Conditions(cond)
		if err != nil {
			return err
		}
		// The reason is recorded before the stop, so a stopped workspace always says why.
		if err := statusapply.Workspace(ctx, c, ws, FieldManager, map[string]any{"conditions": conds}); err != nil {
			return err
		}
	}
	if d.Admitted {
		return nil
	}
	if err := autostop.Stop(ctx, c, ws); err != nil {
		if errors.Is(err, autostop.ErrSpecChanged) {
			log.FromContext(ctx).V(1).Info("spec changed before the stop; deciding again", "err", err.Error())
			return nil
		}
		return err
	}
	log.FromContext(ctx).Info("stopped workspace over its owner's limit", "template", template, "limit", limit, "message", d.Message)
	return nil
}

// clear removes the UserLimit condition when this controller wrote one.
func (r *Reconciler) clear(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) error {
	return statusremove.Condition(ctx, c, ws, workspacesv1alpha1.ConditionUserLimit)
}

// limitOf reads the per-user limit of the named template; 0 means none.
func limitOf(ctx context.Context, c client.Reader, template string) (int32, error) {
	if template == "" {
		return 0, nil
	}
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
	if err := c.Get(ctx, client.ObjectKey{Name: template}, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil // the templates controller reports the missing template
		}
		return 0, fmt.Errorf("failed to get WorkspaceTemplate %s: %w", template, err)
	}
	if tmpl.Spec.MaxRunningWorkspacesPerUser == nil || *tmpl.Spec.MaxRunningWorkspacesPerUser < 1 {
		return 0, nil
	}
	return *tmpl.Spec.MaxRunningWorkspacesPerUser, nil
}
