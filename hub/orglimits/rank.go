package orglimits

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Rank returns self's place (0-based) among the organization's objects all (self among them or
// not) that hold or want a slot: admitted before the others, then the oldest, then by namespace
// and name. Objects being deleted hold no slot and are skipped; so is self when it is deleting,
// which then ranks last.
func Rank[T client.Object](self T, all []T, admitted func(T) bool) int {
	rank := 0
	for _, o := range all {
		if o.GetNamespace() == self.GetNamespace() && o.GetName() == self.GetName() {
			continue
		}
		if o.GetDeletionTimestamp() != nil {
			continue
		}
		if before(o, self, admitted) {
			rank++
		}
	}
	if self.GetDeletionTimestamp() != nil {
		return len(all)
	}
	return rank
}

func before[T client.Object](a, b T, admitted func(T) bool) bool {
	if aa, ba := admitted(a), admitted(b); aa != ba {
		return aa
	}
	at, bt := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !at.Equal(&bt) {
		return at.Before(&bt)
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	return a.GetName() < b.GetName()
}

// WorkspaceAdmitted reports whether a workspace was admitted before: it has an effective spec,
// which the hub writes only for a valid generation.
func WorkspaceAdmitted(ws *workspacesv1alpha1.Workspace) bool { return ws.Status.Effective != nil }

// ShareAdmitted reports whether a share was accepted before.
func ShareAdmitted(s *workspacesv1alpha1.WorkspaceShare) bool {
	c := workspacesv1alpha1.FindCondition(s.Status.Conditions, workspacesv1alpha1.ShareConditionAccepted)
	return c != nil && c.Status == metav1.ConditionTrue
}

// CheckWorkspace tells whether ws keeps a slot among the organization's workspaces all, under
// limits; when not, the message for its Valid=False condition.
func CheckWorkspace(ws *workspacesv1alpha1.Workspace, all []workspacesv1alpha1.Workspace, limits Limits) (bool, string) {
	ptrs := make([]*workspacesv1alpha1.Workspace, 0, len(all))
	for i := range all {
		ptrs = append(ptrs, &all[i])
	}
	rank := Rank(ws, ptrs, WorkspaceAdmitted)
	if rank < int(limits.Workspaces) {
		return true, ""
	}
	return false, fmt.Sprintf("the organization has reached its limit of %d workspaces (%s, set by the platform team): delete a workspace it no longer needs, or ask the platform team to raise the limit; this workspace is not placed until a slot is free",
		limits.Workspaces, limits.Source)
}
