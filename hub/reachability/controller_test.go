package reachability

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestJudgeAndReleaseAt(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	grace, timeout := 6*time.Second, 10*time.Second
	cc := func(age time.Duration) *platformv1alpha1.ComputeCluster {
		return &platformv1alpha1.ComputeCluster{Status: platformv1alpha1.ComputeClusterStatus{HeartbeatTime: &metav1.Time{Time: now.Add(-age)}}}
	}
	if v := Judge(cc(time.Second), "east", now, grace); !v.Reachable || v.Reason != workspacesv1alpha1.ReasonHeartbeatCurrent {
		t.Errorf("fresh heartbeat: got %+v", v)
	}
	if v := Judge(cc(20*time.Second), "east", now, grace); v.Reachable || v.Reason != workspacesv1alpha1.ReasonClusterUnreachable || !strings.Contains(v.Message, "for 20s") {
		t.Errorf("expired heartbeat: got %+v", v)
	}
	if v := Judge(nil, "east", now, grace); v.Reachable || v.Reason != workspacesv1alpha1.ReasonClusterNotFound {
		t.Errorf("missing cluster: got %+v", v)
	}

	deleting := func(ago time.Duration) *workspacesv1alpha1.Workspace {
		return &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{Time: now.Add(-ago)}}}
	}
	cases := []struct {
		name string
		ws   *workspacesv1alpha1.Workspace
		cc   *platformv1alpha1.ComputeCluster
		want time.Time
	}{
		{"deleted after the cluster was lost", deleting(time.Second), cc(time.Hour), now.Add(-time.Second + timeout)},
		{"deleted before the last heartbeat", deleting(time.Minute), cc(5 * time.Second), now.Add(-5*time.Second + timeout)},
		{"cluster gone", deleting(2 * time.Second), nil, now.Add(-2*time.Second + timeout)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReleaseAt(tc.ws, tc.cc, timeout); !got.Equal(tc.want) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
