package clusterhealth

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

// Judgement is the health of a ComputeCluster at one moment.
type Judgement struct {
	// Ready is whether the heartbeat is current.
	Ready bool
	// Reason and Message explain Ready.
	Reason  platformv1alpha1.ConditionReason
	Message string
	// Age is how old the last heartbeat is (0 when there was none).
	Age time.Duration
	// Until is how long the judgement holds: for a Ready cluster, the time until its heartbeat
	// expires; 0 otherwise.
	Until time.Duration
}

// Health judges cc at now with the given grace period.
func Health(cc *platformv1alpha1.ComputeCluster, now time.Time, grace time.Duration) Judgement {
	hb := cc.Status.HeartbeatTime
	if hb == nil {
		return Judgement{Reason: platformv1alpha1.ReasonAgentNotRegistered, Message: "no agent of this cluster has reported yet"}
	}
	age := now.Sub(hb.Time)
	if age < 0 {
		age = 0 // clocks differ a little between agent and hub
	}
	if age < grace {
		return Judgement{
			Ready: true, Reason: platformv1alpha1.ReasonHeartbeatCurrent, Age: age, Until: grace - age,
			Message: fmt.Sprintf("the agent heartbeats within the grace period of %s", grace),
		}
	}
	return Judgement{
		Reason: platformv1alpha1.ReasonHeartbeatExpired, Age: age,
		Message: fmt.Sprintf("no heartbeat since %s, longer than the grace period of %s", hb.UTC().Format(time.RFC3339), grace),
	}
}

// ExpiredSince returns when cc's heartbeat expired (its last heartbeat plus grace), and false
// when it has none. Callers use it to time deletion timeouts and evictions.
func ExpiredSince(cc *platformv1alpha1.ComputeCluster, grace time.Duration) (time.Time, bool) {
	if cc.Status.HeartbeatTime == nil {
		return time.Time{}, false
	}
	return cc.Status.HeartbeatTime.Add(grace), true
}

// LastHeartbeat returns the last heartbeat time, or the creation time when there was none.
func LastHeartbeat(cc *platformv1alpha1.ComputeCluster) time.Time {
	if cc.Status.HeartbeatTime != nil {
		return cc.Status.HeartbeatTime.Time
	}
	return cc.CreationTimestamp.Time
}

// condition returns the Ready condition for j, keeping the transition time when unchanged.
func condition(cc *platformv1alpha1.ComputeCluster, j Judgement, now time.Time) metav1.Condition {
	c := metav1.Condition{
		Type: string(platformv1alpha1.ConditionReady), Status: metav1.ConditionFalse, Reason: string(j.Reason),
		Message: j.Message, ObservedGeneration: cc.Generation, LastTransitionTime: metav1.NewTime(now),
	}
	if j.Ready {
		c.Status = metav1.ConditionTrue
	}
	for _, prev := range cc.Status.Conditions {
		if prev.Type == c.Type && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
	}
	return c
}
