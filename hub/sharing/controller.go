package sharing

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/statusapply"
	"github.com/atrium-dev/atrium/hub/statusremove"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-sharing"
	// FieldManager owns status.access.
	FieldManager = "atrium-hub-sharing"
)

// Reconciler resolves status.access; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
}

// SetupWithManager registers the controller. A WorkspaceShare requeues the workspace it names.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		Watches(&workspacesv1alpha1.WorkspaceShare{}, sharedWorkspace).
		Complete(r)
}

// sharedWorkspace maps a WorkspaceShare to the workspace it names.
func sharedWorkspace(clusterName multicluster.ClusterName, _ cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []mcreconcile.Request {
		share, ok := obj.(*workspacesv1alpha1.WorkspaceShare)
		if !ok || share.Spec.WorkspaceName == "" {
			return nil
		}
		return []mcreconcile.Request{{ClusterName: clusterName, Request: reconcile.Request{
			NamespacedName: types.NamespacedName{Namespace: share.Namespace, Name: share.Spec.WorkspaceName},
		}}}
	})
}

var _ mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] = sharedWorkspace

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
	shares := &workspacesv1alpha1.WorkspaceShareList{}
	if err := c.List(ctx, shares, client.InNamespace(ws.Namespace)); err != nil {
		return fmt.Errorf("failed to list WorkspaceShares of namespace %s: %w", ws.Namespace, err)
	}
	want := Allowed(ws, shares.Items)
	if equality.Semantic.DeepEqual(ws.Status.Access, want) {
		return nil
	}
	if want == nil {
		if err := statusremove.Field(ctx, c, ws, "access"); err != nil {
			return err
		}
	} else {
		// Both lists always, empty ones included: the write is recorded as an update, and an
		// omitted list would keep its old entries.
		access := map[string]any{"allowedUsers": listOf(want.AllowedUsers), "allowedGroups": listOf(want.AllowedGroups)}
		if err := statusapply.Workspace(ctx, c, ws, FieldManager, map[string]any{"access": access}); err != nil {
			return err
		}
	}
	log.FromContext(ctx).Info("resolved access", "accessType", AccessType(ws), "access", want)
	return nil
}

// listOf encodes a list for an apply, never as null.
func listOf(in []string) []any {
	out := make([]any, 0, len(in))
	for _, s := range in {
		out = append(out, s)
	}
	return out
}
