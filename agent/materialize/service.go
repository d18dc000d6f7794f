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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/atrium-dev/atrium/agent/apply"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// buildService returns the ClusterIP Service in front of lw's pod.
func buildService(lw *computev1alpha1.LocalWorkspace) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ServiceName(lw),
			Namespace:       lw.Namespace,
			Labels:          objectLabels(lw),
			OwnerReferences: []metav1.OwnerReference{ownerReference(lw)},
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selectorLabels(lw),
			Ports: []corev1.ServicePort{{
				Name:       PortName,
				Protocol:   corev1.ProtocolTCP,
				Port:       Port(lw),
				TargetPort: intstr.FromString(PortName),
			}},
		},
	}
}

// reconcileService applies the Service when it is missing or differs.
func (r *Reconciler) reconcileService(ctx context.Context, s *scope) error {
	gvk := corev1.SchemeGroupVersion.WithKind("Service")
	desired, err := apply.Object(buildService(s.lw), gvk)
	if err != nil {
		return err
	}
	var existing *unstructured.Unstructured
	svc := &corev1.Service{}
	err = r.client.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: ServiceName(s.lw)}, svc)
	switch {
	case err == nil:
		if existing, err = apply.Unstructured(svc, gvk); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("failed to get Service %s: %w", ServiceName(s.lw), err)
	default:
		s.created = true
	}
	if _, err := apply.Patch(ctx, r.client, desired, existing); err != nil {
		return err
	}
	return nil
}
