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

// NodeLabelRule allows selecting nodes on one label key.
type NodeLabelRule struct {
	// Key of the node label, e.g. topology.kubernetes.io/zone or atrium.dev/gpu-type.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +required
	Key string `json:"key"`
	// Values the workspace may ask for; empty allows any value of the key.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	// +optional
	Values []string `json:"values,omitempty"`
}

// ResourceRange bounds one resource of the workspace container. Both ends are
// inclusive and optional.
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || quantity(string(self.max)).compareTo(quantity(string(self.min))) >= 0",message="resourceBounds: max must not be smaller than min"
type ResourceRange struct {
	// Min is the smallest request allowed.
	// +optional
	Min *resource.Quantity `json:"min,omitempty"`
	// Max is the largest limit (and request) allowed.
	// +optional
	Max *resource.Quantity `json:"max,omitempty"`
}

// ResourceBounds bounds the compute resources a workspace may ask for.
type ResourceBounds struct {
	// Resources maps a resource name (cpu, memory, nvidia.com/gpu, ...) to its
	// range. cpu, memory and ephemeral-storage not listed are not bounded; any
	// other resource (extended resources such as nvidia.com/gpu, hugepages-*)
	// may be asked for only when it is listed here. At most 6 are listed (cpu,
	// memory, ephemeral-storage and three extended resources), which keeps the
	// estimated CEL cost of comparing quantities within the API server's
	// budget, with headroom for kcp's older estimator.
	// +kubebuilder:validation:MaxProperties=6
	// +optional
	Resources map[corev1.ResourceName]ResourceRange `json:"resources,omitempty"`
}

// StorageConfig is the template's policy for the primary storage.
// +kubebuilder:validation:XValidation:rule="!has(self.minSize) || !has(self.maxSize) || quantity(string(self.maxSize)).compareTo(quantity(string(self.minSize))) >= 0",message="spec.primaryStorage.maxSize must not be smaller than minSize"
// +kubebuilder:validation:XValidation:rule="!has(self.defaultSize) || !has(self.maxSize) || quantity(string(self.maxSize)).compareTo(quantity(string(self.defaultSize))) >= 0",message="spec.primaryStorage.defaultSize must not be larger than maxSize"
// +kubebuilder:validation:XValidation:rule="!has(self.defaultSize) || !has(self.minSize) || quantity(string(self.defaultSize)).compareTo(quantity(string(self.minSize))) >= 0",message="spec.primaryStorage.defaultSize must not be smaller than minSize"
type StorageConfig struct {
	// DefaultSize is the volume size for workspaces that do not ask for one.
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",message="spec.primaryStorage.defaultSize must be a positive quantity such as 10Gi"
	// +optional
	DefaultSize *resource.Quantity `json:"defaultSize,omitempty"`
	// MinSize is the smallest volume a workspace may ask for.
	// +optional
	MinSize *resource.Quantity `json:"minSize,omitempty"`
	// MaxSize is the largest volume a workspace may ask for.
	// +optional
	MaxSize *resource.Quantity `json:"maxSize,omitempty"`
	// StorageClassName is the storage class for workspaces that do not name one.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StorageClassName string `json:"storageClassName,omitempty"`
	// DefaultMountPath is the mount path for workspaces that do not name one.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="spec.primaryStorage.defaultMountPath must be an absolute path such as /home/jovyan"
	// +optional
	DefaultMountPath string `json:"defaultMountPath,omitempty"`
}

// IdleShutdownPolicy is the template's policy for idle shutdown.
// +kubebuilder:validation:XValidation:rule="!has(self.defaultTimeoutInMinutes) || !has(self.maxTimeoutInMinutes) || self.defaultTimeoutInMinutes <= self.maxTimeoutInMinutes",message="spec.idleShutdown.defaultTimeoutInMinutes must not be larger than maxTimeoutInMinutes"
type IdleShutdownPolicy struct {
	// Enabled turns idle shutdown on for workspaces that do not say otherwise.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// DefaultTimeoutInMinutes applies to workspaces that do not set one.
	// +kubebuilder:validation:Minimum=1
	// +optional
	DefaultTimeoutInMinutes int32 `json:"defaultTimeoutInMinutes,omitempty"`
	// MaxTimeoutInMinutes caps the timeout a workspace may ask for.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxTimeoutInMinutes int32 `json:"maxTimeoutInMinutes,omitempty"`
	// AllowOverride lets workspaces set their own idleShutdown (within the
	// maximum), including turning it off. Defaults to true.
	// +optional
	AllowOverride *bool `json:"allowOverride,omitempty"`
}

