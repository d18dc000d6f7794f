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
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/apply"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/internal/podspec"
)

// buildDeployment returns the Deployment that runs lw: one replica while it
// should run, none when stopped. The pod is built by package podspec from the
// effective spec alone, the same function the hub checks Pod Security with.
func buildDeployment(lw *computev1alpha1.LocalWorkspace) *appsv1.Deployment {
	replicas := int32(0)
	if wantsRunning(lw) {
		replicas = 1
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:            DeploymentName(lw),
			Namespace:       lw.Namespace,
			Labels:          objectLabels(lw),
			OwnerReferences: []metav1.OwnerReference{ownerReference(lw)},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(lw)},
			// Recreate: the home volume is ReadWriteOnce, so an old and a new
			// pod cannot both mount it on different nodes.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: podspec.Build(&lw.Spec.Effective, podspec.Names{
				ClaimName: PVCName(lw),
				Port:      Port(lw),
				Labels:    objectLabels(lw),
			}),
		},
	}
}

// reconcileDeployment applies the Deployment when it is missing or differs,
// and records what it observed in the scope.
func (r *Reconciler) reconcileDeployment(ctx context.Context, s *scope) error {
	if s.volumeProblem != nil {
		return r.keepDeployment(ctx, s)
	}
	gvk := appsv1.SchemeGroupVersion.WithKind("Deployment")
	desired, err := apply.Object(buildDeployment(s.lw), gvk)
	if err != nil {
		return err
	}
	var existing *unstructured.Unstructured
	dep := &appsv1.Deployment{}
	err = r.client.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: DeploymentName(s.lw)}, dep)
	switch {
	case err == nil:
		if existing, err = apply.Unstructured(dep, gvk); err != nil {
			return err
		}
		s.deployment = dep
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("failed to get Deployment %s: %w", DeploymentName(s.lw), err)
	default:
		s.created = true
	}
	wrote, err := apply.Patch(ctx, r.client, desired, existing)
	if err != nil {
		return err
	}
	if wrote {
		applied := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(desired.Object, applied); err != nil {
			return fmt.Errorf("failed to convert the applied Deployment: %w", err)
		}
		s.deployment = applied
	}
	return nil
}

// keepDeployment leaves the Deployment of a workspace with a refused volume as it is: the
// running pod keeps running exactly as it was validated, and nothing new is created. Only
// stopping is carried out (replicas to zero), because stopping is always allowed.
func (r *Reconciler) keepDeployment(ctx context.Context, s *scope) error {
	dep := &appsv1.Deployment{}
	err := r.client.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: DeploymentName(s.lw)}, dep)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("failed to get Deployment %s: %w", DeploymentName(s.lw), err)
	}
	s.deployment = dep
	if wantsRunning(s.lw) || dep.Spec.Replicas == nil || *dep.Spec.Replicas == 0 {
		return nil
	}
	patch := client.MergeFrom(dep.DeepCopy())
	dep.Spec.Replicas = ptr.To(int32(0))
	if err := r.client.Patch(ctx, dep, patch); err != nil {
		return fmt.Errorf("failed to scale Deployment %s to zero: %w", DeploymentName(s.lw), err)
	}
	return nil
}
