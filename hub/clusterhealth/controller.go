package clusterhealth

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

const (
	// ControllerName names the controller in logs and metrics.
	ControllerName = "atrium-hub-clusterhealth"
	// FieldManager owns the Ready condition of ComputeClusters (and ClusterReachable of
	// workspaces, written by the reachability controller under the same name).
	FieldManager = "atrium-hub-clusterhealth"
)

// Reconciler sets the Ready condition of ComputeClusters.
type Reconciler struct {
	// Client reads (cached) and writes ComputeClusters in root:atrium.
	Client client.Client
	// Grace is how old a heartbeat may be. Required.
	Grace time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// SetupWithManager registers the controller with the manager of root:atrium.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&platformv1alpha1.ComputeCluster{}).
		Complete(r)
}

// Reconcile handles one ComputeCluster.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("computeCluster", req.Name))
	cc := &platformv1alpha1.ComputeCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, cc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return r.reconcile(ctx, cc)
}

func (r *Reconciler) reconcile(ctx context.Context, cc *platformv1alpha1.ComputeCluster) (ctrl.Result, error) {
	now := r.Now()
	j := Health(cc, now, r.Grace)
	// Come back the moment the heartbeat expires (plus a little, so the check sees it expired).
	result := ctrl.Result{}
	if j.Ready {
		result.RequeueAfter = j.Until + 10*time.Millisecond
	}
	want := condition(cc, j, now)
	if have := meta.FindStatusCondition(cc.Status.Conditions, want.Type); have != nil && have.Status == want.Status &&
		have.Reason == want.Reason && have.Message == want.Message && have.ObservedGeneration == want.ObservedGeneration {
		return result, nil
	}
	cond, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&want)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to encode condition: %w", err)
	}
	apply := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"conditions": []any{cond}}}}
	apply.SetAPIVersion(platformv1alpha1.SchemeGroupVersion.String())
	apply.SetKind("ComputeCluster")
	apply.SetName(cc.Name)
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("failed to apply the Ready condition: %w", err))
	}
	log.FromContext(ctx).Info("cluster health changed", "ready", j.Ready, "reason", j.Reason, "heartbeatAge", j.Age.Round(time.Millisecond))
	return result, nil
}
