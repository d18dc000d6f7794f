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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// The types of this file have the JSON shape of their corev1 namesakes, so Kubernetes and
// jupyter-k8s manifests apply unchanged. They are our own only because the corev1 schemas leave
// lists and strings unbounded, which makes the CEL rules below too expensive for the API
// server's cost estimator; with bounds, the API refuses at once what no tenant of a shared
// compute cluster may ever ask for, whatever its template says:
//
//   - privileged containers, and capabilities added beyond NET_BIND_SERVICE;
//   - seccomp or AppArmor profiles of type Unconfined;
//   - SELinux user, role or level (a level would let a container share the MCS category of
//     another tenant's pods), and SELinux types other than the container types Pod Security
//     baseline allows;
//   - procMount Unmasked;
//   - Windows HostProcess containers;
//   - host ports, bidirectional mount propagation, and tolerations without a key (they
//     tolerate every taint).
//
// What depends on the template's Pod Security level (running as root, allowPrivilegeEscalation,
// dropping capabilities, seccomp RuntimeDefault) is checked by the hub on the exact pod the agent
// will build (hub/templates), and reported as Valid=False.

// SELinuxTypes are the SELinux types a container may ask for: those Pod Security baseline allows.
var SELinuxTypes = []string{"container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

// Capabilities is corev1.Capabilities with bounded lists.
// +kubebuilder:validation:XValidation:rule="!has(self.add) || self.add.all(c, c == 'NET_BIND_SERVICE')",message="capabilities.add may only contain NET_BIND_SERVICE: workspaces share compute clusters with other organizations, so no other capability is granted",fieldPath=".add"
type Capabilities struct {
	// Add are capabilities to add; only NET_BIND_SERVICE is allowed.
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	// +optional
	Add []Capability `json:"add,omitempty"`
	// Drop are capabilities to drop; the platform's default drops ALL.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Drop []Capability `json:"drop,omitempty"`
}

// Capability is a POSIX capability name, such as NET_BIND_SERVICE or ALL.
// +kubebuilder:validation:MaxLength=64
type Capability string

func coreCapabilities(in []Capability) []corev1.Capability {
	if in == nil {
		return nil
	}
	out := make([]corev1.Capability, 0, len(in))
	for _, c := range in {
		out = append(out, corev1.Capability(c))
	}
	return out
}

// SELinuxOptions is corev1.SELinuxOptions with bounded strings; only a container type may be set.
// +kubebuilder:validation:XValidation:rule="!has(self.user) || size(self.user) == 0",message="seLinuxOptions.user may not be set on shared compute clusters",fieldPath=".user"
// +kubebuilder:validation:XValidation:rule="!has(self.role) || size(self.role) == 0",message="seLinuxOptions.role may not be set on shared compute clusters",fieldPath=".role"
// +kubebuilder:validation:XValidation:rule="!has(self.level) || size(self.level) == 0",message="seLinuxOptions.level may not be set on shared compute clusters: a level could share the MCS category of another organization's pods",fieldPath=".level"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || size(self.type) == 0 || self.type in ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']",message="seLinuxOptions.type may only be container_t, container_init_t, container_kvm_t or container_engine_t",fieldPath=".type"
type SELinuxOptions struct {
	// User is not allowed.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	User string `json:"user,omitempty"`
	// Role is not allowed.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Role string `json:"role,omitempty"`
	// Type is the SELinux type: container_t, container_init_t, container_kvm_t or container_engine_t.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Type string `json:"type,omitempty"`
	// Level is not allowed.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Level string `json:"level,omitempty"`
}

// Core returns the options as corev1.SELinuxOptions.
func (o *SELinuxOptions) Core() *corev1.SELinuxOptions {
	if o == nil {
		return nil
	}
	return &corev1.SELinuxOptions{User: o.User, Role: o.Role, Type: o.Type, Level: o.Level}
}

// SeccompProfile is corev1.SeccompProfile with bounded strings; Unconfined is refused.
// +kubebuilder:validation:XValidation:rule="self.type != 'Unconfined'",message="seccompProfile.type Unconfined is not allowed on shared compute clusters: use RuntimeDefault or Localhost",fieldPath=".type"
type SeccompProfile struct {
	// Type is RuntimeDefault or Localhost.
	// +kubebuilder:validation:Enum=RuntimeDefault;Localhost;Unconfined
	// +required
	Type corev1.SeccompProfileType `json:"type"`
	// LocalhostProfile is the profile's file on the node, for type Localhost.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	LocalhostProfile *string `json:"localhostProfile,omitempty"`
}

// Core returns the profile as corev1.SeccompProfile.
func (p *SeccompProfile) Core() *corev1.SeccompProfile {
	if p == nil {
		return nil
	}
	return &corev1.SeccompProfile{Type: p.Type, LocalhostProfile: copyPtr(p.LocalhostProfile)}
}

// AppArmorProfile is corev1.AppArmorProfile with bounded strings; Unconfined is refused.
// +kubebuilder:validation:XValidation:rule="self.type != 'Unconfined'",message="appArmorProfile.type Unconfined is not allowed on shared compute clusters: use RuntimeDefault or Localhost",fieldPath=".type"
type AppArmorProfile struct {
	// Type is RuntimeDefault or Localhost.
	// +kubebuilder:validation:Enum=RuntimeDefault;Localhost;Unconfined
	// +required
	Type corev1.AppArmorProfileType `json:"type"`
	// LocalhostProfile is the name of a profile loaded on the node, for type Localhost.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	LocalhostProfile *string `json:"localhostProfile,omitempty"`
}

// Core returns the profile as corev1.AppArmorProfile.
func (p *AppArmorProfile) Core() *corev1.AppArmorProfile {
	if p == nil {
		return nil
	}
	return &corev1.AppArmorProfile{Type: p.Type, LocalhostProfile: copyPtr(p.LocalhostProfile)}
}

// WindowsSecurityContextOptions is corev1.WindowsSecurityContextOptions with bounded strings;
// HostProcess is refused.
// +kubebuilder:validation:XValidation:rule="!has(self.hostProcess) || !self.hostProcess",message="windowsOptions.hostProcess is not allowed on shared compute clusters",fieldPath=".hostProcess"
type WindowsSecurityContextOptions struct {
	// GMSACredentialSpecName names a GMSA credential spec.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	GMSACredentialSpecName *string `json:"gmsaCredentialSpecName,omitempty"`
	// GMSACredentialSpec is the content of a GMSA credential spec.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	GMSACredentialSpec *string `json:"gmsaCredentialSpec,omitempty"`
	// RunAsUserName is the Windows user name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	RunAsUserName *string `json:"runAsUserName,omitempty"`
	// HostProcess is not allowed.
	// +optional
	HostProcess *bool `json:"hostProcess,omitempty"`
}

// Core returns the options as corev1.WindowsSecurityContextOptions.
func (o *WindowsSecurityContextOptions) Core() *corev1.WindowsSecurityContextOptions {
	if o == nil {
		return nil
	}
	return &corev1.WindowsSecurityContextOptions{
		GMSACredentialSpecName: copyPtr(o.GMSACredentialSpecName), GMSACredentialSpec: copyPtr(o.GMSACredentialSpec),
		RunAsUserName: copyPtr(o.RunAsUserName), HostProcess: copyPtr(o.HostProcess),
	}
}

// SecurityContext is corev1.SecurityContext (a container's security context) with the refusals
// listed at the top of this file.
// +kubebuilder:validation:XValidation:rule="!has(self.privileged) || !self.privileged",message="privileged containers are not allowed: workspaces share compute clusters with other organizations",fieldPath=".privileged"
// +kubebuilder:validation:XValidation:rule="!has(self.procMount) || self.procMount == 'Default'",message="procMount Unmasked is not allowed on shared compute clusters",fieldPath=".procMount"
type SecurityContext struct {
	// Capabilities to add (only NET_BIND_SERVICE) and drop.
	// +optional
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	// Privileged is not allowed.
	// +optional
	Privileged *bool `json:"privileged,omitempty"`
	// SELinuxOptions: only a container type.
	// +optional
	SELinuxOptions *SELinuxOptions `json:"seLinuxOptions,omitempty"`
	// WindowsOptions of Windows containers; HostProcess is not allowed.
	// +optional
	WindowsOptions *WindowsSecurityContextOptions `json:"windowsOptions,omitempty"`
	// RunAsUser is the UID the container runs as. 0 (root) is refused by the restricted level.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the GID the container runs as.
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// RunAsNonRoot makes the kubelet refuse to start the container as root. The restricted
	// level requires it.
	// +optional
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
	// ReadOnlyRootFilesystem mounts the image read-only.
	// +optional
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
	// AllowPrivilegeEscalation: the restricted level requires false (the platform's default).
	// +optional
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	// ProcMount: only Default.
	// +kubebuilder:validation:Enum=Default;Unmasked
	// +optional
	ProcMount *corev1.ProcMountType `json:"procMount,omitempty"`
	// SeccompProfile: RuntimeDefault (the platform's default) or Localhost.
	// +optional
	SeccompProfile *SeccompProfile `json:"seccompProfile,omitempty"`
	// AppArmorProfile: RuntimeDefault or Localhost.
	// +optional
	AppArmorProfile *AppArmorProfile `json:"appArmorProfile,omitempty"`
}

// Core returns the security context as a corev1.SecurityContext.
func (s *SecurityContext) Core() *corev1.SecurityContext {
	if s == nil {
		return nil
	}
	out := &corev1.SecurityContext{
		Privileged:               copyPtr(s.Privileged),
		SELinuxOptions:           s.SELinuxOptions.Core(),
		WindowsOptions:           s.WindowsOptions.Core(),
		RunAsUser:                copyPtr(s.RunAsUser),
		RunAsGroup:               copyPtr(s.RunAsGroup),
		RunAsNonRoot:             copyPtr(s.RunAsNonRoot),
		ReadOnlyRootFilesystem:   copyPtr(s.ReadOnlyRootFilesystem),
		AllowPrivilegeEscalation: copyPtr(s.AllowPrivilegeEscalation),
		ProcMount:                copyPtr(s.ProcMount),
		SeccompProfile:           s.SeccompProfile.Core(),
		AppArmorProfile:          s.AppArmorProfile.Core(),
	}
	if c := s.Capabilities; c != nil {
		out.Capabilities = &corev1.Capabilities{Add: coreCapabilities(c.Add), Drop: coreCapabilities(c.Drop)}
	}
	return out
}

// Sysctl is corev1.Sysctl with bounded strings.
type Sysctl struct {
	// Name of the sysctl; Pod Security allows only the safe set (e.g. net.ipv4.ping_group_range).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
	// Value of the sysctl.
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Value string `json:"value"`
}

// PodSecurityContext is corev1.PodSecurityContext with the refusals listed at the top of this
// file that apply to pods.
type PodSecurityContext struct {
	// SELinuxOptions: only a container type.
	// +optional
	SELinuxOptions *SELinuxOptions `json:"seLinuxOptions,omitempty"`
	// WindowsOptions of Windows pods; HostProcess is not allowed.
	// +optional
	WindowsOptions *WindowsSecurityContextOptions `json:"windowsOptions,omitempty"`
	// RunAsUser is the UID the containers run as. 0 (root) is refused by the restricted level.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the GID the containers run as.
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// RunAsNonRoot makes the kubelet refuse to start containers as root. The restricted level
	// requires it (the platform's default).
	// +optional
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
	// SupplementalGroups are further GIDs of the containers' first process.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	SupplementalGroups []int64 `json:"supplementalGroups,omitempty"`
	// SupplementalGroupsPolicy is Merge or Strict.
	// +kubebuilder:validation:Enum=Merge;Strict
	// +optional
	SupplementalGroupsPolicy *corev1.SupplementalGroupsPolicy `json:"supplementalGroupsPolicy,omitempty"`
	// FSGroup owns the pod's volumes.
	// +optional
	FSGroup *int64 `json:"fsGroup,omitempty"`
	// Sysctls of the pod; Pod Security allows only the safe set.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Sysctls []Sysctl `json:"sysctls,omitempty"`
	// FSGroupChangePolicy is OnRootMismatch or Always.
	// +kubebuilder:validation:Enum=OnRootMismatch;Always
	// +optional
	FSGroupChangePolicy *corev1.PodFSGroupChangePolicy `json:"fsGroupChangePolicy,omitempty"`
	// SeccompProfile: RuntimeDefault (the platform's default) or Localhost.
	// +optional
	SeccompProfile *SeccompProfile `json:"seccompProfile,omitempty"`
	// AppArmorProfile: RuntimeDefault or Localhost.
	// +optional
	AppArmorProfile *AppArmorProfile `json:"appArmorProfile,omitempty"`
	// SELinuxChangePolicy is Recursive or MountOption.
	// +kubebuilder:validation:Enum=Recursive;MountOption
	// +optional
	SELinuxChangePolicy *corev1.PodSELinuxChangePolicy `json:"seLinuxChangePolicy,omitempty"`
}

// Core returns the security context as a corev1.PodSecurityContext.
func (s *PodSecurityContext) Core() *corev1.PodSecurityContext {
	if s == nil {
		return nil
	}
	out := &corev1.PodSecurityContext{
		SELinuxOptions:           s.SELinuxOptions.Core(),
		WindowsOptions:           s.WindowsOptions.Core(),
		RunAsUser:                copyPtr(s.RunAsUser),
		RunAsGroup:               copyPtr(s.RunAsGroup),
		RunAsNonRoot:             copyPtr(s.RunAsNonRoot),
		SupplementalGroups:       append([]int64(nil), s.SupplementalGroups...),
		SupplementalGroupsPolicy: copyPtr(s.SupplementalGroupsPolicy),
		FSGroup:                  copyPtr(s.FSGroup),
		FSGroupChangePolicy:      copyPtr(s.FSGroupChangePolicy),
		SeccompProfile:           s.SeccompProfile.Core(),
		AppArmorProfile:          s.AppArmorProfile.Core(),
		SELinuxChangePolicy:      copyPtr(s.SELinuxChangePolicy),
	}
	for _, sc := range s.Sysctls {
		out.Sysctls = append(out.Sysctls, corev1.Sysctl{Name: sc.Name, Value: sc.Value})
	}
	return out
}

// Toleration is corev1.Toleration with bounded strings. A toleration must name a taint key: one
// without a key (operator Exists) would tolerate every taint of the compute cluster, including
// those that keep workspaces off control-plane and system nodes.
// +kubebuilder:validation:XValidation:rule="has(self.key) && size(self.key) != 0",message="a toleration must name a taint key: one without a key tolerates every taint of the shared compute cluster",fieldPath=".key"
// +kubebuilder:validation:XValidation:rule="!has(self.operator) || self.operator != 'Exists' || !has(self.value) || size(self.value) == 0",message="a toleration with operator Exists must not set a value",fieldPath=".value"
type Toleration struct {
	// Key is the taint key the toleration applies to.
	// +kubebuilder:validation:MaxLength=317
	// +optional
	Key string `json:"key,omitempty"`
	// Operator is Exists or Equal (the default).
	// +kubebuilder:validation:Enum=Exists;Equal
	// +optional
	Operator corev1.TolerationOperator `json:"operator,omitempty"`
	// Value the taint must have with operator Equal.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Value string `json:"value,omitempty"`
	// Effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all.
	// +kubebuilder:validation:Enum=NoSchedule;PreferNoSchedule;NoExecute
	// +optional
	Effect corev1.TaintEffect `json:"effect,omitempty"`
	// TolerationSeconds bounds how long a NoExecute taint is tolerated.
	// +optional
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// Core returns the toleration as a corev1.Toleration.
func (t Toleration) Core() corev1.Toleration {
	return corev1.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect, TolerationSeconds: copyPtr(t.TolerationSeconds)}
}

// ContainerPort is the part of corev1.ContainerPort an init container may set: no host port.
type ContainerPort struct {
	// Name of the port.
	// +kubebuilder:validation:MaxLength=15
	// +optional
	Name string `json:"name,omitempty"`
	// HostPort is not allowed: it would bind a port of the shared node.
	// +kubebuilder:validation:XValidation:rule="self == 0",message="hostPort is not allowed: it would bind a port of the shared compute cluster's node"
	// +optional
	HostPort int32 `json:"hostPort,omitempty"`
	// ContainerPort is the port number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	ContainerPort int32 `json:"containerPort"`
	// Protocol is TCP (the default), UDP or SCTP.
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	// +optional
	Protocol corev1.Protocol `json:"protocol,omitempty"`
	// HostIP is not allowed.
	// +kubebuilder:validation:MaxLength=0
	// +optional
	HostIP string `json:"hostIP,omitempty"`
}

// VolumeMount is corev1.VolumeMount with bounded strings; propagation from the container to the
// node (Bidirectional) is refused.
type VolumeMount struct {
	// Name of the volume: workspace-storage (the home volume) or one of spec.volumes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`
	// ReadOnly mounts the volume read-only.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
	// MountPath is where the volume is mounted, an absolute path.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="volumeMounts[].mountPath must be an absolute path such as /data"
	// +required
	MountPath string `json:"mountPath"`
	// SubPath within the volume.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SubPath string `json:"subPath,omitempty"`
	// MountPropagation is None or HostToContainer; Bidirectional is not allowed.
	// +kubebuilder:validation:Enum=None;HostToContainer;Bidirectional
	// +kubebuilder:validation:XValidation:rule="self != 'Bidirectional'",message="mountPropagation Bidirectional is not allowed on shared compute clusters"
	// +optional
	MountPropagation *corev1.MountPropagationMode `json:"mountPropagation,omitempty"`
	// SubPathExpr is SubPath with $(VAR) expansion.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SubPathExpr string `json:"subPathExpr,omitempty"`
}

// Core returns the mount as a corev1.VolumeMount.
func (m VolumeMount) Core() corev1.VolumeMount {
	return corev1.VolumeMount{Name: m.Name, ReadOnly: m.ReadOnly, MountPath: m.MountPath, SubPath: m.SubPath, MountPropagation: copyPtr(m.MountPropagation), SubPathExpr: m.SubPathExpr}
}

// InitContainer is the part of corev1.Container an init container of a workspace may set; the
// JSON shape is corev1.Container's. A template must allow custom init containers
// (allowCustomInitContainers); their images must be allowed, their resources are bounded by the
// template and counted in placement, and their security context is resolved like the workspace
// container's. Probes, lifecycle hooks and restartPolicy (sidecars) are not offered.
type InitContainer struct {
	// Name of the init container, a DNS-1123 label other than "workspace".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="initContainers[].name must be a DNS-1123 label: lower case letters, digits and '-'"
	// +kubebuilder:validation:XValidation:rule="self != 'workspace'",message="initContainers[].name 'workspace' is the name of the workspace container: choose another"
	// +required
	Name string `json:"name"`
	// Image of the init container; the template's allowedImages apply.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^[:space:]]+$')",message="initContainers[].image must be an image reference without whitespace"
	// +required
	Image string `json:"image"`
	// ImagePullPolicy is Always, IfNotPresent or Never.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// Command replaces the image's ENTRYPOINT.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=4096
	// +listType=atomic
	// +optional
	Command []string `json:"command,omitempty"`
	// Args replaces the image's CMD.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=4096
	// +listType=atomic
	// +optional
	Args []string `json:"args,omitempty"`
	// WorkingDir of the process.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	WorkingDir string `json:"workingDir,omitempty"`
	// Ports are informational; host ports are not allowed.
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	// +optional
	Ports []ContainerPort `json:"ports,omitempty"`
	// Env of the init container; the platform's reserved names are refused as for spec.env.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Env []EnvVar `json:"env,omitempty"`
	// Resources of the init container, bounded by the template's resourceBounds.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// VolumeMounts: the home volume (workspace-storage) and the workspace's spec.volumes.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	VolumeMounts []VolumeMount `json:"volumeMounts,omitempty"`
	// SecurityContext of the init container, resolved like the workspace container's.
	// +optional
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Core returns the init container as a corev1.Container, as written: the hub resolves its
// security context before it reaches status.effective.
func (c *InitContainer) Core() corev1.Container {
	out := corev1.Container{
		Name:            c.Name,
		Image:           c.Image,
		ImagePullPolicy: c.ImagePullPolicy,
		Command:         append([]string(nil), c.Command...),
		Args:            append([]string(nil), c.Args...),
		WorkingDir:      c.WorkingDir,
		SecurityContext: c.SecurityContext.Core(),
	}
	for _, p := range c.Ports {
		out.Ports = append(out.Ports, corev1.ContainerPort{Name: p.Name, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostIP: p.HostIP})
	}
	for _, e := range c.Env {
		env := e.Core()
		out.Env = append(out.Env, *env.DeepCopy())
	}
	if c.Resources != nil {
		out.Resources = *c.Resources.DeepCopy()
	}
	for _, m := range c.VolumeMounts {
		out.VolumeMounts = append(out.VolumeMounts, m.Core())
	}
	return out
}
