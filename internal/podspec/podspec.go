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

package podspec

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Names of the workspace container and its port; the Service targets PortName.
const (
	// ContainerName is the name of the workspace container.
	ContainerName = "workspace"
	// PortName is the name of the container port (and of the Service port).
	PortName = "http"
	// HomeVolumeName is the pod volume of the home claim; spec.volumes may not use it.
	HomeVolumeName = workspacesv1alpha1.ReservedVolumeName
	// DefaultMountPath is where the home volume is mounted when the effective spec names no
	// path (the hub always resolves one; this is the hub's own default too): the home of the
	// user in the Jupyter docker-stacks images.
	DefaultMountPath = "/home/jovyan"
	// DefaultPort is the container port of app types we do not know: the Jupyter default,
	// since most workspaces are notebooks.
	DefaultPort int32 = 8888
)

// appTypePorts maps an appType (lower-cased) to the port the IDE listens on in its usual image.
var appTypePorts = map[string]int32{
	"jupyterlab":  8888,
	"jupyter":     8888,
	"notebook":    8888,
	"code-server": 8080,
	"codeserver":  8080,
	"vscode":      8080,
	"theia":       3000,
}

// PortFor returns the container port of an appType: jupyterlab/jupyter/notebook 8888,
// code-server/vscode 8080, theia 3000, anything else DefaultPort.
func PortFor(appType string) int32 {
	if p, ok := appTypePorts[strings.ToLower(strings.TrimSpace(appType))]; ok {
		return p
	}
	return DefaultPort
}

// Names are what the pod needs beyond the effective spec; the caller chooses them.
type Names struct {
	// ClaimName is the workspace's home PersistentVolumeClaim, mounted at
	// effective.storage.mountPath. The agent names it <workspace>-home.
	ClaimName string
	// Port is the container port; 0 means PortFor(effective.appType).
	Port int32
	// Labels are set on the pod over the execution profile's podLabels (these win).
	Labels map[string]string
	// Annotations are set on the pod over the execution profile's podAnnotations (these win).
	Annotations map[string]string
}

// PodDefaults returns the platform's restricted pod security context: non-root, seccomp
// RuntimeDefault. The hub resolves the tenant's and the template's values over it.
func PodDefaults() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// ContainerDefaults returns the platform's restricted container security context: no
// privilege escalation, every capability dropped. The hub resolves the tenant's and the
// template's values over it.
func ContainerDefaults() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// Build returns the pod template of a workspace from its effective spec alone; see the package
// documentation. It never modifies eff.
func Build(eff *workspacesv1alpha1.EffectiveWorkspaceSpec, n Names) corev1.PodTemplateSpec {
	port := n.Port
	if port == 0 {
		port = PortFor(eff.AppType)
	}
	mountPath := DefaultMountPath
	if eff.Storage != nil && eff.Storage.MountPath != "" {
		mountPath = eff.Storage.MountPath
	}

	container := corev1.Container{
		Name:  ContainerName,
		Image: eff.Image,
		Ports: []corev1.ContainerPort{{
			Name:          PortName,
			ContainerPort: port,
			Protocol:      corev1.ProtocolTCP,
		}},
		Command:         cloneStrings(eff.Command),
		Args:            cloneStrings(eff.Args),
		Resources:       *eff.Resources.DeepCopy(),
		VolumeMounts:    []corev1.VolumeMount{{Name: HomeVolumeName, MountPath: mountPath}},
		ReadinessProbe:  withoutHostProbe(eff.ReadinessProbe),
		Lifecycle:       withoutHostLifecycle(eff.Lifecycle),
		SecurityContext: containerSecurity(eff.ContainerSecurityContext),
	}
	for _, e := range eff.Env {
		env := e.Core()
		container.Env = append(container.Env, *env.DeepCopy())
	}

	volumes := []corev1.Volume{{
		Name: HomeVolumeName,
		VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: n.ClaimName},
		},
	}}
	for _, v := range eff.Volumes {
		volumes = append(volumes, corev1.Volume{
			Name: v.Name,
			VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaimName},
			},
		})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath})
	}

	var initContainers []corev1.Container
	for i := range eff.InitContainers {
		c := eff.InitContainers[i].DeepCopy()
		sc := c.SecurityContext
		if sc == nil {
			sc = eff.ContainerSecurityContext
		}
		c.SecurityContext = containerSecurity(sc)
		c.ReadinessProbe = withoutHostProbe(c.ReadinessProbe)
		c.LivenessProbe = withoutHostProbe(c.LivenessProbe)
		c.StartupProbe = withoutHostProbe(c.StartupProbe)
		c.Lifecycle = withoutHostLifecycle(c.Lifecycle)
		initContainers = append(initContainers, *c)
	}

	var tolerations []corev1.Toleration
	for i := range eff.Tolerations {
		tolerations = append(tolerations, *eff.Tolerations[i].DeepCopy())
	}

	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      overlay(eff.PodLabels, n.Labels),
			Annotations: overlay(eff.PodAnnotations, n.Annotations),
		},
		Spec: corev1.PodSpec{
			InitContainers:               initContainers,
			Containers:                   []corev1.Container{container},
			Volumes:                      volumes,
			NodeSelector:                 overlay(eff.NodeSelector, nil),
			Affinity:                     eff.Affinity.DeepCopy(),
			Tolerations:                  tolerations,
			ServiceAccountName:           eff.ServiceAccountName,
			AutomountServiceAccountToken: ptr.To(eff.AutomountServiceAccountToken),
			// Service links put every Service of the namespace (other workspaces of the same
			// hub namespace) into the environment: noise at best, a map of neighbours at worst.
			EnableServiceLinks: ptr.To(false),
			SecurityContext:    podSecurity(eff.PodSecurityContext),
		},
	}
}

