/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package materialize

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/atrium-dev/atrium/agent/access"
	"github.com/atrium-dev/atrium/agent/activity"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// ControllerName is the name of the controller in logs and metrics.
const ControllerName = "atrium-materializer"

// strategyIndex indexes LocalWorkspaces by the name of their access strategy.
const strategyIndex = "atrium.dev/access-strategy"

// Options configure the Reconciler. The zero value is usable.
type Options struct {
	// ClusterName is the name of the compute cluster, for logs. Default "".
	ClusterName string
	// ResyncPeriod is how often a running workspace is reconciled again, to
	// repair access resources, which are not watched. Default 60s.
	ResyncPeriod time.Duration
	// Prober makes the access startup probe attempts. Default: an
	// access.Prober with its default client.
	Prober AccessProber
	// MaxConcurrentReconciles bounds parallel reconciles; a probe attempt
	// holds one for up to its timeoutSeconds. Default 4.
	MaxConcurrentReconciles int
	// Now returns the current time, for probe scheduling. Default time.Now.
	Now func() time.Time
	// Activity reads the last activity of running workspaces with idle shutdown, at most once
	// per ResyncPeriod each. Default: an activity.Reader with its default client.
	Activity ActivityReader
}

func (o *Options) defaults() {
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = 60 * time.Second
	}
	if o.Prober == nil {
		o.Prober = &access.Prober{}
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Activity == nil {
		o.Activity = &activity.Reader{}
	}
}

// Reconciler materializes LocalWorkspaces; see the package doc.
type Reconciler struct {
	opts   Options
	client client.Client
	// reader reads access resources of arbitrary kinds from the API server,
	// so no informer is started for them.
	reader client.Reader
	probes *probeTracker
	// activity books the reads of last activity.
	activity *activityTracker
	// sweeps remembers the sweeps for stray access resources that found none.
	sweeps *sweepTracker
}

var _ reconcile.Reconciler = &Reconciler{}

// NewReconciler returns a Reconciler with opts, defaults filled in.
func NewReconciler(opts Options) *Reconciler {
	opts.defaults()
	return &Reconciler{opts: opts, probes: newProbeTracker(), activity: newActivityTracker(), sweeps: newSweepTracker()}
}

// +kubebuilder:rbac:groups=compute.atrium.dev,resources=localworkspaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=compute.atrium.dev,resources=localworkspaces/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=compute.atrium.dev,resources=localworkspaces/finalizers,verbs=update
// +kubebuilder:rbac:groups=compute.atrium.dev,resources=workspaceaccessstrategies,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;persistentvolumeclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// Access resources are of kinds the platform team chooses; the agent's chart
// grants them.

// SetupWithManager registers the controller with mgr, whose scheme must
// know the compute.atrium.dev, apps/v1 and core/v1 types.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.probes == nil {
		r.opts.defaults()
		r.probes = newProbeTracker()
	}
	if r.activity == nil {
		r.activity = newActivityTracker()
	}
	if r.sweeps == nil {
		r.sweeps = newSweepTracker()
	}
	for _, obj := range []client.Object{&computev1alpha1.LocalWorkspace{}, &appsv1.Deployment{}, &corev1.Pod{}} {
		if _, _, err := mgr.GetScheme().ObjectKinds(obj); err != nil {
			return fmt.Errorf("failed to set up %s: the manager's scheme lacks %T: %w", ControllerName, obj, err)
		}
	}
	r.client = mgr.GetClient()
	r.reader = mgr.GetAPIReader()

	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &computev1alpha1.LocalWorkspace{}, strategyIndex, func(obj client.Object) []string {
		if name := accessStrategyName(obj.(*computev1alpha1.LocalWorkspace)); name != "" {
			return []string{name}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("failed to index LocalWorkspaces by access strategy: %w", err)
	}

	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&computev1alpha1.LocalWorkspace{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToWorkspace)).
		Watches(&computev1alpha1.WorkspaceAccessStrategy{}, handler.EnqueueRequestsFromMapFunc(r.strategyToWorkspaces)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.opts.MaxConcurrentReconciles}).
		Complete(r)
}

// podToWorkspace maps a workspace pod to its LocalWorkspace.
func podToWorkspace(_ context.Context, obj client.Object) []reconcile.Request {
	labels := obj.GetLabels()
	if labels[ManagedByLabel] != ManagedBy || labels[WorkspaceLabel] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: labels[WorkspaceLabel]}}}
}

// strategyToWorkspaces maps a WorkspaceAccessStrategy to the LocalWorkspaces
// using it.
func (r *Reconciler) strategyToWorkspaces(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &computev1alpha1.LocalWorkspaceList{}
	if err := r.client.List(ctx, list, client.MatchingFields{strategyIndex: obj.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list LocalWorkspaces of an access strategy", "strategy", obj.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, lw := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: lw.Namespace, Name: lw.Name}})
	}
	return reqs
}

// Reconcile gets the LocalWorkspace and hands it to reconcile.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	lw := &computev1alpha1.LocalWorkspace{}
	if err := r.client.Get(ctx, req.NamespacedName, lw); err != nil {
		if apierrors.IsNotFound(err) {
			r.probes.forgetByName(req.NamespacedName)
			r.activity.forgetByName(req.NamespacedName)
			r.sweeps.forgetByName(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues(
		"localWorkspace", klog.KObj(lw),
		"logicalCluster", lw.Spec.Origin.LogicalCluster,
		"workspace", lw.Spec.Origin.Namespace+"/"+lw.Spec.Origin.Name,
		"computeCluster", r.opts.ClusterName,
	)
	return r.reconcile(ctrl.LoggerInto(ctx, log), lw)
}

// scope is what one reconcile of one LocalWorkspace observed and decided.
type scope struct {
	lw   *computev1alpha1.LocalWorkspace
	orig *computev1alpha1.LocalWorkspace

	// created is true when an object was missing and got created.
	created bool
	// volumeProblem is set when the home claim or a secondary volume is refused; the
	// Deployment is then left exactly as it is (see checkVolumes).
	volumeProblem *problem
	pvc           *corev1.PersistentVolumeClaim
	deployment    *appsv1.Deployment
	pods          []corev1.Pod
	access        accessResult

	requeueAfter time.Duration
}

// requeue asks for another reconcile after d at the latest.
func (s *scope) requeue(d time.Duration) {
	if d > 0 && (s.requeueAfter == 0 || d < s.requeueAfter) {
		s.requeueAfter = d
	}
}

func (r *Reconciler) reconcile(ctx context.Context, lw *computev1alpha1.LocalWorkspace) (reconcile.Result, error) {
	s := &scope{lw: lw, orig: lw.DeepCopy()}
	r.probes.remember(lw)

	if lw.DeletionTimestamp != nil {
		// Owner references make garbage collection remove everything; writing
		// now would only race with it.
		updateStatus(s)
		return reconcile.Result{}, r.patchStatus(ctx, s)
	}

	var errs []error
	for _, phase := range []func(context.Context, *scope) error{
		r.reconcileStorage,
		r.checkVolumes,
		r.reconcileDeployment,
		r.reconcileService,
		r.observePods,
		r.reconcileAccess,
	} {
		if err := phase(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	updateStatus(s)
	r.observeActivity(ctx, s)
	errs = append(errs, r.patchStatus(ctx, s))
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if wantsRunning(lw) {
		s.requeue(r.opts.ResyncPeriod)
	}
	return reconcile.Result{RequeueAfter: s.requeueAfter}, nil
}
