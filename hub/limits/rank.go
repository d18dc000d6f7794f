package limits

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/owner"
)

// TemplateOf is the template whose limit applies to ws: the one the hub resolved it against,
// else the one it names.
func TemplateOf(ws *workspacesv1alpha1.Workspace) string {
	if e := ws.Status.Effective; e != nil && e.Template != "" {
		return e.Template
	}
	if ws.Spec.TemplateRef != nil {
		return ws.Spec.TemplateRef.Name
	}
	return ""
}

// Decision is the verdict for one workspace that asks to run under a limit.
type Decision struct {
	// Admitted is true when the workspace holds one of its owner's slots.
	Admitted bool
	// Reason and Message are those of the UserLimit condition.
	Reason  workspacesv1alpha1.ConditionReason
	Message string
}

// Decide ranks the workspaces of self's owner and template in all (the organization's
// workspaces, self included or not) and tells whether self, which asks to run, keeps a slot
// under limit. template names the template in messages.
func Decide(self *workspacesv1alpha1.Workspace, all []workspacesv1alpha1.Workspace, template string, limit int32) Decision {
	o := owner.Of(self)
	if o == nil {
		return Decision{Reason: workspacesv1alpha1.ReasonOwnerUnknown, Message: fmt.Sprintf(
			"template %s allows each user %d running workspaces, and this workspace has no recorded owner (metadata.annotations[%q]; it was created before the hub recorded creators): recreate it",
			template, limit, workspacesv1alpha1.AnnotationCreatedBy)}
	}
	contenders := []*workspacesv1alpha1.Workspace{self}
	for i := range all {
		ws := &all[i]
		if ws.UID == self.UID && ws.Namespace == self.Namespace && ws.Name == self.Name {
			continue
		}
		if ws.IsDeleting() || ws.IsStopped() || TemplateOf(ws) != template {
			continue
		}
		if other := owner.Of(ws); other == nil || other.Username != o.Username {
			continue
		}
		contenders = append(contenders, ws)
	}
	sort.SliceStable(contenders, func(i, j int) bool { return before(contenders[i], contenders[j]) })
	rank := 0
	for contenders[rank] != self {
		rank++
	}
	if int32(rank) < limit {
		running := min(int32(len(contenders)), limit)
		return Decision{Admitted: true, Reason: workspacesv1alpha1.ReasonWithinUserLimit, Message: fmt.Sprintf(
			"%s runs %d of %d workspaces allowed by template %s", o.Username, running, limit, template)}
	}
	holders := make([]string, 0, limit)
	for _, ws := range contenders[:limit] {
		holders = append(holders, ws.Namespace+"/"+ws.Name)
	}
	return Decision{Reason: workspacesv1alpha1.ReasonUserLimitReached, Message: fmt.Sprintf(
		"%s already runs %d of %d workspaces allowed by template %s (%s): stop one of them, then set spec.desiredStatus to Running again",
		o.Username, limit, limit, template, strings.Join(holders, ", "))}
}

// before orders contenders for slots: admitted ones first, then the oldest, then by name.
func before(a, b *workspacesv1alpha1.Workspace) bool {
	if aa, ba := admitted(a), admitted(b); aa != ba {
		return aa
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

func admitted(ws *workspacesv1alpha1.Workspace) bool {
	c := ws.GetCondition(workspacesv1alpha1.ConditionUserLimit)
	return c != nil && c.Status == metav1.ConditionTrue
}
