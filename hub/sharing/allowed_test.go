package sharing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestAllowed(t *testing.T) {
	now := metav1.Now()
	accepted := []metav1.Condition{{Type: string(workspacesv1alpha1.ShareConditionAccepted), Status: metav1.ConditionTrue}}
	share := func(name, ns, ws string, users, groups []string) workspacesv1alpha1.WorkspaceShare {
		return workspacesv1alpha1.WorkspaceShare{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
			Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: ws, Users: users, Groups: groups},
			Status:     workspacesv1alpha1.WorkspaceShareStatus{Conditions: accepted},
		}
	}
	overLimit := share("over-limit", "default", "nb", []string{"oscar"}, []string{"flood"})
	overLimit.Status.Conditions = []metav1.Condition{{Type: string(workspacesv1alpha1.ShareConditionAccepted), Status: metav1.ConditionFalse}}
	unjudged := share("unjudged", "default", "nb", []string{"uma"}, nil)
	unjudged.Status.Conditions = nil
	deleting := share("gone", "default", "nb", []string{"eve"}, nil)
	deleting.DeletionTimestamp = &now
	byColleague := share("by-colleague", "default", "nb", []string{"mallory"}, []string{"mallory-group"})
	byColleague.Annotations[workspacesv1alpha1.AnnotationCreatedBy] = "mallory"
	unattributed := share("unattributed", "default", "nb", []string{"trudy"}, nil)
	unattributed.Annotations = nil
	shares := []workspacesv1alpha1.WorkspaceShare{
		share("s1", "default", "nb", []string{"carol", "bob"}, []string{"team-b"}),
		share("s2", "default", "nb", []string{"bob", "alice"}, []string{"team-a", "team-b"}),
		// Stored before the API refused system identities: they grant nothing.
		share("system", "default", "nb", []string{"system:anonymous", "system:serviceaccount:default:default"}, []string{"system:authenticated", "system:unauthenticated"}),
		share("other-ws", "default", "other", []string{"mallory"}, []string{"mallory-group"}),
		share("other-ns", "elsewhere", "nb", []string{"trudy"}, nil),
		deleting, overLimit, unjudged, byColleague, unattributed,
	}
	for _, tc := range []struct {
		name      string
		spec      workspacesv1alpha1.AccessType
		effective workspacesv1alpha1.AccessType
		owner     string
		shares    []workspacesv1alpha1.WorkspaceShare
		want      *workspacesv1alpha1.WorkspaceAccess
	}{
		{name: "public by default", owner: "alice", shares: shares},
		{name: "public effective wins over owner-only spec", spec: workspacesv1alpha1.AccessTypeOwnerOnly, effective: workspacesv1alpha1.AccessTypePublic, owner: "alice", shares: shares},
		{name: "owner only, no shares", spec: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "alice",
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"alice"}}},
		{name: "owner only with shares: sorted, unique, own namespace and workspace, by the owner, accepted, no system identities", spec: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "alice", shares: shares,
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"alice", "bob", "carol"}, AllowedGroups: []string{"team-a", "team-b"}}},
		{name: "owner only from the template", effective: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "dave",
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"dave"}}},
		{name: "shares by someone other than the owner do not count", spec: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "dave", shares: shares,
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"dave"}}},
		{name: "no owner, no shares: nobody", spec: workspacesv1alpha1.AccessTypeOwnerOnly,
			want: &workspacesv1alpha1.WorkspaceAccess{}},
		{name: "no owner: no valid shares, nobody", spec: workspacesv1alpha1.AccessTypeOwnerOnly, shares: shares,
			want: &workspacesv1alpha1.WorkspaceAccess{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := &workspacesv1alpha1.Workspace{
				ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default"},
				Spec:       workspacesv1alpha1.WorkspaceSpec{AccessType: tc.spec},
			}
			if tc.owner != "" {
				ws.Annotations = map[string]string{workspacesv1alpha1.AnnotationCreatedBy: tc.owner}
			}
			if tc.effective != "" {
				ws.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{AccessType: tc.effective}
			}
			assert.Equal(t, tc.want, Allowed(ws, tc.shares))
		})
	}
}
