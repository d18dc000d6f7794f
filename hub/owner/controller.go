package owner

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/statusapply"
	"github.com/atrium-dev/atrium/hub/statusremove"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-owner"
	// FieldManager owns status.owner.
	FieldManager = "atrium-hub-owner"
)

// Of returns the owner of ws as the hub's creator webhook recorded it, or nil when the
// workspace has no atrium.dev/created-by annotation.
func Of(ws *workspacesv1alpha1.Workspace) *workspacesv1alpha1.WorkspaceOwner {
	name := ws.Annotations[workspacesv1alpha1.AnnotationCreatedBy]
	if name == "" {
		return nil
	}
	return &workspacesv1alpha1.WorkspaceOwner{Username: name}
}

// Reconciler records status.owner; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
}

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		Complete(r)
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
	want := Of(ws)
	if equality.Semantic.DeepEqual(ws.Status.Owner, want) {
		return nil
	}
	if want == nil {
		// The annotation cannot be removed, so this only repairs an owner written by mistake.
		if err := statusremove.Field(ctx, c, ws, "owner"); err != nil {
			return err
		}
	} else {
		encoded, err := statusapply.Encode(want)
		if err != nil {
			return err
		}
		if err := statusapply.Workspace(ctx, c, ws, FieldManager, map[string]any{"owner": encoded}); err != nil {
			return err
		}
	}
	log.FromContext(ctx).Info("recorded owner", "owner", want)
	return nil
}
