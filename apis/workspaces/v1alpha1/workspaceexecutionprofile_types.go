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

// WorkspaceExecutionProfileSpec is a runtime identity on the compute cluster.
type WorkspaceExecutionProfileSpec struct {
	// Description says what the identity may do.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Description string `json:"description,omitempty"`

	// ServiceAccountName is the service account the workspace pod runs as, in
	// the workspace's local namespace on the compute cluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.serviceAccountName must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
	// +required
	ServiceAccountName string `json:"serviceAccountName"`

	// PodAnnotations are added to the workspace pod, e.g. for a cloud workload
	// identity. Keys under atrium.dev are reserved.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.contains('atrium.dev/'))",message="spec.podAnnotations keys under atrium.dev/ are reserved for Atrium: choose another prefix"
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// AutomountServiceAccountToken mounts a token of ServiceAccountName into the
	// workspace pod, so the IDE can call the compute cluster's API server (or a
	// cloud API through workload identity). Defaults to false: workspace pods
	// get no service-account token unless a profile asks for one.
	// +optional
	AutomountServiceAccountToken bool `json:"automountServiceAccountToken,omitempty"`

	// PodLabels are added to the workspace pod. Keys under atrium.dev are
	// reserved.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.contains('atrium.dev/'))",message="spec.podLabels keys under atrium.dev/ are reserved for Atrium: choose another prefix"
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`
}

// WorkspaceExecutionProfile is a runtime identity (service account, pod
// annotations and labels) workspaces may run with on the compute cluster,
// when a template allows it. Tenants pick a profile by name and never write
// service accounts or annotations of the compute cluster themselves.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName={awep},categories={atrium}
// +kubebuilder:printcolumn:name="Service Account",type=string,JSONPath=`.spec.serviceAccountName`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WorkspaceExecutionProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec WorkspaceExecutionProfileSpec `json:"spec"`
}

// WorkspaceExecutionProfileList is a list of WorkspaceExecutionProfiles.
// +kubebuilder:object:root=true
type WorkspaceExecutionProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkspaceExecutionProfile `json:"items"`
}
