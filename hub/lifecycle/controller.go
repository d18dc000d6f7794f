package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/autostop"
	"github.com/atrium-dev/atrium/hub/statusapply"
	"github.com/atrium-dev/atrium/hub/statusremove"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-lifecycle"
	// FieldManager owns the AutoStopped condition.
	FieldManager = "atrium-hub-lifecycle"
)

// Options configure the Reconciler.
type Options struct {
	// TimeUnit is the length of one policy minute. Defaults to time.Minute; tests shorten it.
	TimeUnit time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.TimeUnit <= 0 {
		o.TimeUnit = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Reconciler applies idle and lifetime policies; see the package documentation.
type Reconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
	// Options of the controller.
	Options Options
}

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	r.Options.defaults()
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
	return r.reconcile(ctx, cl.GetClient(), ws)
}

func (r *Reconciler) reconcile(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) (reconcile.Result, error) {
	if ws.IsDeleting() {
		return reconcile.Result{}, nil
	}
	policy := PolicyOf(ws)
	now := r.Options.Now()
	prev := ws.GetCondition(workspacesv1alpha1.ConditionAutoStopped)

	var cond *metav1.Condition
	var verdict Verdict
	switch {
	case ws.IsStopped():
		// Our stop stays explained until the tenant starts the workspace again.
		if prev != nil && prev.Status == metav1.ConditionTrue {
			return reconcile.Result{}, nil
		}
	case policy.Active():
		verdict = Decide(ws, policy, now, r.Options.TimeUnit)
		c := statusapply.Condition(ws, workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionFalse, workspacesv1alpha1.ReasonWithinPolicy, policy.Describe(), metav1.NewTime(now))
		if verdict.Stop {
			c = statusapply.Condition(ws, workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionTrue, verdict.Reason, verdict.Message, metav1.NewTime(now))
		}
		cond = &c
	}

	if err := r.writeCondition(ctx, c, ws, prev, cond); err != nil {
		return reconcile.Result{}, err
	}
	if !verdict.Stop {
		// A little slack past the deadline, so the recheck does not land just before it.
		if verdict.RecheckAfter > 0 {
			return reconcile.Result{RequeueAfter: verdict.RecheckAfter + r.Options.TimeUnit/100}, nil
		}
		return reconcile.Result{}, nil
	}
	if err := autostop.Stop(ctx, c, ws); err != nil {
		if errors.Is(err, autostop.ErrSpecChanged) {
			log.FromContext(ctx).V(1).Info("spec changed before the stop; deciding again", "err", err.Error())
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("stopped workspace", "reason", verdict.Reason, "message", verdict.Message)
	return reconcile.Result{}, nil
}

// writeCondition applies cond (nil: no AutoStopped condition) unless the status already says so.
func (r *Reconciler) writeCondition(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, prev, cond *metav1.Condition) error {
	switch {
	case cond == nil && prev == nil:
		return nil
	case cond == nil:
		return statusremove.Condition(ctx, c, ws, workspacesv1alpha1.ConditionAutoStopped)
	case statusapply.ConditionsMatch(ws, *cond):
		return nil
	}
	conds, err := statusapply.Conditions(*cond)
	if err != nil {
		return err
	}
	return statusapply.Workspace(ctx, c, ws, FieldManager, map[string]any{"conditions": conds})
}
