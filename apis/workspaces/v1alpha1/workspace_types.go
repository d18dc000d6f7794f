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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DesiredStatus is what the tenant wants the workspace to be doing.
// +kubebuilder:validation:Enum=Running;Stopped
type DesiredStatus string

const (
	// DesiredStatusRunning asks for the workspace to run and be reachable.
	DesiredStatusRunning DesiredStatus = "Running"
	// DesiredStatusStopped scales the workspace to zero and removes its access
	// resources, but keeps its storage, so starting it again loses nothing.
	DesiredStatusStopped DesiredStatus = "Stopped"
)

// OwnershipType says who may modify or delete a workspace.
// +kubebuilder:validation:Enum=Public;OwnerOnly
type OwnershipType string

const (
	// OwnershipTypePublic lets anyone whose RBAC allows it update or delete the workspace.
	OwnershipTypePublic OwnershipType = "Public"
	// OwnershipTypeOwnerOnly lets only the owner update or delete the workspace.
	OwnershipTypeOwnerOnly OwnershipType = "OwnerOnly"
)

// AccessType says who may connect to a workspace.
// +kubebuilder:validation:Enum=Public;OwnerOnly
type AccessType string

const (
	// AccessTypePublic lets anyone whose RBAC allows it connect to the workspace.
	AccessTypePublic AccessType = "Public"
	// AccessTypeOwnerOnly lets only the owner, and the users and groups named by
	// WorkspaceShares of the workspace, connect to it.
	AccessTypeOwnerOnly AccessType = "OwnerOnly"
)

// WorkspacePhase is a one-word summary of the workspace's lifecycle, for humans
// and printer columns. Controllers decide on conditions, never on the phase.
// +kubebuilder:validation:Enum=Pending;Starting;Running;Stopping;Stopped;Failed;Deleting
type WorkspacePhase string

const (
	// WorkspacePhasePending: accepted, but not yet valid, placed or materialized.
	WorkspacePhasePending WorkspacePhase = "Pending"
	// WorkspacePhaseStarting: placed, and the compute cluster is bringing it up.
	WorkspacePhaseStarting WorkspacePhase = "Starting"
	// WorkspacePhaseRunning: pods are ready and the access URL answers.
	WorkspacePhaseRunning WorkspacePhase = "Running"
	// WorkspacePhaseStopping: scaling to zero after desiredStatus became Stopped.
	WorkspacePhaseStopping WorkspacePhase = "Stopping"
	// WorkspacePhaseStopped: scaled to zero; storage is kept.
	WorkspacePhaseStopped WorkspacePhase = "Stopped"
	// WorkspacePhaseFailed: the workspace cannot run until its spec or the
	// environment changes; the conditions say why.
	WorkspacePhaseFailed WorkspacePhase = "Failed"
	// WorkspacePhaseDeleting: deletion was requested and the compute cluster is
	// cleaning up.
	WorkspacePhaseDeleting WorkspacePhase = "Deleting"
)

// PodSecurityLevel is a Pod Security Standard level
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
// +kubebuilder:validation:Enum=restricted;baseline
type PodSecurityLevel string

const (
	// PodSecurityLevelRestricted is the hardened level: non-root, every capability dropped,
	// seccomp RuntimeDefault, no privilege escalation. The default everywhere.
	PodSecurityLevelRestricted PodSecurityLevel = "restricted"
	// PodSecurityLevelBaseline prevents known privilege escalations but allows, for example,
	// root inside the container. A platform team opts in per compute cluster and template.
	PodSecurityLevelBaseline PodSecurityLevel = "baseline"
)

// ReservedVolumeName is the pod volume name of the workspace's primary storage;
// spec.volumes may not use it.
const ReservedVolumeName = "workspace-storage"

// EnvVar is corev1.EnvVar with a bounded, validated name. It is our own type
// only because the schema of corev1.EnvVar leaves the name unbounded, which
// makes any CEL check of it too expensive for the API server to accept; the
// JSON shape is the same, so Kubernetes and jupyter-k8s manifests still apply.
type EnvVar struct {
	// Name of the variable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z][-._a-zA-Z0-9]*$')",message="spec.env[].name must consist of letters, digits, '-', '.' and '_', and must not start with a digit"
	// +required
	Name string `json:"name"`

	// Value of the variable; $(VAR) references expand as in Kubernetes. At most 8 KiB: the
	// value is carried to the compute cluster.
	// +kubebuilder:validation:MaxLength=8192
	// +optional
	Value string `json:"value,omitempty"`

	// ValueFrom reads the value from a source in the workspace's local
	// namespace on the compute cluster.
	// +optional
	ValueFrom *corev1.EnvVarSource `json:"valueFrom,omitempty"`
}

