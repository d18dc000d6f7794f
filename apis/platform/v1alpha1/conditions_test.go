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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestSchedulable(t *testing.T) {
	tests := []struct {
		name          string
		ready         metav1.ConditionStatus // "" means no condition
		unschedulable bool
		wantReady     bool
		wantSched     bool
	}{
		{name: "never reported", ready: "", wantReady: false, wantSched: false},
		{name: "ready", ready: metav1.ConditionTrue, wantReady: true, wantSched: true},
		{name: "ready but drained", ready: metav1.ConditionTrue, unschedulable: true, wantReady: true, wantSched: false},
		{name: "not ready", ready: metav1.ConditionFalse, wantReady: false, wantSched: false},
		{name: "unknown", ready: metav1.ConditionUnknown, wantReady: false, wantSched: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &ComputeCluster{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Spec: ComputeClusterSpec{Unschedulable: tc.unschedulable}}
			if tc.ready != "" {
				c.SetCondition(ConditionReady, tc.ready, ReasonHeartbeatCurrent, "")
				if got := c.Status.Conditions[0].ObservedGeneration; got != 2 {
					t.Errorf("observedGeneration = %d, want 2", got)
				}
			}
			if got := c.IsReady(); got != tc.wantReady {
				t.Errorf("IsReady() = %v, want %v", got, tc.wantReady)
			}
			if got := c.IsSchedulable(); got != tc.wantSched {
				t.Errorf("IsSchedulable() = %v, want %v", got, tc.wantSched)
			}
		})
	}
}

func TestHeartbeatExpired(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		heartbeat *metav1.Time
		want      bool
	}{
		{name: "never", heartbeat: nil, want: true},
		{name: "fresh", heartbeat: ptr.To(metav1.NewTime(now.Add(-10 * time.Second))), want: false},
		{name: "exactly at timeout", heartbeat: ptr.To(metav1.NewTime(now.Add(-time.Minute))), want: false},
		{name: "stale", heartbeat: ptr.To(metav1.NewTime(now.Add(-2 * time.Minute))), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &ComputeCluster{Status: ComputeClusterStatus{HeartbeatTime: tc.heartbeat}}
			if got := c.HeartbeatExpired(now, time.Minute); got != tc.want {
				t.Errorf("HeartbeatExpired() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServesShardAndStrategies(t *testing.T) {
	tests := []struct {
		name       string
		shards     []string
		strategies []string
		shard      string
		strategy   string
		wantShard  bool
		wantStrat  bool
	}{
		{name: "no shards listed serves all", shard: "root", wantShard: true},
		{name: "listed shard", shards: []string{"root", "shard-1"}, shard: "shard-1", wantShard: true},
		{name: "unlisted shard", shards: []string{"root"}, shard: "shard-1", wantShard: false},
		{name: "offered strategy", strategies: []string{"web", "oauth"}, strategy: "oauth", shard: "x", wantShard: true, wantStrat: true},
		{name: "strategy not offered", strategies: []string{"web"}, strategy: "oauth", shard: "x", wantShard: true, wantStrat: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &ComputeCluster{Spec: ComputeClusterSpec{Shards: tc.shards}, Status: ComputeClusterStatus{AccessStrategies: tc.strategies}}
			if got := c.ServesShard(tc.shard); got != tc.wantShard {
				t.Errorf("ServesShard(%q) = %v, want %v", tc.shard, got, tc.wantShard)
			}
			if got := c.OffersAccessStrategy(tc.strategy); got != tc.wantStrat {
				t.Errorf("OffersAccessStrategy(%q) = %v, want %v", tc.strategy, got, tc.wantStrat)
			}
		})
	}
}

func TestEvictionGracePeriod(t *testing.T) {
	tests := []struct {
		name   string
		policy *EvictionPolicy
		want   time.Duration
		wantOK bool
	}{
		{name: "no policy never evicts", policy: nil},
		{name: "never", policy: &EvictionPolicy{Mode: EvictionModeNever, GracePeriodMinutes: ptr.To[int32](10)}},
		{name: "reschedule without period never evicts", policy: &EvictionPolicy{Mode: EvictionModeReschedule}},
		{name: "reschedule", policy: &EvictionPolicy{Mode: EvictionModeReschedule, GracePeriodMinutes: ptr.To[int32](30)}, want: 30 * time.Minute, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &ComputeCluster{Spec: ComputeClusterSpec{EvictionPolicy: tc.policy}}
			got, ok := c.EvictionGracePeriod()
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("EvictionGracePeriod() = %v, %v, want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
