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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestLocalWorkspaceIsStopped(t *testing.T) {
	tests := []struct {
		name    string
		desired workspacesv1alpha1.DesiredStatus
		want    bool
	}{
		{name: "unset runs", desired: "", want: false},
		{name: "running", desired: workspacesv1alpha1.DesiredStatusRunning, want: false},
		{name: "stopped", desired: workspacesv1alpha1.DesiredStatusStopped, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &LocalWorkspace{Spec: LocalWorkspaceSpec{DesiredStatus: tc.desired}}
			if got := l.IsStopped(); got != tc.want {
				t.Errorf("IsStopped() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLocalWorkspaceSetCondition(t *testing.T) {
	tests := []struct {
		name   string
		ctype  workspacesv1alpha1.ConditionType
		status metav1.ConditionStatus
		reason workspacesv1alpha1.ConditionReason
	}{
		{name: "available", ctype: workspacesv1alpha1.ConditionAvailable, status: metav1.ConditionTrue, reason: workspacesv1alpha1.ReasonPodsReady},
		{name: "degraded", ctype: workspacesv1alpha1.ConditionDegraded, status: metav1.ConditionTrue, reason: workspacesv1alpha1.ReasonCrashLooping},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &LocalWorkspace{ObjectMeta: metav1.ObjectMeta{Generation: 5}}
			if !l.SetCondition(tc.ctype, tc.status, tc.reason, "m") {
				t.Fatalf("SetCondition reported no change")
			}
			c := l.GetCondition(tc.ctype)
			if c == nil || c.ObservedGeneration != 5 || c.Status != tc.status || c.Reason != string(tc.reason) {
				t.Fatalf("unexpected condition %+v", c)
			}
		})
	}
}
