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

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
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
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:            PVCName(lw),
			Namespace:       lw.Namespace,
			Labels:          objectLabels(lw),
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
// existing claim is left alone: its class is immutable, resizing depends on
// the class, and the data in it is the tenant's.
func (r *Reconciler) reconcileStorage(ctx context.Context, s *scope) error {
	existing := &corev1.PersistentVolumeClaim{}
	err := r.client.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: PVCName(s.lw)}, existing)
	switch {
	case err == nil:
		s.pvc = existing
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("failed to get PersistentVolumeClaim %s: %w", PVCName(s.lw), err)
	}
	desired, err := toApplyObject(buildPVC(s.lw), corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"))
	if err != nil {
		return err
	}
	if _, err := r.apply(ctx, desired, nil); err != nil {
		return err
	}
	s.created = true
	return nil
}
