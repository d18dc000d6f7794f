package hubpolicy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

const image = "quay.io/jupyter/base-notebook:2025-06-01"

func createTemplate(t *testing.T, name string, mutate func(*workspacesv1alpha1.WorkspaceTemplateSpec)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: workspacesv1alpha1.WorkspaceTemplateSpec{DefaultImage: image}}
	mutate(&tmpl.Spec)
	require.NoError(t, orgClient(t).Create(ctx, tmpl))
	cleanup(t, tmpl)
}

func withTemplate(name string) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: name}
	}
}

// TestPerUserLimit: with a limit of one, bob's second workspace is stopped with a condition
// naming the limit, stays stopped when asked again while the first runs, and starts when asked
// again after the first stopped. Other users are not affected.
func TestPerUserLimit(t *testing.T) {
	createTemplate(t, "one-each", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) { s.MaxRunningWorkspacesPerUser = ptr.To[int32](1) })

	create(t, member, newWorkspace("limit-first", member, withTemplate("one-each")))
	waitHub(t, "limit-first", 2*time.Minute, "first runs within the limit", func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && hasCondition(workspacesv1alpha1.ConditionUserLimit, metav1.ConditionTrue, workspacesv1alpha1.ReasonWithinUserLimit)(ws)
	})

	create(t, member, newWorkspace("limit-second", member, withTemplate("one-each")))
	got := waitHub(t, "limit-second", time.Minute, "second stopped by the limit",
		stoppedBy(workspacesv1alpha1.ReasonUserLimitReached, workspacesv1alpha1.ConditionUserLimit, metav1.ConditionFalse))
	msg := got.GetCondition(workspacesv1alpha1.ConditionUserLimit).Message
	require.Contains(t, msg, "bob already runs 1 of 1 workspaces allowed by template one-each (default/limit-first)")
	// Refused before or after its placement: either way nothing of it keeps running.
	waitHub(t, "limit-second", time.Minute, "second does not run", func(ws *workspacesv1alpha1.Workspace) bool {
		return !ws.IsConditionTrue(workspacesv1alpha1.ConditionAvailable) &&
			(ws.Status.Phase == "" || ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped || ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopping)
	})
	waitHub(t, "limit-first", 5*time.Second, "first still runs", available)

	// Another user's workspace of the same template runs.
	create(t, admin, newWorkspace("limit-alice", admin, withTemplate("one-each")))
	waitHub(t, "limit-alice", 2*time.Minute, "alice runs her own", available)

	// Asking again while the slot is taken: stopped again.
	gen := got.Generation
	setDesired(t, member, "limit-second", workspacesv1alpha1.DesiredStatusRunning)
	waitHub(t, "limit-second", time.Minute, "second refused again", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Generation >= gen+2 && stoppedBy(workspacesv1alpha1.ReasonUserLimitReached, workspacesv1alpha1.ConditionUserLimit, metav1.ConditionFalse)(ws)
	})

	// After the first stops, asking again starts the second.
	setDesired(t, member, "limit-first", workspacesv1alpha1.DesiredStatusStopped)
	waitHub(t, "limit-first", time.Minute, "first gives its slot up", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.GetCondition(workspacesv1alpha1.ConditionUserLimit) == nil
	})
	setDesired(t, member, "limit-second", workspacesv1alpha1.DesiredStatusRunning)
	got = waitHub(t, "limit-second", 2*time.Minute, "second runs once asked again", func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && hasCondition(workspacesv1alpha1.ConditionUserLimit, metav1.ConditionTrue, workspacesv1alpha1.ReasonWithinUserLimit)(ws)
	})
	require.True(t, strings.HasPrefix(got.GetCondition(workspacesv1alpha1.ConditionUserLimit).Message, "bob runs 1 of 1"))
}