// Core returns the variable as a corev1.EnvVar for the pod template.
func (e EnvVar) Core() corev1.EnvVar {
	return corev1.EnvVar{Name: e.Name, Value: e.Value, ValueFrom: e.ValueFrom}
}

// StorageSpec is the workspace's primary persistent storage. It survives stops.
type StorageSpec struct {
	// StorageClassName is the storage class of the workspace's volume. When unset
	// the template's class is used, else the compute cluster's default class.
	// It cannot change once set, because a bound volume cannot change class.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.storage.storageClassName is immutable: delete and recreate the workspace to use another storage class"
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.storage.storageClassName must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Size of the workspace's volume, e.g. "10Gi". When unset the template's
	// default size is used; the template also bounds it.
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",message="spec.storage.size must be a positive quantity such as 10Gi"
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`

	// MountPath is where the volume is mounted in the workspace container.
	// When unset the template's path is used, else /home/jovyan, the home of the
	// user in the Jupyter docker-stacks images.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="spec.storage.mountPath must be an absolute path such as /home/jovyan"
	// +optional
	MountPath string `json:"mountPath,omitempty"`
}

// VolumeSpec mounts an existing PersistentVolumeClaim of the workspace's local
// namespace on the compute cluster into the workspace container.
type VolumeSpec struct {
	// Name identifies the volume in the pod.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="spec.volumes[].name must be a DNS-1123 label: lower case letters, digits and '-', at most 63 characters"
	// +required
	Name string `json:"name"`

	// PersistentVolumeClaimName is the claim to mount.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.volumes[].persistentVolumeClaimName must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +required
	PersistentVolumeClaimName string `json:"persistentVolumeClaimName"`

	// MountPath is where the volume is mounted, an absolute path.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="spec.volumes[].mountPath must be an absolute path such as /data"
	// +required
	MountPath string `json:"mountPath"`
}

// ContainerConfig overrides the image's entrypoint.
type ContainerConfig struct {
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
}

// AccessStrategyRef names a WorkspaceAccessStrategy.
type AccessStrategyRef struct {
	// Name of the WorkspaceAccessStrategy. It must be offered by the compute
	// cluster the workspace is placed on and allowed by the template.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="accessStrategy.name must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +required
	Name string `json:"name"`

	// Namespace is accepted for compatibility with jupyter-k8s manifests and
	// ignored: on Atrium, access strategies are cluster-scoped objects on the
	// compute clusters, installed by the platform team.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// TemplateRef names a WorkspaceTemplate of the same organization.
type TemplateRef struct {
	// Name of the WorkspaceTemplate.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.templateRef.name must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +required
	Name string `json:"name"`

	// Namespace is accepted for compatibility with jupyter-k8s manifests and
	// ignored: on Atrium, templates are cluster-scoped in the organization's
	// logical cluster.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// IdleShutdownSpec stops a running workspace that has been idle for a while.
type IdleShutdownSpec struct {
	// Enabled turns idle shutdown on. When the whole idleShutdown block is
	// absent the template's policy decides.
	// +optional
	Enabled bool `json:"enabled"`

	// IdleTimeoutInMinutes is how long the workspace may be idle before it is
	// stopped. When unset the template's default is used; the template also
	// caps it.
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="spec.idleShutdown.idleTimeoutInMinutes must be at least 1"
	// +optional
	IdleTimeoutInMinutes int32 `json:"idleTimeoutInMinutes,omitempty"`

	// Detection says how activity is read from the running workspace.
	// +optional
	Detection *IdleDetectionSpec `json:"detection,omitempty"`
}

// IdleDetectionSpec says how the agent reads activity from the workspace.
type IdleDetectionSpec struct {
	// HTTPGet reads the last activity time from an HTTP endpoint of the
	// workspace, for example JupyterLab's /api/status.
	// +optional
	HTTPGet *IdleHTTPGetAction `json:"httpGet,omitempty"`
}

// IdleTransport is how the activity endpoint is reached.
// +kubebuilder:validation:Enum=podExec;network
type IdleTransport string

const (
	// IdleTransportPodExec is accepted for compatibility with jupyter-k8s; Atrium
	// treats it as IdleTransportNetwork, because the agent never execs into
	// tenant containers.
	IdleTransportPodExec IdleTransport = "podExec"
	// IdleTransportNetwork makes the agent call the workspace's Service.
	IdleTransportNetwork IdleTransport = "network"
)

// IdleHTTPGetAction is a corev1.HTTPGetAction plus how to read the activity
// timestamp from the response. The agent sends the request to the workspace's own Service;
// host may name only the host of the workspace's access URL (the agent then reads through the
// access path, as on clusters whose pods the agent cannot reach), and the agent refuses any other
// host, so no request goes to the node, the cloud's metadata service or another tenant.
// +kubebuilder:validation:XValidation:rule="!has(self.path) || self.path.size() <= 2048",message="idleShutdown.detection.httpGet.path must be at most 2048 characters",fieldPath=".path"
// +kubebuilder:validation:XValidation:rule="!has(self.httpHeaders) || self.httpHeaders.size() <= 16",message="idleShutdown.detection.httpGet.httpHeaders may have at most 16 entries",fieldPath=".httpHeaders"
type IdleHTTPGetAction struct {
	corev1.HTTPGetAction `json:",inline"`

	// Transport is accepted for compatibility with jupyter-k8s. Atrium always
	// calls the workspace's Service from the agent.
	// +optional
	Transport IdleTransport `json:"transport,omitempty"`

	// LastActivityTimestamp says where the timestamp is in the JSON response.
	// +optional
	LastActivityTimestamp *IdleLastActivityTimestampSpec `json:"lastActivityTimestamp,omitempty"`
}

// TimestampFormat is the encoding of an activity timestamp.
// +kubebuilder:validation:Enum=RFC3339;unix
type TimestampFormat string

const (
	// TimestampFormatRFC3339 is an RFC 3339 string, as JupyterLab reports.
	TimestampFormatRFC3339 TimestampFormat = "RFC3339"
	// TimestampFormatUnix is seconds since the epoch, as a number or string.
	TimestampFormatUnix TimestampFormat = "unix"
)

// IdleLastActivityTimestampSpec locates and parses the activity timestamp in
// the response body of the idle detection endpoint.
type IdleLastActivityTimestampSpec struct {
	// ResponseBodyPath is a dot-separated path into the JSON body, e.g.
	// "last_activity". Defaults to "lastActiveTimestamp".
	// +kubebuilder:validation:MaxLength=256
	// +optional
	ResponseBodyPath string `json:"responseBodyPath,omitempty"`

	// Format of the value. Defaults to RFC3339.
	// +kubebuilder:default=RFC3339
	// +optional
	Format TimestampFormat `json:"format,omitempty"`
}

// WorkspaceSpec is what the tenant asks for. Fields left empty are filled from
// the template by the hub; the result is published in status.effective.
type WorkspaceSpec struct {
	// DisplayName is a human-readable name shown by user interfaces.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Image is the container image of the IDE. It defaults to the template's
	// defaultImage (the organization's default template when templateRef is
	// not set) and must be allowed by the template.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^[^[:space:]]+$')",message="spec.image must be an image reference without whitespace, such as quay.io/jupyter/minimal-notebook:latest"
	// +optional
	Image string `json:"image,omitempty"`

	// DesiredStatus is Running (the default) or Stopped. Stopping keeps storage.
	// +kubebuilder:default=Running
	// +optional
	DesiredStatus DesiredStatus `json:"desiredStatus,omitempty"`

	// OwnershipType says who may modify or delete the workspace: Public (anyone
	// RBAC allows) or OwnerOnly. Defaults to the template's choice.
	// +optional
	OwnershipType OwnershipType `json:"ownershipType,omitempty"`

	// AccessType says who may connect to the workspace: Public (anyone RBAC
	// allows) or OwnerOnly (the owner and those its WorkspaceShares name).
	// Defaults to the template's choice.
	// +optional
	AccessType AccessType `json:"accessType,omitempty"`

	// Resources are the compute resources of the workspace container. The
	// template provides defaults and bounds, including extended resources such
	// as nvidia.com/gpu.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Storage is the workspace's primary persistent volume.
	// +optional
	Storage *StorageSpec `json:"storage,omitempty"`

	// Volumes mounts further existing PersistentVolumeClaims.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="!self.exists(v, v.name == 'workspace-storage')",message="spec.volumes[].name 'workspace-storage' is reserved for the primary storage: choose another name"
	// +listType=map
	// +listMapKey=name
	// +optional
	Volumes []VolumeSpec `json:"volumes,omitempty"`

	// ContainerConfig overrides the image's command and arguments.
	// +optional
	ContainerConfig *ContainerConfig `json:"containerConfig,omitempty"`

	// Env sets environment variables of the workspace container.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Env []EnvVar `json:"env,omitempty"`

	// NodeSelector constrains the nodes of the compute cluster the pod may run on,
	// within the template's allowedNodeLabels.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 317 && self[k].size() <= 63)",message="spec.nodeSelector keys must be at most 317 and values at most 63 characters"
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Affinity constrains the nodes of the compute cluster the pod may run on:
	// node affinity within the template's allowedNodeLabels. Inter-pod affinity
	// and anti-affinity are refused by the hub (they would select other
	// organizations' pods on the shared cluster).
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// Tolerations let the pod run on tainted nodes of the compute cluster; each
	// must be allowed by the template's allowedTolerations.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Tolerations []Toleration `json:"tolerations,omitempty"`

	// Lifecycle sets hooks of the workspace container. Their httpGet and
	// tcpSocket handlers may not name a host: the kubelet would send the
	// request from the node.
	// +kubebuilder:validation:XValidation:rule="!has(self.postStart) || !has(self.postStart.httpGet) || !has(self.postStart.httpGet.host) || self.postStart.httpGet.host == ''",message="lifecycle.postStart.httpGet.host may not be set: the request would come from the shared node; leave it empty to call the workspace itself",fieldPath=".postStart.httpGet.host"
	// +kubebuilder:validation:XValidation:rule="!has(self.preStop) || !has(self.preStop.httpGet) || !has(self.preStop.httpGet.host) || self.preStop.httpGet.host == ''",message="lifecycle.preStop.httpGet.host may not be set: the request would come from the shared node; leave it empty to call the workspace itself",fieldPath=".preStop.httpGet.host"
	// +kubebuilder:validation:XValidation:rule="!has(self.postStart) || !has(self.postStart.tcpSocket) || !has(self.postStart.tcpSocket.host) || self.postStart.tcpSocket.host == ''",message="lifecycle.postStart.tcpSocket.host may not be set: the connection would come from the shared node",fieldPath=".postStart.tcpSocket.host"
	// +kubebuilder:validation:XValidation:rule="!has(self.preStop) || !has(self.preStop.tcpSocket) || !has(self.preStop.tcpSocket.host) || self.preStop.tcpSocket.host == ''",message="lifecycle.preStop.tcpSocket.host may not be set: the connection would come from the shared node",fieldPath=".preStop.tcpSocket.host"
	// +optional
	Lifecycle *corev1.Lifecycle `json:"lifecycle,omitempty"`

	// ReadinessProbe of the workspace container. Its httpGet and tcpSocket may
	// not name a host: the kubelet would probe it from the node.
	// +kubebuilder:validation:XValidation:rule="!has(self.httpGet) || !has(self.httpGet.host) || self.httpGet.host == ''",message="readinessProbe.httpGet.host may not be set: the kubelet would send the request from the shared node; leave it empty to probe the workspace itself",fieldPath=".httpGet.host"
	// +kubebuilder:validation:XValidation:rule="!has(self.tcpSocket) || !has(self.tcpSocket.host) || self.tcpSocket.host == ''",message="readinessProbe.tcpSocket.host may not be set: the kubelet would connect from the shared node",fieldPath=".tcpSocket.host"
	// +optional
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`

	// AccessStrategy names the WorkspaceAccessStrategy that exposes the
	// workspace. Defaults to the template's, else the compute cluster's default.
	// +optional
	AccessStrategy *AccessStrategyRef `json:"accessStrategy,omitempty"`

	// TemplateRef names the WorkspaceTemplate that provides defaults and bounds.
	// It cannot be added, changed or removed after creation.
	// +optional
	TemplateRef *TemplateRef `json:"templateRef,omitempty"`

	// IdleShutdown stops the workspace after it has been idle for a while.
	// +optional
	IdleShutdown *IdleShutdownSpec `json:"idleShutdown,omitempty"`

	// AppType is a free-form application type (e.g. jupyterlab, code-server)
	// for user interfaces.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	AppType string `json:"appType,omitempty"`

	// ServiceAccountName is accepted for compatibility with jupyter-k8s. On
	// Atrium the runtime identity comes from an execution profile: a non-empty
	// value must equal the service account of an execution profile the
	// template allows, and selects that profile.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.serviceAccountName must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// PodSecurityContext is the pod-level security context. Fields left unset
	// come from the template's defaultPodSecurityContext, then from the
	// platform's restricted defaults (runAsNonRoot, seccomp RuntimeDefault).
	// +optional
	PodSecurityContext *PodSecurityContext `json:"podSecurityContext,omitempty"`

	// ContainerSecurityContext is the security context of the workspace
	// container; it takes precedence over podSecurityContext. Fields left unset
	// come from the template's defaultContainerSecurityContext, then from the
	// platform's restricted defaults (allowPrivilegeEscalation false, all
	// capabilities dropped).
	// +optional
	ContainerSecurityContext *SecurityContext `json:"containerSecurityContext,omitempty"`

	// InitContainers run before the workspace container starts, when the
	// template allows custom init containers.
	// +kubebuilder:validation:MaxItems=10
	// +listType=map
	// +listMapKey=name
	// +optional
	InitContainers []InitContainer `json:"initContainers,omitempty"`

	// ExecutionProfile names the WorkspaceExecutionProfile (runtime identity on
	// the compute cluster) to use. It must be allowed by the template. Defaults
	// to the template's default profile.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.executionProfile must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +optional
	ExecutionProfile string `json:"executionProfile,omitempty"`

	// ClusterSelector restricts the compute clusters the workspace may be placed
	// on, by their labels. It narrows, never widens, the template's selector.
	// +optional
	ClusterSelector *metav1.LabelSelector `json:"clusterSelector,omitempty"`
}

