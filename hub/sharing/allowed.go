package sharing

import (
	"fmt"
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

// Verdict is whether one WorkspaceShare lets the users and groups it names into its
// workspace, and why: the share's Granted condition (hub/orglimits writes it) and
// status.access of the workspace (Allowed) both come from it.
type Verdict struct {
	// Granted is true when the share counts.
	Granted bool
	// Reason is ReasonGranted or the first reason it does not count.
	Reason workspacesv1alpha1.ConditionReason
	// Message says it in a tenant's words, naming the workspace's owner.
	Message string
}

// Judge returns the verdict of every share of shares that names ws by its namespace and
// name; ws is nil when the workspace named namespace/name does not exist. Shares naming other
// workspaces and shares being deleted get none. A share counts when, in this order:
//
//   - the workspace exists (WorkspaceNotFound) and has a recorded owner (OwnerUnknown: an
//     OwnerOnly workspace without one allows nobody, it fails closed);
//   - its recorded creator (atrium.dev/created-by, which the hub's creator webhook writes and
//     nobody can forge) is the workspace's owner, or an organization admin created it
//     (atrium.dev/created-by-admin, likewise): a member who may create shares cannot let
//     themselves into a colleague's workspace (CreatorNotOwner);
//   - it is Accepted within the organization's quota of shares (hub/orglimits; a new share
//     grants nothing until it is judged) (NotAccepted);
//   - the workspace is OwnerOnly: a Public workspace lets every member in, and shares change
//     nothing (NotOwnerOnly);
//   - the distinct users and groups of the workspace's granted shares, oldest share first,
//     stay within MaxSharedPrincipals with it (TooManyPrincipals).
//
// System identities and groups (system:*) never count, also in shares stored before the API
// refused them; they do not decide the verdict.
func Judge(namespace, name string, ws *workspacesv1alpha1.Workspace, shares []workspacesv1alpha1.WorkspaceShare) map[string]Verdict {
	mine := make([]*workspacesv1alpha1.WorkspaceShare, 0, len(shares))
	for i := range shares {
		s := &shares[i]
		if s.Namespace == namespace && s.Spec.WorkspaceName == name && s.DeletionTimestamp.IsZero() {
			mine = append(mine, s)
		}
	}
	// Oldest first, so that a new share never takes an older one's place under the cap.
	sort.SliceStable(mine, func(i, j int) bool {
		a, b := mine[i], mine[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	out := make(map[string]Verdict, len(mine))
	seen := map[string]bool{}
	for _, s := range mine {
		v := judgeOne(name, ws, s)
		if v.Granted {
			added := 0
			for _, p := range principals(s) {
				if !seen[p] {
					added++
				}
			}
			if len(seen)+added > workspacesv1alpha1.MaxSharedPrincipals {
				v = Verdict{Reason: workspacesv1alpha1.ReasonTooManyPrincipals, Message: fmt.Sprintf(
					"workspace %s is already shared with %d users and groups, and this share would make it %d: at most %d may be let in by shares; remove names from older shares or delete those no longer needed",
					name, len(seen), len(seen)+added, workspacesv1alpha1.MaxSharedPrincipals)}
			} else {
				for _, p := range principals(s) {
					seen[p] = true
				}
			}
		}
		out[s.Name] = v
	}
	return out
}

// judgeOne is the verdict of s on its own, the cap aside.
func judgeOne(name string, ws *workspacesv1alpha1.Workspace, s *workspacesv1alpha1.WorkspaceShare) Verdict {
	if ws == nil {
		return Verdict{Reason: workspacesv1alpha1.ReasonWorkspaceNotFound, Message: fmt.Sprintf(
			"workspace %s does not exist in namespace %s: the share grants nothing until it does, and then only if it was created by the workspace's owner or an organization admin",
			name, s.Namespace)}
	}
	o := owner.Of(ws)
	if o == nil {
		return Verdict{Reason: workspacesv1alpha1.ReasonOwnerUnknown, Message: fmt.Sprintf(
			"workspace %s has no recorded owner, so no share of it lets anyone in", name)}
	}
	creator := s.Annotations[workspacesv1alpha1.AnnotationCreatedBy]
	byAdmin := s.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin] == "true"
	if creator != o.Username && !byAdmin {
		who := fmt.Sprintf("by %q", creator)
		if creator == "" {
			who = "by nobody recorded"
		}
		return Verdict{Reason: workspacesv1alpha1.ReasonCreatorNotOwner, Message: fmt.Sprintf(
			"the share was created %s, who is neither the owner %q of workspace %s nor an organization admin: it lets nobody in; ask %s or an organization admin to share the workspace",
			who, o.Username, name, o.Username)}
	}
	if c := workspacesv1alpha1.FindCondition(s.Status.Conditions, workspacesv1alpha1.ShareConditionAccepted); c == nil || c.Status != metav1.ConditionTrue {
		msg := "the share has not been counted against the organization's quota of shares yet"
		if c != nil {
			msg = "the share is over the organization's quota of shares (see its Accepted condition): it lets nobody in"
		}
		return Verdict{Reason: workspacesv1alpha1.ReasonNotAccepted, Message: msg}
	}
	if t := AccessType(ws); t != workspacesv1alpha1.AccessTypeOwnerOnly {
		return Verdict{Reason: workspacesv1alpha1.ReasonNotOwnerOnly, Message: fmt.Sprintf(
			"workspace %s (owner %q) has accessType %s: every member of the organization may connect, and the share changes nothing until it is OwnerOnly",
			name, o.Username, t)}
	}
	by := "its owner"
	if creator != o.Username {
		by = fmt.Sprintf("the organization admin %q", creator)
	}
	return Verdict{Granted: true, Reason: workspacesv1alpha1.ReasonGranted, Message: fmt.Sprintf(
		"shared by %s: the share's users and groups may connect to workspace %s (owner %q)", by, name, o.Username)}
}

// principals are the users and groups a share lets in, system identities left out, each
// prefixed with its kind so that a user and a group of one name are two.
func principals(s *workspacesv1alpha1.WorkspaceShare) []string {
	out := make([]string, 0, len(s.Spec.Users)+len(s.Spec.Groups))
	for _, u := range s.Spec.Users {
		if u != "" && !strings.HasPrefix(u, "system:") {
			out = append(out, "user:"+u)
		}
	}
	for _, g := range s.Spec.Groups {
		if g != "" && !strings.HasPrefix(g, "system:") {
			out = append(out, "group:"+g)
		}
	}
	return out
}

// Allowed computes status.access of ws from the shares of its namespace: the owner and the
// users and groups of every share Judge grants. It returns nil unless the access type is
// OwnerOnly; then it returns a non-nil value even when nobody is allowed.
func Allowed(ws *workspacesv1alpha1.Workspace, shares []workspacesv1alpha1.WorkspaceShare) *workspacesv1alpha1.WorkspaceAccess {
	if AccessType(ws) != workspacesv1alpha1.AccessTypeOwnerOnly {
		return nil
	}
	users, groups := map[string]bool{}, map[string]bool{}
	if o := owner.Of(ws); o != nil {
		users[o.Username] = true
	}
	verdicts := Judge(ws.Namespace, ws.Name, ws, shares)
	for i := range shares {
		s := &shares[i]
		if v, ok := verdicts[s.Name]; !ok || !v.Granted || s.Namespace != ws.Namespace {
			continue
		}
		for _, p := range principals(s) {
			if u, ok := strings.CutPrefix(p, "user:"); ok {
				users[u] = true
			} else {
				groups[strings.TrimPrefix(p, "group:")] = true
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
