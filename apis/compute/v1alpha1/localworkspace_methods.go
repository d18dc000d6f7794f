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

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// IsStopped reports whether the mirrored workspace should run no pods.
func (l *LocalWorkspace) IsStopped() bool {
	return l.Spec.DesiredStatus == workspacesv1alpha1.DesiredStatusStopped
}

// SetCondition sets a condition for the mirror's current generation and
// reports whether anything changed.
func (l *LocalWorkspace) SetCondition(t workspacesv1alpha1.ConditionType, status metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason, message string) bool {
	return workspacesv1alpha1.SetCondition(&l.Status.Conditions, t, status, reason, message, l.Generation)
}

// GetCondition returns the condition of type t, or nil.
func (l *LocalWorkspace) GetCondition(t workspacesv1alpha1.ConditionType) *metav1.Condition {
	return workspacesv1alpha1.FindCondition(l.Status.Conditions, t)
}
