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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccessResourceTemplate renders one object that exposes a workspace (a route,
// an ingress, a middleware, ...). The agent forces the rendered object's name,
// namespace, labels and owner, so tenant data can never redirect it.
type AccessResourceTemplate struct {
	// Kind of the rendered object; a rendered object of another kind is refused.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`

	// APIVersion of the rendered object; a rendered object of another
	// apiVersion is refused.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	APIVersion string `json:"apiVersion"`

	// NamePrefix of the rendered object; its name is {namePrefix}-{workspace}.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="accessResourceTemplates[].namePrefix must be a DNS-1123 label: lower case letters, digits and '-'"
	// +required
	NamePrefix string `json:"namePrefix"`

	// Template is a Go text/template that renders exactly ONE object as YAML.
	// It sees .Workspace, .AccessStrategy and .Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	// +required
	Template string `json:"template"`
}

// AccessHTTPGetProbe is the HTTP GET of the access startup probe.
type AccessHTTPGetProbe struct {
	// URLTemplate is a Go text/template resolving to the URL to probe. It sees
	// .Workspace, .AccessStrategy and .Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	URLTemplate string `json:"urlTemplate"`

	// AdditionalSuccessStatusCodes are accepted besides 200-399, e.g. 401 when an
	// auth proxy answers unauthenticated requests.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Minimum=100
	// +kubebuilder:validation:items:Maximum=599
	// +listType=set
	// +optional
	AdditionalSuccessStatusCodes []int32 `json:"additionalSuccessStatusCodes,omitempty"`
}

// AccessStartupProbe gates Available on the access URL answering, once, after
// the access resources are created. Like a corev1 startup probe, it is not
// checked again once it passed.
type AccessStartupProbe struct {
	// HTTPGet is the request to make.
	// +required
	HTTPGet AccessHTTPGetProbe `json:"httpGet"`

	// InitialDelaySeconds to wait after the access resources exist.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=0
	// +optional
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`

	// PeriodSeconds between attempts.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=2
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`

	// TimeoutSeconds of one attempt.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`

	// FailureThreshold is how many consecutive failures mark the workspace
	// Degraded with reason AccessProbeFailed.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=30
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// WorkspaceAccessStrategySpec says how workspaces are exposed.
type WorkspaceAccessStrategySpec struct {
	// DisplayName is a human-readable name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// AccessResourceTemplates render the objects that expose a workspace.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	AccessResourceTemplates []AccessResourceTemplate `json:"accessResourceTemplates,omitempty"`

	// AccessURLTemplate is a Go text/template resolving to the URL tenants open.
	// It sees .Workspace, .AccessStrategy and .Service.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	AccessURLTemplate string `json:"accessURLTemplate,omitempty"`

	// ApplicationBasePathTemplate is a Go text/template resolving to the path
	// prefix the application is served under; idle detection prepends it to
	// its path. Defaults to "/".
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	ApplicationBasePathTemplate string `json:"applicationBasePathTemplate,omitempty"`

	// AccessStartupProbe gates Available on the access URL answering. Without
	// it, a workspace is Available as soon as its pods are ready and its access
	// resources exist.
	// +optional
	AccessStartupProbe *AccessStartupProbe `json:"accessStartupProbe,omitempty"`
}

// WorkspaceAccessStrategyStatus is observed by the agent.
type WorkspaceAccessStrategyStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions, e.g. whether the templates parse.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WorkspaceAccessStrategy says how workspaces on this compute cluster are
// exposed: which objects to render next to the workspace's Service, which URL
// tenants open, and how to tell the URL works. Installed by the platform team;
// the agent reports the strategies its cluster offers to the hub.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName={awas},categories={atrium}
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WorkspaceAccessStrategy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec WorkspaceAccessStrategySpec `json:"spec"`

	// +optional
	Status WorkspaceAccessStrategyStatus `json:"status,omitempty"`
}

// WorkspaceAccessStrategyList is a list of WorkspaceAccessStrategies.
// +kubebuilder:object:root=true
type WorkspaceAccessStrategyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkspaceAccessStrategy `json:"items"`
}
