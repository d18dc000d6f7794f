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
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionType is the type of a ComputeCluster condition.
type ConditionType string

// ConditionReason is the machine-readable reason of a ComputeCluster condition.
type ConditionReason string

// Ready: the cluster's agent heartbeats and the cluster can run workspaces.
// Set by the hub's cluster health controller from the heartbeat, never by the
// agent alone, so a silent agent cannot claim to be healthy.
const (
	// ConditionReady is True while the heartbeat is current.
	ConditionReady ConditionType = "Ready"

	// ReasonHeartbeatCurrent: an agent reported within the heartbeat timeout.
	ReasonHeartbeatCurrent ConditionReason = "HeartbeatCurrent"
	// ReasonHeartbeatExpired: no agent reported within the heartbeat timeout.
	// Workspaces stay placed; see spec.evictionPolicy.
	ReasonHeartbeatExpired ConditionReason = "HeartbeatExpired"
	// ReasonAgentNotRegistered: the object exists but no agent ever reported.
	ReasonAgentNotRegistered ConditionReason = "AgentNotRegistered"
	// ReasonAgentDegraded: the agent reports but cannot run workspaces, e.g. it
	// lost its compute cluster's API server. The message says why.
	ReasonAgentDegraded ConditionReason = "AgentDegraded"
)

// SetCondition sets a condition for the cluster's current generation and
// reports whether anything changed.
func (c *ComputeCluster) SetCondition(t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{
		Type:               string(t),
		Status:             status,
		Reason:             string(reason),
		Message:            message,
		ObservedGeneration: c.Generation,
	})
}

// IsReady reports whether the Ready condition is True.
func (c *ComputeCluster) IsReady() bool {
	return meta.IsStatusConditionTrue(c.Status.Conditions, string(ConditionReady))
}

// IsSchedulable reports whether new workspaces may be placed on the cluster:
// it must be Ready and not drained.
func (c *ComputeCluster) IsSchedulable() bool {
	return c.IsReady() && !c.Spec.Unschedulable
}

// HeartbeatExpired reports whether the last heartbeat is older than timeout at
// now. A cluster that never heartbeat is expired.
func (c *ComputeCluster) HeartbeatExpired(now time.Time, timeout time.Duration) bool {
	if c.Status.HeartbeatTime == nil {
		return true
	}
	return now.Sub(c.Status.HeartbeatTime.Time) > timeout
}

// ServesShard reports whether the cluster serves workspaces of the given kcp
// shard. An empty spec.shards means every shard.
func (c *ComputeCluster) ServesShard(shard string) bool {
	return len(c.Spec.Shards) == 0 || slices.Contains(c.Spec.Shards, shard)
}

// OffersAccessStrategy reports whether the cluster offers the named access
// strategy.
func (c *ComputeCluster) OffersAccessStrategy(name string) bool {
	return slices.Contains(c.Status.AccessStrategies, name)
}

// EvictionGracePeriod returns how long the cluster must be unreachable before
// its workspaces are rescheduled, and false when they never are.
func (c *ComputeCluster) EvictionGracePeriod() (time.Duration, bool) {
	p := c.Spec.EvictionPolicy
	if p == nil || p.Mode != EvictionModeReschedule || p.GracePeriodMinutes == nil {
		return 0, false
	}
	return time.Duration(*p.GracePeriodMinutes) * time.Minute, true
}
