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
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDesiredStatus(t *testing.T) {
	tests := []struct {
		name        string
		desired     DesiredStatus
		wantDesired DesiredStatus
		wantStopped bool
	}{
		{name: "unset defaults to running", desired: "", wantDesired: DesiredStatusRunning, wantStopped: false},
		{name: "running", desired: DesiredStatusRunning, wantDesired: DesiredStatusRunning, wantStopped: false},
		{name: "stopped", desired: DesiredStatusStopped, wantDesired: DesiredStatusStopped, wantStopped: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Workspace{Spec: WorkspaceSpec{DesiredStatus: tc.desired}}
			if got := w.DesiredStatusOrDefault(); got != tc.wantDesired {
				t.Errorf("DesiredStatusOrDefault() = %q, want %q", got, tc.wantDesired)
			}
			if got := w.IsStopped(); got != tc.wantStopped {
				t.Errorf("IsStopped() = %v, want %v", got, tc.wantStopped)
			}
		})
	}
}

func TestPlacement(t *testing.T) {
	tests := []struct {
		name        string
		placement   *WorkspacePlacement
		cluster     string
		wantCluster string
		wantOn      bool
	}{
		{name: "not placed", placement: nil, cluster: "eu-1", wantCluster: "", wantOn: false},
		{name: "not placed, empty name never matches", placement: nil, cluster: "", wantCluster: "", wantOn: false},
		{name: "placed here", placement: &WorkspacePlacement{Cluster: "eu-1"}, cluster: "eu-1", wantCluster: "eu-1", wantOn: true},
		{name: "placed elsewhere", placement: &WorkspacePlacement{Cluster: "us-1"}, cluster: "eu-1", wantCluster: "us-1", wantOn: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Workspace{Status: WorkspaceStatus{Placement: tc.placement}}
			if got := w.PlacedCluster(); got != tc.wantCluster {
				t.Errorf("PlacedCluster() = %q, want %q", got, tc.wantCluster)
			}
			if got := w.IsPlacedOn(tc.cluster); got != tc.wantOn {
				t.Errorf("IsPlacedOn(%q) = %v, want %v", tc.cluster, got, tc.wantOn)
			}
		})
	}
}

func TestIsDeleting(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name string
		ts   *metav1.Time
		want bool
	}{
		{name: "alive", ts: nil, want: false},
		{name: "deleting", ts: &now, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Workspace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: tc.ts}}
			if got := w.IsDeleting(); got != tc.want {
				t.Errorf("IsDeleting() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSetCondition(t *testing.T) {
	// A fixed time in the past, so a moved transition time is always visible.
	old := metav1.NewTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))

	tests := []struct {
		name        string
		generation  int64
		status      metav1.ConditionStatus
		reason      ConditionReason
		wantChanged bool
		wantMoved   bool // lastTransitionTime moved
	}{
		{name: "same again is no change", generation: 3, status: metav1.ConditionTrue, reason: ReasonResolved, wantChanged: false, wantMoved: false},
		{name: "new generation restamps", generation: 4, status: metav1.ConditionTrue, reason: ReasonResolved, wantChanged: true, wantMoved: false},
		{name: "new reason, same status", generation: 3, status: metav1.ConditionTrue, reason: ReasonInvalidSpec, wantChanged: true, wantMoved: false},
		{name: "flip moves transition time", generation: 3, status: metav1.ConditionFalse, reason: ReasonImageNotAllowed, wantChanged: true, wantMoved: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Workspace{
				ObjectMeta: metav1.ObjectMeta{Generation: tc.generation},
				Status: WorkspaceStatus{Conditions: []metav1.Condition{{
					Type: string(ConditionValid), Status: metav1.ConditionTrue, Reason: string(ReasonResolved),
					Message: "msg", ObservedGeneration: 3, LastTransitionTime: old,
				}}},
			}
			if got := w.SetCondition(ConditionValid, tc.status, tc.reason, "msg"); got != tc.wantChanged {
				t.Errorf("SetCondition changed = %v, want %v", got, tc.wantChanged)
			}
			c := w.GetCondition(ConditionValid)
			if c == nil {
				t.Fatalf("condition missing")
			}
			if c.ObservedGeneration != tc.generation {
				t.Errorf("observedGeneration = %d, want %d", c.ObservedGeneration, tc.generation)
			}
			if c.Status != tc.status || c.Reason != string(tc.reason) {
				t.Errorf("condition = %s/%s, want %s/%s", c.Status, c.Reason, tc.status, tc.reason)
			}
			if moved := !c.LastTransitionTime.Equal(&old); moved != tc.wantMoved {
				t.Errorf("transition time moved = %v, want %v", moved, tc.wantMoved)
			}
			if w.IsConditionTrue(ConditionValid) != (tc.status == metav1.ConditionTrue) {
				t.Errorf("IsConditionTrue disagrees with status %s", tc.status)
			}
		})
	}

	t.Run("new condition is added", func(t *testing.T) {
		w := &Workspace{ObjectMeta: metav1.ObjectMeta{Generation: 7}}
		if !w.SetCondition(ConditionScheduled, metav1.ConditionFalse, ReasonNoClusterFits, "no cluster") {
			t.Fatalf("SetCondition reported no change")
		}
		if c := w.GetCondition(ConditionScheduled); c == nil || c.ObservedGeneration != 7 || c.LastTransitionTime.IsZero() {
			t.Fatalf("unexpected condition %+v", c)
		}
		if !IsConditionCurrent(w.Status.Conditions, ConditionScheduled, 7) || IsConditionCurrent(w.Status.Conditions, ConditionScheduled, 8) {
			t.Fatalf("IsConditionCurrent wrong")
		}
	})
}

func TestIsAvailable(t *testing.T) {
	tests := []struct {
		name       string
		generation int64
		conds      []metav1.Condition
		want       bool
	}{
		{name: "no conditions", generation: 1, want: false},
		{
			name: "available for this generation", generation: 2,
			conds: []metav1.Condition{{Type: string(ConditionAvailable), Status: metav1.ConditionTrue, ObservedGeneration: 2}},
			want:  true,
		},
		{
			name: "available for an older generation", generation: 3,
			conds: []metav1.Condition{{Type: string(ConditionAvailable), Status: metav1.ConditionTrue, ObservedGeneration: 2}},
			want:  false,
		},
		{
			name: "not available", generation: 2,
			conds: []metav1.Condition{{Type: string(ConditionAvailable), Status: metav1.ConditionFalse, ObservedGeneration: 2}},
			want:  false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Workspace{ObjectMeta: metav1.ObjectMeta{Generation: tc.generation}, Status: WorkspaceStatus{Conditions: tc.conds}}
			if got := w.IsAvailable(); got != tc.want {
				t.Errorf("IsAvailable() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEnvVarCore(t *testing.T) {
	src := &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}
	tests := []struct {
		name string
		in   EnvVar
		want corev1.EnvVar
	}{
		{name: "value", in: EnvVar{Name: "A", Value: "1"}, want: corev1.EnvVar{Name: "A", Value: "1"}},
		{name: "valueFrom", in: EnvVar{Name: "B", ValueFrom: src}, want: corev1.EnvVar{Name: "B", ValueFrom: src}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.Core()
			if got.Name != tc.want.Name || got.Value != tc.want.Value || got.ValueFrom != tc.want.ValueFrom {
				t.Errorf("Core() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
