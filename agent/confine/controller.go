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

package confine

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/atrium-dev/atrium/agent/mirror"
)

// ControllerName is the name of the controller in logs and metrics.
const ControllerName = "atrium-confine"

// Reconciler keeps every workspace namespace confined; see the package doc.
type Reconciler struct {
	// Confiner does the work. Required.
	Confiner *Confiner
	// ClusterName is the compute cluster's name, for logs.
	ClusterName string

	client client.Client
}

var _ reconcile.Reconciler = &Reconciler{}

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete

// SetupWithManager registers the controller with the compute cluster's manager.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Confiner == nil {
		return fmt.Errorf("failed to set up %s: no Confiner", ControllerName)
	}
	r.client = mgr.GetClient()
	ours := builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
		return obj.GetName() == ObjectName
	}))
	toNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: obj.GetNamespace()}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&corev1.Namespace{}, builder.WithPredicates(predicate.NewPredicateFuncs(IsWorkspaceNamespace))).
		Watches(&networkingv1.NetworkPolicy{}, toNamespace, ours).
		Watches(&corev1.ResourceQuota{}, toNamespace, ours).
		Watches(&corev1.LimitRange{}, toNamespace, ours).
		Complete(r)
}

// IsWorkspaceNamespace reports whether obj is a namespace of workspaces: labelled by the agent.
func IsWorkspaceNamespace(obj client.Object) bool {
	return obj.GetLabels()[mirror.LabelManagedBy] == mirror.ManagedByAgent
}

// Reconcile confines one workspace namespace.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.client.Get(ctx, req.NamespacedName, ns); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !IsWorkspaceNamespace(ns) || ns.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("namespace", klog.KObj(ns), "logicalCluster", ns.Labels[mirror.LabelLogicalCluster], "computeCluster", r.ClusterName)
	return reconcile.Result{}, r.Confiner.Apply(ctrl.LoggerInto(ctx, log), ns)
}
