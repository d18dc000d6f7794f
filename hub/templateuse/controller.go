package templateuse

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "atrium-hub-templateuse"

// Reconciler maintains the finalizer and status of WorkspaceTemplates.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
}

// SetupWithManager registers the controller; a workspace event requeues its template.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.WorkspaceTemplate{}).
		Watches(&workspacesv1alpha1.Workspace{}, func(clusterName multicluster.ClusterName, _ cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
			return handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []mcreconcile.Request {
				ws, ok := obj.(*workspacesv1alpha1.Workspace)
				if !ok || ws.TemplateName() == "" {
					return nil
				}
				return []mcreconcile.Request{{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKey{Name: ws.TemplateName()}}}}
			})
		}).
		Complete(r)
}

// Reconcile handles one WorkspaceTemplate.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx).WithValues("logicalCluster", req.ClusterName, "template", req.Name)
	ctx = log.IntoContext(ctx, logger)
	cl, err := r.Manager.GetCluster(ctx, req.ClusterName)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to get cluster %s: %w", req.ClusterName, err)
	}
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
	if err := cl.GetClient().Get(ctx, req.NamespacedName, tmpl); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return reconcile.Result{}, r.reconcile(ctx, cl.GetClient(), tmpl)
}

func (r *Reconciler) reconcile(ctx context.Context, c client.Client, tmpl *workspacesv1alpha1.WorkspaceTemplate) error {
	list := &workspacesv1alpha1.WorkspaceList{}
	if err := c.List(ctx, list); err != nil {
		return fmt.Errorf("failed to list workspaces: %w", err)
	}
	count := 0
	for i := range list.Items {
		// TemplateName counts a workspace that names no template under the default template
		// its resolution pinned, so that template cannot go while the workspace runs on it.
		if list.Items[i].TemplateName() == tmpl.Name {
			count++
		}
	}

	if err := r.ensureFinalizer(ctx, c, tmpl, count > 0); err != nil {
		return err
	}
	if count == 0 && !tmpl.DeletionTimestamp.IsZero() {
		return nil // the finalizer is gone; so is the template
	}
	return r.updateStatus(ctx, c, tmpl, count)
}

func (r *Reconciler) ensureFinalizer(ctx context.Context, c client.Client, tmpl *workspacesv1alpha1.WorkspaceTemplate, inUse bool) error {
	has := controllerutil.ContainsFinalizer(tmpl, workspacesv1alpha1.TemplateInUseFinalizer)
	if has == inUse {
		return nil
	}
	patch := client.MergeFromWithOptions(tmpl.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if inUse {
		controllerutil.AddFinalizer(tmpl, workspacesv1alpha1.TemplateInUseFinalizer)
	} else {
		controllerutil.RemoveFinalizer(tmpl, workspacesv1alpha1.TemplateInUseFinalizer)
	}
	if err := c.Patch(ctx, tmpl, patch); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to update the template's finalizer: %w", err))
	}
	log.FromContext(ctx).Info("updated template finalizer", "inUse", inUse)
	return nil
}

func (r *Reconciler) updateStatus(ctx context.Context, c client.Client, tmpl *workspacesv1alpha1.WorkspaceTemplate, count int) error {
	orig := tmpl.DeepCopy()
	tmpl.Status.WorkspaceCount = int32(count) //nolint:gosec // bounded by the number of workspaces
	tmpl.Status.ObservedGeneration = tmpl.Generation
	cond := metav1.Condition{Type: string(workspacesv1alpha1.TemplateConditionInUse), ObservedGeneration: tmpl.Generation}
	switch {
	case count == 0:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, string(workspacesv1alpha1.ReasonUnused), "no workspace uses this template"
	case !tmpl.DeletionTimestamp.IsZero():
		cond.Status, cond.Reason = metav1.ConditionTrue, string(workspacesv1alpha1.ReasonWorkspacesUseTemplate)
		cond.Message = fmt.Sprintf("%s use this template; its deletion waits until they are gone", workspaces(count))
	default:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, string(workspacesv1alpha1.ReasonWorkspacesUseTemplate), workspaces(count)+" use this template"
	}
	meta.SetStatusCondition(&tmpl.Status.Conditions, cond)
	if equalStatus(orig, tmpl) {
		return nil
	}
	if err := c.Status().Patch(ctx, tmpl, client.MergeFrom(orig)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to update template status: %w", err))
	}
	return nil
}

func equalStatus(a, b *workspacesv1alpha1.WorkspaceTemplate) bool {
	if a.Status.WorkspaceCount != b.Status.WorkspaceCount || a.Status.ObservedGeneration != b.Status.ObservedGeneration {
		return false
	}
	for _, c := range b.Status.Conditions {
		o := meta.FindStatusCondition(a.Status.Conditions, c.Type)
		if o == nil || o.Status != c.Status || o.Reason != c.Reason || o.Message != c.Message || o.ObservedGeneration != c.ObservedGeneration {
			return false
		}
	}
	return true
}

func workspaces(n int) string {
	if n == 1 {
		return "1 workspace"
	}
	return fmt.Sprintf("%d workspaces", n)
}
