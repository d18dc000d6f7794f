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

// Defaults of an organization's quota: what `atrium org create` writes, and what the hub applies
// to an organization that has no OrganizationQuota (the hub's --org-max-workspaces and
// --org-max-workspace-shares change the latter).
const (
	// DefaultMaxWorkspaces is how many Workspaces an organization may have.
	DefaultMaxWorkspaces int32 = 100
	// DefaultMaxWorkspaceShares is how many WorkspaceShares an organization may have.
	DefaultMaxWorkspaceShares int32 = 500
)

// OrganizationQuotaSpec bounds what one organization may ask of the platform, so a flood from
// one tenant cannot starve the others.
type OrganizationQuotaSpec struct {
	// LogicalCluster is the kcp logical cluster of the organization (its stable identity, which
	// the hub sees workspaces by), as `atrium org list` shows it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.logicalCluster is immutable: it identifies the organization"
	// +required
	LogicalCluster string `json:"logicalCluster"`

	// MaxWorkspaces is how many Workspaces the organization may have, in all its namespaces,
	// running or stopped. The hub admits the oldest (and every workspace admitted before)
	// and answers the others with Valid=False, reason OrganizationLimitReached; nothing of
	// those reaches a compute cluster. Unset means the hub's default (100 unless its
	// --org-max-workspaces says otherwise).
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxWorkspaces *int32 `json:"maxWorkspaces,omitempty"`

	// MaxWorkspaceShares is how many WorkspaceShares the organization may have. Shares beyond
	// it grant nothing and say so in their Accepted condition. Unset means the hub's default
	// (500 unless its --org-max-workspace-shares says otherwise).
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxWorkspaceShares *int32 `json:"maxWorkspaceShares,omitempty"`
}

// OrganizationQuota is the platform's limit on one organization, kept in the provider workspace
// root:atrium where organization admins have no rights: they can neither see nor raise it. It is
// named after the organization. `atrium org create` creates one with the defaults above;
// `atrium org limits` changes it.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName={aoq},categories={atrium}
// +kubebuilder:printcolumn:name="Logical Cluster",type=string,JSONPath=`.spec.logicalCluster`
// +kubebuilder:printcolumn:name="Max Workspaces",type=integer,JSONPath=`.spec.maxWorkspaces`
// +kubebuilder:printcolumn:name="Max Shares",type=integer,JSONPath=`.spec.maxWorkspaceShares`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OrganizationQuota struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec OrganizationQuotaSpec `json:"spec"`
}

// OrganizationQuotaList is a list of OrganizationQuotas.
// +kubebuilder:object:root=true
type OrganizationQuotaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OrganizationQuota `json:"items"`
}

// Limits returns the quota's limits, the given defaults where it sets none. A nil quota has the
// defaults.
func (q *OrganizationQuota) Limits(defaultWorkspaces, defaultShares int32) (workspaces, shares int32) {
	workspaces, shares = defaultWorkspaces, defaultShares
	if q == nil {
		return workspaces, shares
	}
	if q.Spec.MaxWorkspaces != nil {
		workspaces = *q.Spec.MaxWorkspaces
	}
	if q.Spec.MaxWorkspaceShares != nil {
		shares = *q.Spec.MaxWorkspaceShares
	}
	return workspaces, shares
}
