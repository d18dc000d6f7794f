package limits

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
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

// SetupWithManager registers the controller. A workspace's change requeues the other
// workspaces of its owner, so a slot taken twice from stale caches is settled on both.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		Watches(&workspacesv1alpha1.Workspace{}, sameOwner).
		Watches(&workspacesv1alpha1.WorkspaceTemplate{}, usersOfTemplate).
		Complete(r)
}

// sameOwner maps a workspace to the other workspaces of its owner.
func sameOwner(clusterName string, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return mapWorkspaces(clusterName, cl, func(obj client.Object, ws *workspacesv1alpha1.Workspace) bool {
		changed, ok := obj.(*workspacesv1alpha1.Workspace)
		if !ok || changed.Name == ws.Name && changed.Namespace == ws.Namespace {
			return false
		}
		a, b := owner.Of(changed), owner.Of(ws)
		return a != nil && b != nil && a.Username == b.Username
	})
}

// usersOfTemplate maps a template to the workspaces using it.
func usersOfTemplate(clusterName string, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return mapWorkspaces(clusterName, cl, func(obj client.Object, ws *workspacesv1alpha1.Workspace) bool {
		return TemplateOf(ws) == obj.GetName()
	})
}

func mapWorkspaces(clusterName string, cl cluster.Cluster, match func(client.Object, *workspacesv1alpha1.Workspace) bool) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := cl.GetCache().List(ctx, list); err != nil {
			log.FromContext(ctx).Error(err, "Failed to list workspaces", "logicalCluster", clusterName)
			return nil
		}
		var out []mcreconcile.Request
		for i := range list.Items {
			if match(obj, &list.Items[i]) {
				out = append(out, mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}})
			}
		}
		return out
	})
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

	all := &workspacesv1alpha1.WorkspaceList{}
	if err := c.List(ctx, all); err != nil {
		return fmt.Errorf("failed to list workspaces: %w", err)
	}
	d := Decide(ws, all.Items, template, limit)
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
func limitOf(ctx context.Context, c client.Client, template string) (int32, error) {
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