// podSecurity returns in with every restricted default it leaves unset filled in.
func podSecurity(in *corev1.PodSecurityContext) *corev1.PodSecurityContext {
	out := in.DeepCopy()
	if out == nil {
		out = &corev1.PodSecurityContext{}
	}
	def := PodDefaults()
	if out.RunAsNonRoot == nil {
		out.RunAsNonRoot = def.RunAsNonRoot
	}
	if out.SeccompProfile == nil {
		out.SeccompProfile = def.SeccompProfile
	}
	return out
}

// containerSecurity returns in with every restricted default it leaves unset filled in. A
// capabilities block that is present is kept as it is: a baseline template may keep the
// runtime's default capabilities, and the hub's Pod Security check judges it.
func containerSecurity(in *corev1.SecurityContext) *corev1.SecurityContext {
	out := in.DeepCopy()
	if out == nil {
		out = &corev1.SecurityContext{}
	}
	def := ContainerDefaults()
	if out.AllowPrivilegeEscalation == nil {
		out.AllowPrivilegeEscalation = def.AllowPrivilegeEscalation
	}
	if out.Capabilities == nil {
		out.Capabilities = def.Capabilities
	}
	return out
}

// withoutHostProbe returns a copy of p whose handlers name no host.
func withoutHostProbe(p *corev1.Probe) *corev1.Probe {
	out := p.DeepCopy()
	if out != nil {
		clearHost(&out.ProbeHandler.HTTPGet, &out.ProbeHandler.TCPSocket)
	}
	return out
}

// withoutHostLifecycle returns a copy of l whose handlers name no host.
func withoutHostLifecycle(l *corev1.Lifecycle) *corev1.Lifecycle {
	out := l.DeepCopy()
	if out == nil {
		return nil
	}
	for _, h := range []*corev1.LifecycleHandler{out.PostStart, out.PreStop} {
		if h != nil {
			clearHost(&h.HTTPGet, &h.TCPSocket)
		}
	}
	return out
}

// clearHost empties the host of an HTTP GET or TCP handler: with no host the kubelet
// connects to the pod's own IP, never to another address from the node.
func clearHost(get **corev1.HTTPGetAction, tcp **corev1.TCPSocketAction) {
	if *get != nil {
		(*get).Host = ""
	}
	if *tcp != nil {
		(*tcp).Host = ""
	}
}

// overlay returns base with top's entries over it, nil when both are empty.
func overlay(base, top map[string]string) map[string]string {
	if len(base) == 0 && len(top) == 0 {
		return nil
	}
	out := make(map[string]string, len(base)+len(top))
	maps.Copy(out, base)
	maps.Copy(out, top)
	return out
}

func cloneStrings(in []string) []string {
	if in == nil {
		return nil
	}
	return append([]string(nil), in...)
}
