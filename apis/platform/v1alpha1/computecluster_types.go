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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EvictionMode says what happens to workspaces of a cluster that stopped
// heartbeating.
// +kubebuilder:validation:Enum=Never;Reschedule
type EvictionMode string

const (
	// EvictionModeNever keeps workspaces placed on an unreachable cluster
	// forever; they are reported ClusterReachable=False and nothing more. This is
	// the default, because a partition must never lose tenant work.
	EvictionModeNever EvictionMode = "Never"
	// EvictionModeReschedule places the workspaces of a cluster that has been
	// unreachable for gracePeriodMinutes onto another cluster. Their storage on
	// the lost cluster is not moved.
	EvictionModeReschedule EvictionMode = "Reschedule"
)

// EvictionPolicy is the explicit opt-in to move workspaces off a lost cluster.
// +kubebuilder:validation:XValidation:rule="self.mode != 'Reschedule' || has(self.gracePeriodMinutes)",message="spec.evictionPolicy.gracePeriodMinutes is required when mode is Reschedule"
type EvictionPolicy struct {
	// Mode is Never (the default) or Reschedule.
	// +kubebuilder:default=Never
	// +optional
	Mode EvictionMode `json:"mode,omitempty"`

	// GracePeriodMinutes is how long the cluster must be unreachable before its
	// workspaces are rescheduled.
	// +kubebuilder:validation:Minimum=5
	// +optional
	GracePeriodMinutes *int32 `json:"gracePeriodMinutes,omitempty"`
}

// PodSecurityStatus is the Pod Security admission the agents configure on workspace namespaces.
type PodSecurityStatus struct {
	// Level enforced: restricted or baseline (the values of workspaces.atrium.dev
	// PodSecurityLevel).
	// +kubebuilder:validation:Enum=restricted;baseline
	Level string `json:"level"`
	// Version of the standard enforced, e.g. v1.35 (pod-security.kubernetes.io/enforce-version).
	// +kubebuilder:validation:MaxLength=16
	// +optional
	Version string `json:"version,omitempty"`
}

// ComputeClusterSpec is what the platform team says about a cluster. Labels
// for placement are ordinary metadata labels.
type ComputeClusterSpec struct {
	// DisplayName is a human-readable name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Region is where the cluster runs, e.g. eu-west-1.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Region string `json:"region,omitempty"`

	// Shards are the kcp shards this cluster serves workspaces for. Empty means
	// every shard its agents follow.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Shards []string `json:"shards,omitempty"`

	// Organizations are the organizations whose workspaces the hub may place on this cluster,
	// each named as `atrium org create` named it (its OrganizationQuota's name) or by its kcp
	// logical cluster. Empty means every organization. Changing the list changes where new
	// workspaces go; workspaces already placed stay until they are deleted or evicted.
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Organizations []string `json:"organizations,omitempty"`

	// Unschedulable drains the cluster: no new workspaces are placed on it;
	// running ones stay.
	// +optional
	Unschedulable bool `json:"unschedulable,omitempty"`

	// EvictionPolicy says whether workspaces move off the cluster when it is
	// lost. Unset means Never.
	// +optional
	EvictionPolicy *EvictionPolicy `json:"evictionPolicy,omitempty"`
}

// ComputeClusterStatus is reported by the cluster's agents.
type ComputeClusterStatus struct {
	// HeartbeatTime is the last time an agent of the cluster reported.
	// +optional
	HeartbeatTime *metav1.Time `json:"heartbeatTime,omitempty"`

	// AgentVersion is the version of the reporting agent.
	// +optional
	AgentVersion string `json:"agentVersion,omitempty"`

	// Shards are the kcp shards the cluster's agents currently follow.
	// +listType=set
	// +optional
	Shards []string `json:"shards,omitempty"`

	// Capacity is the total of the cluster's schedulable nodes.
	// +optional
	Capacity corev1.ResourceList `json:"capacity,omitempty"`

	// Allocatable is what pods may use of Capacity.
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`

	// Allocated is what placed workspaces request.
	// +optional
	Allocated corev1.ResourceList `json:"allocated,omitempty"`

	// WorkspaceCount is how many workspaces are placed on the cluster.
	// +optional
	WorkspaceCount int32 `json:"workspaceCount,omitempty"`

	// AccessStrategies are the WorkspaceAccessStrategies the cluster offers.
	// +listType=set
	// +optional
	AccessStrategies []string `json:"accessStrategies,omitempty"`

	// PodSecurity is the Pod Security Standard the agents enforce on every workspace
	// namespace of the cluster; the hub places a workspace only where its level is allowed.
	// +optional
	PodSecurity *PodSecurityStatus `json:"podSecurity,omitempty"`
	// DefaultAccessStrategy is used for workspaces that do not name one.
	// +optional
	DefaultAccessStrategy string `json:"defaultAccessStrategy,omitempty"`

	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ComputeCluster is a Kubernetes cluster that runs workspaces. Its agent
// creates and heartbeats it; the hub places workspaces on Ready clusters.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName={acc},categories={atrium}
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="Workspaces",type=integer,JSONPath=`.status.workspaceCount`
// +kubebuilder:printcolumn:name="Heartbeat",type=date,JSONPath=`.status.heartbeatTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ComputeCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ComputeClusterSpec `json:"spec,omitempty"`

	// +optional
	Status ComputeClusterStatus `json:"status,omitempty"`
}

// ComputeClusterList is a list of ComputeClusters.
// +kubebuilder:object:root=true
type ComputeClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ComputeCluster `json:"items"`
}
