package clusterhealth

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

func TestHealth(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	grace := 40 * time.Second
	at := func(d time.Duration) *platformv1alpha1.ComputeCluster {
		return &platformv1alpha1.ComputeCluster{Status: platformv1alpha1.ComputeClusterStatus{HeartbeatTime: &metav1.Time{Time: now.Add(-d)}}}
	}
	cases := []struct {
		name   string
		cc     *platformv1alpha1.ComputeCluster
		ready  bool
		reason platformv1alpha1.ConditionReason
		until  time.Duration
	}{
		{"never reported", &platformv1alpha1.ComputeCluster{}, false, platformv1alpha1.ReasonAgentNotRegistered, 0},
		{"fresh", at(time.Second), true, platformv1alpha1.ReasonHeartbeatCurrent, 39 * time.Second},
		{"clock skew", at(-5 * time.Second), true, platformv1alpha1.ReasonHeartbeatCurrent, 40 * time.Second},
		{"exactly at grace", at(grace), false, platformv1alpha1.ReasonHeartbeatExpired, 0},
		{"expired", at(time.Minute), false, platformv1alpha1.ReasonHeartbeatExpired, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := Health(tc.cc, now, grace)
			if j.Ready != tc.ready || j.Reason != tc.reason || j.Until != tc.until {
				t.Errorf("got %+v, want ready=%v reason=%s until=%s", j, tc.ready, tc.reason, tc.until)
			}
		})
	}
}
