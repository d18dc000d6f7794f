package hubpolicy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestIdleDetectionHostRefused: idle detection naming a host other than the workspace's own
// access URL host is not followed (the IDE's loopback server sees no request for it), and the
// tenant reads why on the hub workspace: IdleDetection=False DetectionHostNotAllowed, naming
// the host. A correct detection reports IdleDetection=True ActivityRead.
func TestIdleDetectionHostRefused(t *testing.T) {
	create(t, admin, newWorkspace("elsewhere", admin, idleAfter(60), func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.IdleShutdown.Detection.HTTPGet.Host = "169.254.169.254"
	}))
	create(t, admin, newWorkspace("own-host", admin, idleAfter(60)))

	got := waitHub(t, "elsewhere", 2*time.Minute, "IdleDetection=False DetectionHostNotAllowed",
		hasCondition(workspacesv1alpha1.ConditionIdleDetection, metav1.ConditionFalse, workspacesv1alpha1.ReasonDetectionHostNotAllowed))
	msg := got.GetCondition(workspacesv1alpha1.ConditionIdleDetection).Message
	require.Contains(t, msg, `idleShutdown.detection.httpGet.host "169.254.169.254" is not the host of the workspace's access URL`)
	require.Contains(t, msg, "only its maximum lifetime stops it")
	require.Nil(t, got.Status.LastActivity, "no activity was read from anywhere")

	waitHub(t, "own-host", 2*time.Minute, "IdleDetection=True ActivityRead", func(ws *workspacesv1alpha1.Workspace) bool {
		return hasCondition(workspacesv1alpha1.ConditionIdleDetection, metav1.ConditionTrue, workspacesv1alpha1.ReasonActivityRead)(ws) && ws.Status.LastActivity != nil
	})
	// The refusal holds: it is re-observed every reconcile, never replaced by a stale success.
	holdsFor(t, "elsewhere", 5*time.Second, "still refused", hasCondition(workspacesv1alpha1.ConditionIdleDetection, metav1.ConditionFalse, workspacesv1alpha1.ReasonDetectionHostNotAllowed))
}
