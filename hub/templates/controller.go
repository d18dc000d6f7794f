package templates

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
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
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// SetupWithManager registers the controller. Workspaces are re-resolved when their template
// or any execution profile of their logical cluster changes (a template created after its
// workspace, a profile created or deleted).
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		// Template specs are immutable: their creation and deletion matter, not the status
		// updates templateuse makes for every workspace created or deleted.
		Watches(&workspacesv1alpha1.WorkspaceTemplate{}, workspacesOf(func(ws *workspacesv1alpha1.Workspace, obj client.Object) bool {
			return ws.Spec.TemplateRef != nil && ws.Spec.TemplateRef.Name == obj.GetName()
		}), mcbuilder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&workspacesv1alpha1.WorkspaceExecutionProfile{}, workspacesOf(func(*workspacesv1alpha1.Workspace, client.Object) bool { return true })).
		Complete(r)
}

// workspacesOf maps an object of a logical cluster to the workspaces of that cluster matching.
func workspacesOf(match func(*workspacesv1alpha1.Workspace, client.Object) bool) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
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
		})
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
	return reconcile.Result{}, r.reconcile(ctx, cl.GetClient(), ws)
}

func (r *Reconciler) reconcile(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) error {
	if ws.IsDeleting() {
		return nil // nothing new will run; the last resolution stays for the agent's cleanup
	}
	eff, bad, err := r.resolve(ctx, c, ws)
	if err != nil {
		return err
	}
	now := metav1.NewTime(r.Now())
	valid := statusapply.Condition(ws, workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, workspacesv1alpha1.ReasonResolved, "the spec resolved within the template's bounds", now)
	if bad != nil {
		valid = statusapply.Condition(ws, workspacesv1alpha1.ConditionValid, metav1.ConditionFalse, bad.Reason, bad.Message, now)
		// Keep the last good effective spec: whatever runs keeps running as it was validated.
		eff = ws.Status.Effective
	}
	if statusapply.ConditionsMatch(ws, valid) && equality.Semantic.DeepEqual(ws.Status.Effective, eff) {
		return nil
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
	if err := statusapply.Workspace(ctx, c, ws, FieldManager, status); err != nil {
		return err
	}
	log.FromContext(ctx).Info("resolved workspace", "valid", valid.Status, "reason", valid.Reason, "message", valid.Message)
	return nil
}

// resolve reads the template and the execution profiles and resolves ws. An invalid workspace
// is not an error: it is reported through the Valid condition.
func (r *Reconciler) resolve(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) (*workspacesv1alpha1.EffectiveWorkspaceSpec, *Invalid, error) {
	var tmpl *workspacesv1alpha1.WorkspaceTemplate
	if ref := ws.Spec.TemplateRef; ref != nil {
		tmpl = &workspacesv1alpha1.WorkspaceTemplate{}
		if err := c.Get(ctx, client.ObjectKey{Name: ref.Name}, tmpl); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, invalid(workspacesv1alpha1.ReasonTemplateNotFound, "spec.templateRef.name %s: no WorkspaceTemplate of that name exists in this organization", ref.Name), nil
			}
			return nil, nil, fmt.Errorf("failed to get WorkspaceTemplate %s: %w", ref.Name, err)
		}
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