// AccessResourceStatus identifies one object rendered from the access strategy.
type AccessResourceStatus struct {
	// Kind of the object.
	Kind string `json:"kind"`
	// APIVersion of the object.
	APIVersion string `json:"apiVersion"`
	// Name of the object.
	Name string `json:"name"`
	// Namespace of the object on the compute cluster; empty when cluster-scoped.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// WorkspacePlacement records where the hub placed a workspace. Only the hub
// writes it.
type WorkspacePlacement struct {
	// Cluster is the name of the ComputeCluster running the workspace.
	Cluster string `json:"cluster"`
	// Shard is the kcp shard holding the workspace's logical cluster; the agent
	// of Cluster that serves this shard materializes it.
	// +optional
	Shard string `json:"shard,omitempty"`
	// Region of Cluster when the workspace was placed (the ComputeCluster's
	// spec.region, else its region label), so tenants, who cannot read
	// ComputeClusters, see where their workspace runs.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Region string `json:"region,omitempty"`
	// LocalNamespace is the namespace on the compute cluster that holds the
	// workspace's mirror and resources.
	// +optional
	LocalNamespace string `json:"localNamespace,omitempty"`
	// Time is when the placement was decided.
	// +optional
	Time metav1.Time `json:"time,omitempty"`
}

// WorkspaceOwner is the user the workspace belongs to, recorded by the hub.
type WorkspaceOwner struct {
	// Username as authenticated by kcp.
	Username string `json:"username"`
	// Groups of the user when the workspace was created.
	// +listType=atomic
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// WorkspaceAccess is who may connect to a workspace, as resolved by the hub
// from its accessType, owner and WorkspaceShares. The agent copies it into the
// mirror, where access resource templates see it (for example as the
// allow-list of an authenticating proxy).
type WorkspaceAccess struct {
	// AllowedUsers may connect: the owner, then the users of the workspace's
	// shares, sorted and without duplicates.
	// +listType=atomic
	// +optional
	AllowedUsers []string `json:"allowedUsers,omitempty"`
	// AllowedGroups may connect: the groups of the workspace's shares, sorted
	// and without duplicates.
	// +listType=atomic
	// +optional
	AllowedGroups []string `json:"allowedGroups,omitempty"`
}

// EffectiveStorage is the resolved primary storage.
type EffectiveStorage struct {
	// Size of the volume.
	Size resource.Quantity `json:"size"`
	// StorageClassName of the volume; empty means the compute cluster's default.
	// +optional
	StorageClassName string `json:"storageClassName,omitempty"`
	// MountPath in the workspace container.
	MountPath string `json:"mountPath"`
}

// EffectiveWorkspaceSpec is the runtime spec the hub resolves from the
// workspace, its template and its execution profile. The agent materializes
// this and the workspace spec, and never reads templates or profiles itself,
// so what runs is exactly what the hub validated.
type EffectiveWorkspaceSpec struct {
	// Template is the name of the template the values came from; templates are
	// immutable, so the name pins them. A workspace without spec.templateRef is
	// resolved with its organization's default template the first time it is
	// valid, and stays with that template (see TemplateName) when an admin
	// moves the default label.
	// +optional
	Template string `json:"template,omitempty"`
	// Image to run.
	Image string `json:"image"`
	// Resources of the workspace container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// Storage is the primary volume.
	// +optional
	Storage *EffectiveStorage `json:"storage,omitempty"`
	// AccessStrategy names the WorkspaceAccessStrategy on the compute cluster.
	// +optional
	AccessStrategy string `json:"accessStrategy,omitempty"`
	// OwnershipType after defaulting.
	// +optional
	OwnershipType OwnershipType `json:"ownershipType,omitempty"`
	// AccessType after defaulting.
	// +optional
	AccessType AccessType `json:"accessType,omitempty"`
	// IdleShutdownEnabled says whether idle shutdown applies.
	// +optional
	IdleShutdownEnabled bool `json:"idleShutdownEnabled,omitempty"`
	// IdleTimeoutInMinutes after defaulting and capping; only meaningful when
	// idleShutdownEnabled is true.
	// +optional
	IdleTimeoutInMinutes int32 `json:"idleTimeoutInMinutes,omitempty"`
	// MaxLifetimeInMinutes is how long the workspace may run before it is
	// stopped; 0 means unlimited.
	// +optional
	MaxLifetimeInMinutes int32 `json:"maxLifetimeInMinutes,omitempty"`
	// ExecutionProfile is the name of the resolved execution profile.
	// +optional
	ExecutionProfile string `json:"executionProfile,omitempty"`
	// ServiceAccountName on the compute cluster, from the execution profile.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// PodAnnotations from the execution profile.
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`
	// PodLabels from the execution profile.
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// The fields below complete the runtime spec: the agent builds the pod from status.effective
	// alone (internal/podspec), never from spec, so an edit the hub refused (Valid=False)
	// changes nothing that runs.

	// Generation is the workspace's metadata.generation this effective spec was resolved
	// from and found valid at. The hub rewrites status.effective only for a valid generation.
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// DisplayName of the workspace, for access resources and user interfaces.
	// +optional
	DisplayName string `json:"displayName,omitempty"`
	// AppType of the workspace (jupyterlab, code-server, ...); it chooses the default port.
	// +optional
	AppType string `json:"appType,omitempty"`
	// Command replaces the image's ENTRYPOINT.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Command []string `json:"command,omitempty"`
	// Args replaces the image's CMD.
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	// +optional
	Args []string `json:"args,omitempty"`
	// Env of the workspace container, after the platform's reserved names were refused.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Env []EnvVar `json:"env,omitempty"`
	// Volumes are the secondary volumes the template allows.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Volumes []VolumeSpec `json:"volumes,omitempty"`
	// NodeSelector of the pod, as the template allows.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity of the pod, as the template allows.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations of the pod, as the template allows.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Lifecycle hooks of the workspace container (no host, no TCP socket to another host).
	// +optional
	Lifecycle *corev1.Lifecycle `json:"lifecycle,omitempty"`
	// ReadinessProbe of the workspace container (no host).
	// +optional
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`
	// IdleDetection is how the agent reads the workspace's last activity.
	// +optional
	IdleDetection *IdleDetectionSpec `json:"idleDetection,omitempty"`
	// PodSecurityContext is the resolved pod security context: the tenant's, over the
	// template's defaults, over the platform's restricted defaults.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
	// ContainerSecurityContext is the resolved security context of the workspace container
	// (and of init containers that set none), resolved like podSecurityContext.
	// +optional
	ContainerSecurityContext *corev1.SecurityContext `json:"containerSecurityContext,omitempty"`
	// InitContainers the template allows, with images, resources and security contexts
	// checked and resolved.
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
	// AutomountServiceAccountToken mounts a token of ServiceAccountName into the pod; only an
	// execution profile turns it on.
	// +optional
	AutomountServiceAccountToken bool `json:"automountServiceAccountToken,omitempty"`
	// PodSecurityLevel is the Pod Security Standard the pod was checked against (the
	// template's level); it is placed only on compute clusters that enforce this level or a
	// more permissive one.
	// +optional
	PodSecurityLevel PodSecurityLevel `json:"podSecurityLevel,omitempty"`
}

// WorkspaceStatus is what the hub and the placed agent observed.
type WorkspaceStatus struct {
	// Phase summarizes the lifecycle for humans; decide on conditions instead.
	// +optional
	Phase WorkspacePhase `json:"phase,omitempty"`

	// Message explains the phase in one sentence.
	// +optional
	Message string `json:"message,omitempty"`

	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// DeploymentName is the name of the Deployment on the compute cluster.
	// +optional
	DeploymentName string `json:"deploymentName,omitempty"`

	// ServiceName is the name of the Service on the compute cluster.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`

	// AccessURL is where the tenant opens the workspace.
	// +optional
	AccessURL string `json:"accessURL,omitempty"`

	// ApplicationBasePath is the routing prefix the application is served under.
	// +optional
	ApplicationBasePath string `json:"applicationBasePath,omitempty"`

	// AccessResourceSelector is a label selector, in string form, matching the
	// access resources on the compute cluster.
	// +optional
	AccessResourceSelector string `json:"accessResourceSelector,omitempty"`

	// AccessResources lists the objects rendered from the access strategy.
	// +listType=atomic
	// +optional
	AccessResources []AccessResourceStatus `json:"accessResources,omitempty"`

	// Conditions: Valid, Scheduled, Available, Progressing, Degraded, Stopped
	// and ClusterReachable. See conditions.go for types and reasons.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Placement says which compute cluster runs the workspace. Hub-written.
	// +optional
	Placement *WorkspacePlacement `json:"placement,omitempty"`

	// Owner is the user the workspace belongs to. Hub-written.
	// +optional
	Owner *WorkspaceOwner `json:"owner,omitempty"`

	// Access lists who may connect when the effective accessType is OwnerOnly;
	// absent with Public. Hub-written.
	// +optional
	Access *WorkspaceAccess `json:"access,omitempty"`

	// Effective is the resolved runtime spec. Hub-written.
	// +optional
	Effective *EffectiveWorkspaceSpec `json:"effective,omitempty"`

	// LastActivity is the last time the workspace was seen in use, as read by the
	// agent from the idle detection endpoint.
	// +optional
	LastActivity *metav1.Time `json:"lastActivity,omitempty"`
}

// Workspace is an IDE workspace (JupyterLab, VS Code server, ...) of a tenant.
// The hub validates and places it on a compute cluster; the agent of that
// cluster runs it and reports back.
//
// Its name becomes the name of a Service on the compute cluster, so it must be
// a DNS-1123 label.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName={aws,atriumws},categories={atrium}
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.accessURL`
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.status.placement.cluster`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.status.owner.username`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="metadata.name must be at most 63 characters, because it names the workspace's Service on the compute cluster"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1123 label (lower case letters, digits and '-', no '.'), because it names the workspace's Service on the compute cluster"
type Workspace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the tenant asks for.
	// +kubebuilder:validation:XValidation:rule="has(self.templateRef) == has(oldSelf.templateRef) && (!has(self.templateRef) || self.templateRef.name == oldSelf.templateRef.name)",message="spec.templateRef is immutable: delete and recreate the workspace to use another template",fieldPath=".templateRef"
	// +required
	Spec WorkspaceSpec `json:"spec"`

	// Status is what the hub and the agent observed.
	// +optional
	Status WorkspaceStatus `json:"status,omitempty"`
}

// WorkspaceList is a list of Workspaces.
// +kubebuilder:object:root=true
type WorkspaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workspace `json:"items"`
}
