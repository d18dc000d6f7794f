package hubpolicy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// idleAfter enables idle shutdown after minutes (seconds in this suite), reading activity
// from the IDE at the host of the access URL, JupyterLab style.
func idleAfter(minutes int32) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.IdleShutdown = &workspacesv1alpha1.IdleShutdownSpec{
			Enabled: true, IdleTimeoutInMinutes: minutes,
			Detection: &workspacesv1alpha1.IdleDetectionSpec{HTTPGet: &workspacesv1alpha1.IdleHTTPGetAction{
				HTTPGetAction:         corev1.HTTPGetAction{Host: "127.0.0.1", Path: "/workspaces/default/" + ws.Name + "/api/status"},
				LastActivityTimestamp: &workspacesv1alpha1.IdleLastActivityTimestampSpec{ResponseBodyPath: "last_activity", Format: workspacesv1alpha1.TimestampFormatRFC3339},
			}},
		}
	}
}

// TestIdleTimeout: a workspace whose IDE reports no recent activity is stopped with
// AutoStopped=True IdleTimeout; one whose IDE reports current activity keeps running.
func TestIdleTimeout(t *testing.T) {
	setActivity("idle", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	create(t, admin, newWorkspace("idle", admin, idleAfter(4)))
	// busy's timeout leaves room for the activity chain (agent read → mirror → hub status →
	// decision), which takes seconds on a loaded machine; a 4 s timeout made it flaky.
	create(t, admin, newWorkspace("busy", admin, idleAfter(12)))

	got := waitHub(t, "idle", 2*time.Minute, "stopped for idleness",
		stoppedBy(workspacesv1alpha1.ReasonIdleTimeout, workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionTrue))
	require.Contains(t, got.GetCondition(workspacesv1alpha1.ConditionAutoStopped).Message, "without activity, the idle timeout of 4 minutes")
	waitHub(t, "idle", time.Minute, "idle's pods gone", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped
	})

	waitHub(t, "busy", 2*time.Minute, "busy available, its activity reported", func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && ws.Status.LastActivity != nil &&
			hasCondition(workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionFalse, workspacesv1alpha1.ReasonWithinPolicy)(ws)
	})
	// Longer than the timeout: fresh activity keeps it running.
	holdsFor(t, "busy", 16*time.Second, "busy keeps running", func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && ws.Status.LastActivity != nil && time.Since(ws.Status.LastActivity.Time) < 12*time.Second
	})
}

// TestLifetime: a template's maximum lifetime stops a running workspace, however active.
func TestLifetime(t *testing.T) {
	createTemplate(t, "short-lived", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) { s.MaxLifetimeInMinutes = ptr.To[int32](6) })
	create(t, admin, newWorkspace("short", admin, withTemplate("short-lived")))
	started := waitHub(t, "short", 2*time.Minute, "available", available)
	since := started.GetCondition(workspacesv1alpha1.ConditionAvailable).LastTransitionTime.Time

	got := waitHub(t, "short", time.Minute, "stopped at the end of its lifetime",
		stoppedBy(workspacesv1alpha1.ReasonLifetimeExceeded, workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionTrue))
	cond := got.GetCondition(workspacesv1alpha1.ConditionAutoStopped)
	require.Contains(t, cond.Message, "the maximum lifetime of 6 minutes")
	require.GreaterOrEqual(t, cond.LastTransitionTime.Sub(since), 5*time.Second, "stopped too early: available since %s, stopped at %s", since, cond.LastTransitionTime)
}
