package sharing

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	byAdmin := share("by-admin", "default", "nb", []string{"frank-friend"}, []string{"ops"})
	byAdmin.Annotations[workspacesv1alpha1.AnnotationCreatedBy] = "frank"
	byAdmin.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin] = "true"
	shares := []workspacesv1alpha1.WorkspaceShare{
		share("s1", "default", "nb", []string{"carol", "bob"}, []string{"team-b"}),
		share("s2", "default", "nb", []string{"bob", "alice"}, []string{"team-a", "team-b"}),
		// Stored before the API refused system identities: they grant nothing.
		share("system", "default", "nb", []string{"system:anonymous", "system:serviceaccount:default:default"}, []string{"system:authenticated", "system:unauthenticated"}),
		share("other-ws", "default", "other", []string{"mallory"}, []string{"mallory-group"}),
		share("other-ns", "elsewhere", "nb", []string{"trudy"}, nil),
		deleting, overLimit, unjudged, byColleague, unattributed, byAdmin,
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
		{name: "owner only with shares: sorted, unique, own namespace and workspace, by the owner or an admin, accepted, no system identities", spec: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "alice", shares: shares,
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"alice", "bob", "carol", "frank-friend"}, AllowedGroups: []string{"ops", "team-a", "team-b"}}},
		{name: "owner only from the template", effective: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "dave",
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"dave"}}},
		{name: "shares by someone other than the owner do not count, an admin's do", spec: workspacesv1alpha1.AccessTypeOwnerOnly, owner: "dave", shares: shares,
			want: &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"dave", "frank-friend"}, AllowedGroups: []string{"ops"}}},
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