// WorkspaceTemplateSpec is an organization's policy and defaults for workspaces.
type WorkspaceTemplateSpec struct {
	// DisplayName is a human-readable name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Description says what the template is for.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Description string `json:"description,omitempty"`

	// DefaultImage is used by workspaces that do not name an image, and is
	// always allowed.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^[:space:]]+$')",message="spec.defaultImage must be an image reference without whitespace"
	// +required
	DefaultImage string `json:"defaultImage"`

	// AllowedImages are further images workspaces (and their init containers)
	// may use. An entry ending in '*' is a wildcard that matches on reference
	// boundaries: "quay.io/jupyter/*" allows every image under quay.io/jupyter/
	// but not quay.io/jupyterx/...; "quay.io/jupyter/base-notebook*" allows
	// every tag and digest of that repository (":..." or "@...") but not
	// quay.io/jupyter/base-notebook-evil; "*" alone allows every image.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.all(i, i.matches('^[^*[:space:]]*[*]?$') && i != '')",message="spec.allowedImages entries must be non-empty, without whitespace, and may contain '*' only as the last character"
	// +listType=set
	// +optional
	AllowedImages []string `json:"allowedImages,omitempty"`

	// DefaultResources are the resources of workspaces that do not set them.
	// +optional
	DefaultResources *corev1.ResourceRequirements `json:"defaultResources,omitempty"`

	// ResourceBounds bounds the resources workspaces may ask for.
	// +optional
	ResourceBounds *ResourceBounds `json:"resourceBounds,omitempty"`

	// PrimaryStorage is the policy for the workspaces' primary volume.
	// +optional
	PrimaryStorage *StorageConfig `json:"primaryStorage,omitempty"`

	// DefaultAccessStrategy is used by workspaces that do not name one.
	// +optional
	DefaultAccessStrategy *AccessStrategyRef `json:"defaultAccessStrategy,omitempty"`

	// AllowedAccessStrategies are the access strategies workspaces may name;
	// empty allows only the default one.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	AllowedAccessStrategies []string `json:"allowedAccessStrategies,omitempty"`

	// IdleShutdown is the idle shutdown policy.
	// +optional
	IdleShutdown *IdleShutdownPolicy `json:"idleShutdown,omitempty"`

	// MaxLifetimeInMinutes stops a workspace that has been running this long,
	// however active. Unset means unlimited.
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="spec.maxLifetimeInMinutes must be at least 1; leave it unset for no limit"
	// +optional
	MaxLifetimeInMinutes *int32 `json:"maxLifetimeInMinutes,omitempty"`

	// MaxRunningWorkspacesPerUser caps how many workspaces of this template one
	// owner may run at a time. Unset means unlimited.
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="spec.maxRunningWorkspacesPerUser must be at least 1; leave it unset for no limit"
	// +optional
	MaxRunningWorkspacesPerUser *int32 `json:"maxRunningWorkspacesPerUser,omitempty"`

	// DefaultExecutionProfile is used by workspaces that do not name one. It is
	// always allowed.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	DefaultExecutionProfile string `json:"defaultExecutionProfile,omitempty"`

	// AllowedExecutionProfiles are the further WorkspaceExecutionProfiles
	// workspaces may name.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	AllowedExecutionProfiles []string `json:"allowedExecutionProfiles,omitempty"`

	// ClusterSelector restricts the compute clusters workspaces of this template
	// may be placed on.
	// +optional
	ClusterSelector *metav1.LabelSelector `json:"clusterSelector,omitempty"`

	// DefaultOwnershipType applies to workspaces that do not set ownershipType.
	// +optional
	DefaultOwnershipType OwnershipType `json:"defaultOwnershipType,omitempty"`

	// DefaultAccessType applies to workspaces that do not set accessType.
	// +optional
	DefaultAccessType AccessType `json:"defaultAccessType,omitempty"`

	// PodSecurityLevel is the Pod Security Standard every workspace of the template must
	// meet: restricted (the default) or baseline. A baseline workspace is placed only on
	// compute clusters that enforce baseline.
	// +optional
	PodSecurityLevel PodSecurityLevel `json:"podSecurityLevel,omitempty"`

	// DefaultPodSecurityContext fills the pod security context fields a workspace leaves
	// unset, before the platform's restricted defaults (runAsNonRoot: true, seccompProfile
	// RuntimeDefault). What no tenant may ask for is refused here too.
	// +optional
	DefaultPodSecurityContext *PodSecurityContext `json:"defaultPodSecurityContext,omitempty"`

	// DefaultContainerSecurityContext fills the container security context fields a
	// workspace (or an init container) leaves unset, before the platform's restricted
	// defaults (allowPrivilegeEscalation: false, capabilities.drop [ALL]).
	// +optional
	DefaultContainerSecurityContext *SecurityContext `json:"defaultContainerSecurityContext,omitempty"`

	// AllowCustomInitContainers lets workspaces bring init containers. Their images must be
	// allowed (defaultImage or allowedImages), their resources are bounded by
	// resourceBounds and counted in placement. Defaults to false.
	// +optional
	AllowCustomInitContainers bool `json:"allowCustomInitContainers,omitempty"`

	// AllowedTolerations are the tolerations workspaces may carry: a workspace toleration
	// must equal one of them, where an empty operator, value or effect here matches any.
	// Empty allows none. The taints Kubernetes itself reserves (node-role.kubernetes.io/*,
	// such as the control plane's, and node.kubernetes.io/*, such as unschedulable or
	// not-ready nodes) belong to the compute cluster's operators and cannot be allowed.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(t, !has(t.key) || (!t.key.startsWith('node-role.kubernetes.io/') && !t.key.startsWith('node.kubernetes.io/') && !t.key.startsWith('node.cloudprovider.kubernetes.io/')))",message="spec.allowedTolerations may not name taints under node-role.kubernetes.io/, node.kubernetes.io/ or node.cloudprovider.kubernetes.io/: they keep workspaces off control-plane, cordoned and failing nodes of the shared compute cluster"
	// +listType=atomic
	// +optional
	AllowedTolerations []Toleration `json:"allowedTolerations,omitempty"`

	// AllowedNodeLabels are the node labels workspaces may select on, in nodeSelector and in
	// required or preferred node affinity (operators In and NotIn over the listed values,
	// Exists and DoesNotExist on the listed keys). Empty allows no node selection.
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=key
	// +optional
	AllowedNodeLabels []NodeLabelRule `json:"allowedNodeLabels,omitempty"`

	// AllowedVolumeClaims are the PersistentVolumeClaims of the workspace's namespace on the
	// compute cluster that workspaces may mount as secondary volumes (spec.volumes). An entry
	// ending in '*' allows every claim starting with the rest. A workspace's home volume
	// (the claim <workspace name>-home) is never allowed, whatever the entries say. Empty
	// allows no secondary volume.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.matches('^[a-z0-9.*-]+$') && (c.indexOf('*') == -1 || c.indexOf('*') == c.size() - 1))",message="spec.allowedVolumeClaims entries must be claim names (lower case letters, digits, '-' and '.') and may contain '*' only as the last character"
	// +listType=set
	// +optional
	AllowedVolumeClaims []string `json:"allowedVolumeClaims,omitempty"`
}

// WorkspaceTemplateStatus is observed by the hub.
type WorkspaceTemplateStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// WorkspaceCount is how many workspaces use the template.
	// +optional
	WorkspaceCount int32 `json:"workspaceCount,omitempty"`
	// Conditions of the template.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WorkspaceTemplate holds an organization's defaults and bounds for
// workspaces. Its spec is immutable, so a running workspace never changes
// under its owner's feet: publish a new template instead.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName={awt},categories={atrium}
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.defaultImage`
// +kubebuilder:printcolumn:name="Workspaces",type=integer,JSONPath=`.status.workspaceCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WorkspaceTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="WorkspaceTemplate spec is immutable: create a new template instead and point new workspaces at it"
	// +required
	Spec WorkspaceTemplateSpec `json:"spec"`

	// +optional
	Status WorkspaceTemplateStatus `json:"status,omitempty"`
}

// WorkspaceTemplateList is a list of WorkspaceTemplates.
// +kubebuilder:object:root=true
type WorkspaceTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkspaceTemplate `json:"items"`
}
