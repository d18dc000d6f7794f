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
	"k8s.io/apimachinery/pkg/types"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Origin identifies the hub Workspace a LocalWorkspace mirrors.
type Origin struct {
	// LogicalCluster is the kcp logical cluster of the hub workspace.
	// +kubebuilder:validation:MinLength=1
	// +required
	LogicalCluster string `json:"logicalCluster"`
	// Namespace of the hub workspace.
	// +kubebuilder:validation:MinLength=1
	// +required
	Namespace string `json:"namespace"`
	// Name of the hub workspace.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`
	// UID of the hub workspace, so a recreated workspace of the same name is
	// never mistaken for the old one.
	// +required
	UID types.UID `json:"uid"`
	// Shard is the kcp shard serving the logical cluster.
	// +optional
	Shard string `json:"shard,omitempty"`
}

// LocalWorkspaceSpec is the desired state copied from the hub by the agent: what the hub
// validated (effective), never the tenant's spec as written.
type LocalWorkspaceSpec struct {
	// Origin identifies the hub workspace; it never changes.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.origin is immutable: a LocalWorkspace mirrors one hub workspace for its whole life"
	// +required
	Origin Origin `json:"origin"`

	// DesiredStatus is the hub workspace's current spec.desiredStatus (Running when unset).
	// It is the only field taken from the tenant's spec rather than from status.effective:
	// stopping is always allowed, and starting runs the last generation the hub validated.
	// +optional
	DesiredStatus workspacesv1alpha1.DesiredStatus `json:"desiredStatus,omitempty"`

	// Effective is the hub's resolved runtime spec (the hub workspace's status.effective):
	// everything the workspace's pod, storage and access are built from. The agent writes a
	// mirror only once the hub has resolved one, and materializes nothing else.
	// +required
	Effective workspacesv1alpha1.EffectiveWorkspaceSpec `json:"effective"`

	// Owner of the hub workspace.
	// +optional
	Owner *workspacesv1alpha1.WorkspaceOwner `json:"owner,omitempty"`

	// AllowedUsers may connect: the owner when accessType is OwnerOnly, plus the
	// users of the workspace's shares. Empty with accessType Public.
	// +listType=set
	// +optional
	AllowedUsers []string `json:"allowedUsers,omitempty"`

	// AllowedGroups may connect, from the workspace's shares.
	// +listType=set
	// +optional
	AllowedGroups []string `json:"allowedGroups,omitempty"`
}

// LocalWorkspaceStatus is observed by the agent's local controller and copied
// to the hub workspace's status by the syncer.
type LocalWorkspaceStatus struct {
	// Phase summarizes the lifecycle.
	// +optional
	Phase workspacesv1alpha1.WorkspacePhase `json:"phase,omitempty"`
	// Message explains the phase.
	// +optional
	Message string `json:"message,omitempty"`
	// ObservedGeneration is the LocalWorkspace generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions use the hub workspace's condition types and reasons.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// DeploymentName of the workspace's Deployment.
	// +optional
	DeploymentName string `json:"deploymentName,omitempty"`
	// ServiceName of the workspace's Service.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// AccessURL is where the tenant opens the workspace.
	// +optional
	AccessURL string `json:"accessURL,omitempty"`
	// ApplicationBasePath is the resolved routing prefix.
	// +optional
	ApplicationBasePath string `json:"applicationBasePath,omitempty"`
	// AccessResourceSelector selects the rendered access resources.
	// +optional
	AccessResourceSelector string `json:"accessResourceSelector,omitempty"`
	// AccessResources lists the rendered access resources.
	// +listType=atomic
	// +optional
	AccessResources []workspacesv1alpha1.AccessResourceStatus `json:"accessResources,omitempty"`
	// LastActivity read from the idle detection endpoint.
	// +optional
	LastActivity *metav1.Time `json:"lastActivity,omitempty"`
}

// LocalWorkspace is the compute cluster's mirror of a hub Workspace placed
// here. The agent writes its spec from the hub; the local controller turns it
// into a PVC, Deployment, Service and access resources, all owned by it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName={lws},categories={atrium}
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Logical Cluster",type=string,JSONPath=`.spec.origin.logicalCluster`
// +kubebuilder:printcolumn:name="Workspace",type=string,JSONPath=`.spec.origin.name`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.accessURL`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LocalWorkspace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec LocalWorkspaceSpec `json:"spec"`

	// +optional
	Status LocalWorkspaceStatus `json:"status,omitempty"`
}

// LocalWorkspaceList is a list of LocalWorkspaces.
// +kubebuilder:object:root=true
type LocalWorkspaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LocalWorkspace `json:"items"`
}