func TestJudge(t *testing.T) {
	base := metav1.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	accepted := []metav1.Condition{{Type: string(workspacesv1alpha1.ShareConditionAccepted), Status: metav1.ConditionTrue}}
	share := func(name, creator string, mutate ...func(*workspacesv1alpha1.WorkspaceShare)) workspacesv1alpha1.WorkspaceShare {
		s := workspacesv1alpha1.WorkspaceShare{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: base,
				Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: creator}},
			Spec:   workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "nb", Users: []string{"dave"}},
			Status: workspacesv1alpha1.WorkspaceShareStatus{Conditions: accepted},
		}
		for _, m := range mutate {
			m(&s)
		}
		return s
	}
	byAdmin := func(s *workspacesv1alpha1.WorkspaceShare) {
		s.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin] = "true"
	}
	workspace := func(owner string, access workspacesv1alpha1.AccessType) *workspacesv1alpha1.Workspace {
		ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default"}, Spec: workspacesv1alpha1.WorkspaceSpec{AccessType: access}}
		if owner != "" {
			ws.Annotations = map[string]string{workspacesv1alpha1.AnnotationCreatedBy: owner}
		}
		return ws
	}
	private := workspace("alice", workspacesv1alpha1.AccessTypeOwnerOnly)
	for _, tc := range []struct {
		name    string
		ws      *workspacesv1alpha1.Workspace
		share   workspacesv1alpha1.WorkspaceShare
		reason  workspacesv1alpha1.ConditionReason
		message string
	}{
		{name: "the owner's share", ws: private, share: share("s", "alice"), reason: workspacesv1alpha1.ReasonGranted, message: `shared by its owner: the share's users and groups may connect to workspace nb (owner "alice")`},
		{name: "an admin's share", ws: private, share: share("s", "frank", byAdmin), reason: workspacesv1alpha1.ReasonGranted, message: `shared by the organization admin "frank"`},
		{name: "a colleague's share", ws: private, share: share("s", "bob"), reason: workspacesv1alpha1.ReasonCreatorNotOwner,
			message: `the share was created by "bob", who is neither the owner "alice" of workspace nb nor an organization admin: it lets nobody in; ask alice or an organization admin to share the workspace`},
		{name: "an admin annotation other than true counts for nothing", ws: private, share: share("s", "bob", func(s *workspacesv1alpha1.WorkspaceShare) {
			s.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin] = "yes"
		}), reason: workspacesv1alpha1.ReasonCreatorNotOwner},
		{name: "no recorded creator", ws: private, share: share("s", "", func(s *workspacesv1alpha1.WorkspaceShare) { s.Annotations = nil }),
			reason: workspacesv1alpha1.ReasonCreatorNotOwner, message: "created by nobody recorded"},
		{name: "no workspace", share: share("s", "alice"), reason: workspacesv1alpha1.ReasonWorkspaceNotFound, message: "workspace nb does not exist in namespace default"},
		{name: "no owner recorded", ws: workspace("", workspacesv1alpha1.AccessTypeOwnerOnly), share: share("s", "alice", byAdmin), reason: workspacesv1alpha1.ReasonOwnerUnknown},
		{name: "over the quota", ws: private, share: share("s", "alice", func(s *workspacesv1alpha1.WorkspaceShare) {
			s.Status.Conditions = []metav1.Condition{{Type: string(workspacesv1alpha1.ShareConditionAccepted), Status: metav1.ConditionFalse}}
		}), reason: workspacesv1alpha1.ReasonNotAccepted, message: "over the organization's quota"},
		{name: "not judged by the quota yet", ws: private, share: share("s", "alice", func(s *workspacesv1alpha1.WorkspaceShare) { s.Status.Conditions = nil }),
			reason: workspacesv1alpha1.ReasonNotAccepted, message: "not been counted"},
		{name: "a colleague's share over the quota says who may share", ws: private, share: share("s", "bob", func(s *workspacesv1alpha1.WorkspaceShare) { s.Status.Conditions = nil }),
			reason: workspacesv1alpha1.ReasonCreatorNotOwner},
		{name: "a public workspace", ws: workspace("alice", ""), share: share("s", "alice"), reason: workspacesv1alpha1.ReasonNotOwnerOnly,
			message: `workspace nb (owner "alice") has accessType Public`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Judge("default", "nb", tc.ws, []workspacesv1alpha1.WorkspaceShare{tc.share})
			require.Contains(t, got, "s")
			assert.Equal(t, tc.reason, got["s"].Reason, got["s"].Message)
			assert.Equal(t, tc.reason == workspacesv1alpha1.ReasonGranted, got["s"].Granted)
			assert.Contains(t, got["s"].Message, tc.message)
		})
	}

	t.Run("only shares of the workspace, not being deleted", func(t *testing.T) {
		now := metav1.Now()
		got := Judge("default", "nb", private, []workspacesv1alpha1.WorkspaceShare{
			share("other-ws", "alice", func(s *workspacesv1alpha1.WorkspaceShare) { s.Spec.WorkspaceName = "other" }),
			share("other-ns", "alice", func(s *workspacesv1alpha1.WorkspaceShare) { s.Namespace = "elsewhere" }),
			share("deleting", "alice", func(s *workspacesv1alpha1.WorkspaceShare) { s.DeletionTimestamp = &now }),
		})
		assert.Empty(t, got)
	})

	t.Run("principals capped, oldest share first, shared names counted once", func(t *testing.T) {
		names := func(prefix string, n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("%s-%d", prefix, i)
			}
			return out
		}
		half := workspacesv1alpha1.MaxSharedPrincipals / 2
		first := share("first", "alice", func(s *workspacesv1alpha1.WorkspaceShare) {
			s.Spec.Users, s.Spec.Groups = names("u", half), names("g", half-1)
		})
		// Newer, but only names already let in plus one: it fits exactly.
		fits := share("fits", "alice", func(s *workspacesv1alpha1.WorkspaceShare) {
			s.CreationTimestamp = metav1.NewTime(base.Add(time.Minute))
			s.Spec.Users, s.Spec.Groups = append(names("u", 3), "system:anonymous"), []string{"g-0", "last"}
		})
		over := share("over", "alice", func(s *workspacesv1alpha1.WorkspaceShare) {
			s.CreationTimestamp = metav1.NewTime(base.Add(2 * time.Minute))
			s.Spec.Users = []string{"u-0", "one-too-many"}
		})
		// A colleague's share takes no room.
		colleagues := share("colleagues", "bob", func(s *workspacesv1alpha1.WorkspaceShare) { s.Spec.Users = names("x", 10) })
		shares := []workspacesv1alpha1.WorkspaceShare{over, colleagues, fits, first}
		got := Judge("default", "nb", private, shares)
		assert.True(t, got["first"].Granted)
		assert.True(t, got["fits"].Granted, got["fits"].Message)
		assert.Equal(t, workspacesv1alpha1.ReasonTooManyPrincipals, got["over"].Reason)
		assert.Contains(t, got["over"].Message, fmt.Sprintf("already shared with %d users and groups, and this share would make it %d: at most %d",
			workspacesv1alpha1.MaxSharedPrincipals, workspacesv1alpha1.MaxSharedPrincipals+1, workspacesv1alpha1.MaxSharedPrincipals))
		access := Allowed(private, shares)
		assert.Len(t, access.AllowedUsers, half+1, "the owner and the first share's users")
		assert.NotContains(t, access.AllowedUsers, "one-too-many")
		assert.Contains(t, access.AllowedGroups, "last")
	})
}
