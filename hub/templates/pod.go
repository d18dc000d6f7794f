package templates

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// workspaceContainerName is the name of the workspace container in the pod the agent builds.
const workspaceContainerName = "workspace"

// podNames are the names the pod builder needs besides the effective spec (contract-12 §1:
// internal/podspec.Names).
type podNames struct {
	ClaimName   string
	Port        int32
	Labels      map[string]string
	Annotations map[string]string
}

// buildPod builds the pod the agent will run from an effective spec. The Pod Security check
// runs on its result, so it must be the agent's own builder: internal/podspec.Build, which
// both sides share (contract-12 §1). Until that package is on this branch, this is a faithful
// stand-in built from status.effective alone, as the agent's will be.
var buildPod = func(eff *workspacesv1alpha1.EffectiveWorkspaceSpec, n podNames) corev1.PodTemplateSpec {
	container := corev1.Container{
		Name:            workspaceContainerName,
		Image:           eff.Image,
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: n.Port, Protocol: corev1.ProtocolTCP}},
		Resources:       *eff.Resources.DeepCopy(),
		Command:         append([]string(nil), eff.Command...),
		Args:            append([]string(nil), eff.Args...),
		ReadinessProbe:  eff.ReadinessProbe.DeepCopy(),
		Lifecycle:       eff.Lifecycle.DeepCopy(),
		SecurityContext: eff.ContainerSecurityContext.DeepCopy(),
	}
	for _, e := range eff.Env {
		env := e.Core()
		container.Env = append(container.Env, *env.DeepCopy())
	}
	var volumes []corev1.Volume
	if eff.Storage != nil {
		volumes = append(volumes, corev1.Volume{Name: workspacesv1alpha1.ReservedVolumeName, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: n.ClaimName},
		}})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: workspacesv1alpha1.ReservedVolumeName, MountPath: eff.Storage.MountPath})
	}
	for _, v := range eff.Volumes {
		volumes = append(volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaimName},
		}})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath})
	}
	var initContainers []corev1.Container
	for i := range eff.InitContainers {
		initContainers = append(initContainers, *eff.InitContainers[i].DeepCopy())
	}
	var tolerations []corev1.Toleration
	for i := range eff.Tolerations {
		tolerations = append(tolerations, *eff.Tolerations[i].DeepCopy())
	}
	labels := map[string]string{}
	for k, v := range eff.PodLabels {
		labels[k] = v
	}
	for k, v := range n.Labels {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range eff.PodAnnotations {
		annotations[k] = v
	}
	for k, v := range n.Annotations {
		annotations[k] = v
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			InitContainers:               initContainers,
			Containers:                   []corev1.Container{container},
			Volumes:                      volumes,
			NodeSelector:                 cloneMap(eff.NodeSelector),
			Affinity:                     eff.Affinity.DeepCopy(),
			Tolerations:                  tolerations,
			ServiceAccountName:           eff.ServiceAccountName,
			AutomountServiceAccountToken: ptr.To(eff.AutomountServiceAccountToken),
			SecurityContext:              eff.PodSecurityContext.DeepCopy(),
		},
	}
}
