package materialize

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/atrium-dev/atrium/agent/activity"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

type fakeActivity struct {
	at    time.Time
	err   error
	calls []string
}

func (f *fakeActivity) Read(_ context.Context, t activity.Target) (time.Time, error) {
	f.calls = append(f.calls, t.URL)
	return f.at, f.err
}

func TestObserveActivity(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	reported := now.Add(-90*time.Second + 300*time.Millisecond)
	lw := func(available, idle bool) *computev1alpha1.LocalWorkspace {
		l := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "ns", UID: "u1"}}
		l.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusRunning
		l.Spec.Effective.IdleShutdownEnabled = idle
		status := metav1.ConditionFalse
		if available {
			status = metav1.ConditionTrue
		}
		l.SetCondition(workspacesv1alpha1.ConditionAvailable, status, workspacesv1alpha1.ReasonPodsReady, "")
		return l
	}
	for _, tc := range []struct {
		name      string
		lw        *computev1alpha1.LocalWorkspace
		err       error
		wantCalls int
		want      *time.Time
	}{
		{name: "available with idle shutdown", lw: lw(true, true), wantCalls: 1, want: ptrTime(reported.Truncate(time.Second))},
		{name: "no idle shutdown", lw: lw(true, false)},
		{name: "not available", lw: lw(false, true)},
		{name: "read fails: unchanged", lw: lw(true, true), err: errors.New("boom"), wantCalls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeActivity{at: reported, err: tc.err}
			r := NewReconciler(Options{Activity: f, Now: func() time.Time { return now }, ResyncPeriod: time.Minute})
			s := &scope{lw: tc.lw}
			r.observeActivity(context.Background(), s)
			assert.Len(t, f.calls, tc.wantCalls)
			if tc.wantCalls > 0 {
				assert.Equal(t, fmt.Sprintf("http://nb.ns.svc:%d/api/status", Port(tc.lw)), f.calls[0])
			}
			if tc.want == nil {
				assert.Nil(t, s.lw.Status.LastActivity)
			} else {
				assert.True(t, tc.want.Equal(s.lw.Status.LastActivity.Time), "got %v", s.lw.Status.LastActivity)
			}
			// A second reconcile within the period does not read again.
			r.observeActivity(context.Background(), s)
			assert.Len(t, f.calls, tc.wantCalls)
		})
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// TestIdleDetectionCondition: a detection host other than the access URL's is refused with a
// condition the tenant can act on, and nothing is requested; fixing it clears the refusal.
func TestIdleDetectionCondition(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	lw := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "ns", UID: "u1"}}
	lw.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusRunning
	lw.Spec.Effective.IdleShutdownEnabled = true
	lw.Spec.Effective.IdleDetection = &workspacesv1alpha1.IdleDetectionSpec{HTTPGet: &workspacesv1alpha1.IdleHTTPGetAction{}}
	lw.Spec.Effective.IdleDetection.HTTPGet.Host = "metadata.evil.example"
	lw.Status.AccessURL = "https://nb--x.ws.example.com/"
	lw.SetCondition(workspacesv1alpha1.ConditionAvailable, metav1.ConditionTrue, workspacesv1alpha1.ReasonPodsReady, "")
	f := &fakeActivity{at: now}
	r := NewReconciler(Options{Activity: f, Now: func() time.Time { return now }, ResyncPeriod: time.Minute})
	s := &scope{lw: lw}

	r.observeActivity(context.Background(), s)
	assert.Empty(t, f.calls, "nothing is sent to another host")
	c := lw.GetCondition(workspacesv1alpha1.ConditionIdleDetection)
	if assert.NotNil(t, c) {
		assert.Equal(t, metav1.ConditionFalse, c.Status)
		assert.Equal(t, string(workspacesv1alpha1.ReasonDetectionHostNotAllowed), c.Reason)
		assert.Contains(t, c.Message, `"metadata.evil.example" is not the host of the workspace's access URL`)
	}

	lw.Spec.Effective.IdleDetection.HTTPGet.Host = "nb--x.ws.example.com"
	r.observeActivity(context.Background(), s)
	assert.Len(t, f.calls, 1)
	c = lw.GetCondition(workspacesv1alpha1.ConditionIdleDetection)
	if assert.NotNil(t, c) {
		assert.Equal(t, metav1.ConditionTrue, c.Status)
		assert.Equal(t, string(workspacesv1alpha1.ReasonActivityRead), c.Reason)
	}

	lw.Spec.Effective.IdleShutdownEnabled = false
	r.observeActivity(context.Background(), s)
	assert.Nil(t, lw.GetCondition(workspacesv1alpha1.ConditionIdleDetection), "no idle shutdown, no condition")
}
