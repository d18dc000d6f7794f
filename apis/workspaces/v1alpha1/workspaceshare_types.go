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

// WorkspaceShareSpec names a workspace and who may connect to it.
// +kubebuilder:validation:XValidation:rule="(has(self.users) && self.users.size() > 0) || (has(self.groups) && self.groups.size() > 0)",message="a WorkspaceShare must name at least one user in spec.users or one group in spec.groups"
type WorkspaceShareSpec struct {
	// WorkspaceName is the Workspace, in the same namespace, being shared. It
	// cannot change: create another share instead.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.workspaceName is immutable: create another WorkspaceShare to share another workspace"
	// +required
	WorkspaceName string `json:"workspaceName"`

	// Users who may connect, by username as kcp authenticates them. System identities
	// (system:anonymous, system:serviceaccount:..., any system:*) are refused: a share lets
	// people in.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:XValidation:rule="self.all(u, !u.startsWith('system:'))",message="spec.users may not name system identities (system:anonymous, system:serviceaccount:..., system:*): a share lets people in, by their username"
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`

	// Groups whose members may connect. System groups (system:authenticated,
	// system:unauthenticated, any system:*) are refused: they would let in everyone kcp
	// authenticates, or no one in particular.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('system:'))",message="spec.groups may not name system groups such as system:authenticated (everyone the hub authenticates): name the teams that may connect"
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +listType=set
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// WorkspaceShareStatus is observed by the hub.
type WorkspaceShareStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions of the share.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WorkspaceShare grants users or groups access to a workspace whose accessType
// is OwnerOnly. It grants connecting, not modifying. Only the workspace's owner or
// an organization admin shares it: the hub counts a share when its recorded
// creator is one of them, and its Granted condition says why when it does not.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName={awshare},categories={atrium}
// +kubebuilder:printcolumn:name="Workspace",type=string,JSONPath=`.spec.workspaceName`
// +kubebuilder:printcolumn:name="Granted",type=string,JSONPath=`.status.conditions[?(@.type=="Granted")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Granted")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WorkspaceShare struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec WorkspaceShareSpec `json:"spec"`

	// +optional
	Status WorkspaceShareStatus `json:"status,omitempty"`
}

// WorkspaceShareList is a list of WorkspaceShares.
// +kubebuilder:object:root=true
type WorkspaceShareList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkspaceShare `json:"items"`
}
