package console

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestShareViewOf: the workspace page shows whether each share lets anyone in, and why not.
func TestShareViewOf(t *testing.T) {
	sh := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: "squat"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "nb", Users: []string{"carol", "dave"}, Groups: []string{"team"}},
	}
	assert.Equal(t, shareView{Name: "squat", Users: "carol, dave", Groups: "team"}, shareViewOf(sh), "not judged yet")
	sh.Status.Conditions = []metav1.Condition{{Type: string(workspacesv1alpha1.ShareConditionGranted), Status: metav1.ConditionFalse,
		Reason: string(workspacesv1alpha1.ReasonCreatorNotOwner), Message: `the share was created by "carol", who is neither the owner "bob"`}}
	got := shareViewOf(sh)
	assert.Equal(t, "False", got.Granted)
	assert.Equal(t, "CreatorNotOwner", got.Reason)
	assert.Contains(t, got.Message, `neither the owner "bob"`)
}
