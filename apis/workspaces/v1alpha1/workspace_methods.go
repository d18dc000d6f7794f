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

// DesiredStatusOrDefault returns spec.desiredStatus, Running when unset (the
// schema defaults it, but objects built in Go skip defaulting).
func (w *Workspace) DesiredStatusOrDefault() DesiredStatus {
	if w.Spec.DesiredStatus == "" {
		return DesiredStatusRunning
	}
	return w.Spec.DesiredStatus
}

// IsStopped reports whether the tenant asked for the workspace to be stopped.
func (w *Workspace) IsStopped() bool {
	return w.DesiredStatusOrDefault() == DesiredStatusStopped
}

// IsDeleting reports whether deletion of the workspace was requested.
func (w *Workspace) IsDeleting() bool {
	return w.DeletionTimestamp != nil
}

// PlacedCluster returns the ComputeCluster the workspace is placed on, or ""
// when it is not placed.
func (w *Workspace) PlacedCluster() string {
	if w.Status.Placement == nil {
		return ""
	}
	return w.Status.Placement.Cluster
}

// IsPlacedOn reports whether the workspace is placed on the named cluster.
func (w *Workspace) IsPlacedOn(cluster string) bool {
	return cluster != "" && w.PlacedCluster() == cluster
}

// SetCondition sets a condition for the workspace's current generation and
// reports whether anything changed.
func (w *Workspace) SetCondition(t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return SetCondition(&w.Status.Conditions, t, status, reason, message, w.Generation)
}

// GetCondition returns the condition of type t, or nil.
func (w *Workspace) GetCondition(t ConditionType) *metav1.Condition {
	return FindCondition(w.Status.Conditions, t)
}

// IsConditionTrue reports whether the condition of type t is True.
func (w *Workspace) IsConditionTrue(t ConditionType) bool {
	return IsConditionTrue(w.Status.Conditions, t)
}

// IsAvailable reports whether the workspace serves its IDE for the current spec.
func (w *Workspace) IsAvailable() bool {
	return w.IsConditionTrue(ConditionAvailable) && IsConditionCurrent(w.Status.Conditions, ConditionAvailable, w.Generation)
}

// TemplateName returns the WorkspaceTemplate the workspace is governed by: spec.templateRef,
// else the template its last valid resolution pinned (status.effective.template, the
// organization's default template at that time), else "" (not resolved yet: the hub picks the
// organization's default template).
func (w *Workspace) TemplateName() string {
	if w.Spec.TemplateRef != nil && w.Spec.TemplateRef.Name != "" {
		return w.Spec.TemplateRef.Name
	}
	if w.Status.Effective != nil {
		return w.Status.Effective.Template
	}
	return ""
}

// PodRequests is what the pod built from the effective spec requests of a node, as the
// Kubernetes scheduler counts it: per resource, the larger of the workspace container's request
// and each init container's (init containers run one at a time, before it). A request left
// unset defaults to the limit, as in Kubernetes.
func (e *EffectiveWorkspaceSpec) PodRequests() corev1.ResourceList {
	out := requestsOf(e.Resources)
	for _, c := range e.InitContainers {
		for name, q := range requestsOf(c.Resources) {
			if have, ok := out[name]; !ok || q.Cmp(have) > 0 {
				out[name] = q
			}
		}
	}
	return out
}

func requestsOf(res corev1.ResourceRequirements) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range res.Limits {
		out[name] = q.DeepCopy()
	}
	for name, q := range res.Requests {
		out[name] = q.DeepCopy()
	}
	return out
}
