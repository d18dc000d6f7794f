// Package clusterhealth judges ComputeClusters by their heartbeat. It owns the Ready condition
// of ComputeClusters in root:atrium (field manager atrium-hub-clusterhealth; the agent applies
// the rest of the status): Ready=True (HeartbeatCurrent) while the last heartbeat is younger
// than the grace period, Ready=False (HeartbeatExpired, or AgentNotRegistered) after. It
// requeues each cluster at the exact moment its heartbeat expires, so no event is needed for a
// cluster that went silent. Health computes the same judgement for other controllers, which
// re-observe the heartbeat rather than trust a condition written earlier; they are triggered by
// changes of the Ready condition (ReadinessChanged), not by every heartbeat.
package clusterhealth
