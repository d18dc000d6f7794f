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
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// buildDeployment returns the Deployment that runs lw: one replica while it
// should run, none when stopped.
func buildDeployment(lw *computev1alpha1.LocalWorkspace) *appsv1.Deployment {
	ws := &lw.Spec.Workspace
	replicas := int32(0)
	if wantsRunning(lw) {
		replicas = 1
	}

	// The execution profile's pod labels first, so ours win.
	podLabels := map[string]string{}
	for k, v := range lw.Spec.Effective.PodLabels {
		podLabels[k] = v
	}
	for k, v := range objectLabels(lw) {
		podLabels[k] = v
	}
	var podAnnotations map[string]string
	if len(lw.Spec.Effective.PodAnnotations) > 0 {
		podAnnotations = make(map[string]string, len(lw.Spec.Effective.PodAnnotations))
		for k, v := range lw.Spec.Effective.PodAnnotations {
			podAnnotations[k] = v
		}
	}

	container := corev1.Container{
		Name:  ContainerName,
		Image: image(lw),
		Ports: []corev1.ContainerPort{{
			Name:          PortName,
			ContainerPort: Port(lw),
			Protocol:      corev1.ProtocolTCP,
		}},
		Resources:       resources(lw),
		VolumeMounts:    []corev1.VolumeMount{{Name: workspacesv1alpha1.ReservedVolumeName, MountPath: mountPath(lw)}},
		ReadinessProbe:  ws.ReadinessProbe.DeepCopy(),
		Lifecycle:       ws.Lifecycle.DeepCopy(),
		SecurityContext: ws.ContainerSecurityContext.Core(),
	}
	if cc := ws.ContainerConfig; cc != nil {
		container.Command = append([]string(nil), cc.Command...)
		container.Args = append([]string(nil), cc.Args...)
	}
	for _, e := range ws.Env {
		env := e.Core()
		container.Env = append(container.Env, *env.DeepCopy())
	}

	volumes := []corev1.Volume{{
		Name: workspacesv1alpha1.ReservedVolumeName,
		VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: PVCName(lw)},
		},
	}}
	for _, v := range ws.Volumes {
		volumes = append(volumes, corev1.Volume{
			Name: v.Name,
			VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaimName},
			},
		})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath})
	}

	var nodeSelector map[string]string
	if len(ws.NodeSelector) > 0 {
		nodeSelector = make(map[string]string, len(ws.NodeSelector))
		for k, v := range ws.NodeSelector {
			nodeSelector[k] = v
		}
	}
	var tolerations []corev1.Toleration
	for _, t := range ws.Tolerations {
		tolerations = append(tolerations, t.Core())
	}
	var initContainers []corev1.Container
	for _, c := range ws.InitContainers {
		initContainers = append(initContainers, c.Core())
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
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: podAnnotations},
				Spec: corev1.PodSpec{
					InitContainers:     initContainers,
					Containers:         []corev1.Container{container},
					Volumes:            volumes,
					NodeSelector:       nodeSelector,
					Affinity:           ws.Affinity.DeepCopy(),
					Tolerations:        tolerations,
					ServiceAccountName: serviceAccountName(lw),
					SecurityContext:    ws.PodSecurityContext.Core(),
				},
			},
		},
	}
}

// reconcileDeployment applies the Deployment when it is missing or differs,
// and records what it observed in the scope.
func (r *Reconciler) reconcileDeployment(ctx context.Context, s *scope) error {
	gvk := appsv1.SchemeGroupVersion.WithKind("Deployment")
	desired, err := toApplyObject(buildDeployment(s.lw), gvk)
	if err != nil {
		return err
	}
	var existing *unstructured.Unstructured
	dep := &appsv1.Deployment{}
	err = r.client.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: DeploymentName(s.lw)}, dep)
	switch {
	case err == nil:
		if existing, err = toUnstructured(dep, gvk); err != nil {
			return err
		}
		s.deployment = dep
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("failed to get Deployment %s: %w", DeploymentName(s.lw), err)
	default:
		s.created = true
	}
	wrote, err := r.apply(ctx, desired, existing)
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
