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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/apply"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ownerReference makes lw the controller owner of an object, so it is
// garbage collected with lw.
func ownerReference(lw *computev1alpha1.LocalWorkspace) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         computev1alpha1.SchemeGroupVersion.String(),
		Kind:               "LocalWorkspace",
		Name:               lw.Name,
		UID:                lw.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// buildPVC returns the home volume claim of lw.
func buildPVC(lw *computev1alpha1.LocalWorkspace) *corev1.PersistentVolumeClaim {
	labels := objectLabels(lw)
	labels[HomeOfLabel] = lw.Name
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:            PVCName(lw),
			Namespace:       lw.Namespace,
			Labels:          labels,
			OwnerReferences: []metav1.OwnerReference{ownerReference(lw)},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: storageClassName(lw),
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: storageSize(lw)},
			},
		},
	}
}

// reconcileStorage creates the home volume claim when it is missing. An
// existing claim is left alone (its class is immutable, resizing depends on
// the class, and the data in it is the tenant's) except for HomeOfLabel, which
// it gets when it lacks it. A claim of that name that lw does not control and
// that is not labelled as lw's home is someone else's: it is refused
// (VolumeNotAllowed) rather than mounted, and the pod is not touched.
func (r *Reconciler) reconcileStorage(ctx context.Context, s *scope) error {
	existing := &corev1.PersistentVolumeClaim{}
	err := r.client.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: PVCName(s.lw)}, existing)
	switch {
	case err == nil:
		s.pvc = existing
		if !metav1.IsControlledBy(existing, s.lw) && existing.Labels[HomeOfLabel] != s.lw.Name {
			s.volumeProblem = &problem{
				Reason: workspacesv1alpha1.ReasonVolumeNotAllowed,
				Message: fmt.Sprintf("the home volume claim %s exists but does not belong to this workspace (it is not owned by it and not labelled %s=%s)",
					PVCName(s.lw), HomeOfLabel, s.lw.Name),
			}
			return nil
		}
		if existing.Labels[HomeOfLabel] == s.lw.Name {
			return nil
		}
		patch := client.MergeFrom(existing.DeepCopy())
		if existing.Labels == nil {
			existing.Labels = map[string]string{}
		}
		existing.Labels[HomeOfLabel] = s.lw.Name
		if err := r.client.Patch(ctx, existing, patch); err != nil {
			return fmt.Errorf("failed to label PersistentVolumeClaim %s as the home of %s: %w", PVCName(s.lw), s.lw.Name, err)
		}
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("failed to get PersistentVolumeClaim %s: %w", PVCName(s.lw), err)
	}
	desired, err := apply.Object(buildPVC(s.lw), corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"))
	if err != nil {
		return err
	}
	if _, err := apply.Patch(ctx, r.client, desired, nil); err != nil {
		return err
	}
	s.created = true
	return nil
}
