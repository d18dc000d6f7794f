package sharing

import (
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/owner"
)

// AccessType is the access type in force for ws: the hub's effective value, else the
// workspace's own, else Public.
func AccessType(ws *workspacesv1alpha1.Workspace) workspacesv1alpha1.AccessType {
	if e := ws.Status.Effective; e != nil && e.AccessType != "" {
		return e.AccessType
	}
	if ws.Spec.AccessType != "" {
		return ws.Spec.AccessType
	}
	return workspacesv1alpha1.AccessTypePublic
}

// Allowed computes status.access of ws from the shares of its namespace. Only the owner shares
// a workspace: a share counts when its recorded creator (the annotation atrium.dev/created-by,
// which the hub's creator webhook writes and nobody can forge) is the workspace's owner, so a
// member who may create shares cannot let themselves into a colleague's workspace. Shares
// naming other workspaces, being deleted, created by anyone else, or not Accepted within the
// organization's quota (hub/orglimits) are ignored; a workspace without a recorded owner has
// no valid shares. It returns nil unless the access type is
// OwnerOnly; then it returns a non-nil value even when nobody is allowed.
func Allowed(ws *workspacesv1alpha1.Workspace, shares []workspacesv1alpha1.WorkspaceShare) *workspacesv1alpha1.WorkspaceAccess {
	if AccessType(ws) != workspacesv1alpha1.AccessTypeOwnerOnly {
		return nil
	}
	users, groups := map[string]bool{}, map[string]bool{}
	o := owner.Of(ws)
	if o != nil {
		users[o.Username] = true
	}
	for i := range shares {
		s := &shares[i]
		if s.Namespace != ws.Namespace || s.Spec.WorkspaceName != ws.Name || !s.DeletionTimestamp.IsZero() {
			continue
		}
		if o == nil || s.Annotations[workspacesv1alpha1.AnnotationCreatedBy] != o.Username {
			continue
		}
		// Only shares within the organization's quota grant access (hub/orglimits); a new
		// share grants nothing until it is judged.
		if c := workspacesv1alpha1.FindCondition(s.Status.Conditions, workspacesv1alpha1.ShareConditionAccepted); c == nil || c.Status != metav1.ConditionTrue {
			continue
		}
		// System identities and groups grant nothing, also in shares stored before the API
		// refused them (system:authenticated would let in everyone the hub authenticates).
		for _, u := range s.Spec.Users {
			if u != "" && !strings.HasPrefix(u, "system:") {
				users[u] = true
			}
		}
		for _, g := range s.Spec.Groups {
			if g != "" && !strings.HasPrefix(g, "system:") {
				groups[g] = true
			}
		}
	}
	return &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: sorted(users), AllowedGroups: sorted(groups)}
}

func sorted(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
