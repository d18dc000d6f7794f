package workspace

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/owner"
)

// The per-user limit is a template's maxRunningWorkspacesPerUser (Theia.Cloud's
// sessionsPerUser): how many workspaces of that template one owner may run at a time in an
// organization.
//
// The policy lives on the WorkspaceTemplate only: an organization that wants one limit for
// everything gives all its templates the same value. The count is over the organization's
// logical cluster, which holds every workspace of the organization whichever compute cluster
// runs it: the workspaces of the same owner and template whose spec.desiredStatus is Running
// and that are not being deleted. A workspace asking to run before it is placed or available
// holds a slot too, so two quick creates cannot both slip through.
//
// Who keeps a slot is decided the same way by every reconcile: workspaces already admitted
// (condition UserLimit=True) first, then the oldest by creationTimestamp, then by namespace
// and name. A workspace ranked beyond the limit gets UserLimit=False (UserLimitReached, naming
// the limit and the workspaces holding the slots) and its spec.desiredStatus is set to
// Stopped (stop.go); it runs again only when the tenant sets Running again and a slot is
// free. The owner is the one hub/owner reads; a workspace without one cannot be counted and is
// not run (UserLimit=False, OwnerUnknown). Workspaces whose template sets no limit have no
// UserLimit condition.

// ownerIndex indexes hub Workspaces by the username of their owner.
const ownerIndex = "atrium.dev/owner"

// reconcileLimits decides whether the workspace keeps one of its owner's slots under its
// template's limit (UserLimit), and stops it when it does not.
func (r *Reconciler) reconcileLimits(ctx context.Context, s *scope) error {
	ws := s.ws
	if ws.IsDeleting() {
		return nil
	}
	template := TemplateOf(ws)
	limit, err := limitOf(ctx, s.client, template)
	if err != nil {
		return err
	}
	switch {
	case limit == 0:
		removeCondition(ws, workspacesv1alpha1.ConditionUserLimit)
		return nil
	case ws.IsStopped():
		// Stopped by the tenant or by us: a refusal stays visible until the tenant asks again;
		// a slot is given up.
		if c := ws.GetCondition(workspacesv1alpha1.ConditionUserLimit); c == nil || c.Status != metav1.ConditionFalse {
			removeCondition(ws, workspacesv1alpha1.ConditionUserLimit)
		}
		return nil
	}

	// Only the owner's workspaces compete with ws (DecideUserLimit ignores the others): list those,
	// not the organization's.
	var mine []workspacesv1alpha1.Workspace
	if o := owner.Of(ws); o != nil {
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := s.client.List(ctx, list, client.MatchingFields{ownerIndex: o.Username}); err != nil {
			return fmt.Errorf("failed to list the workspaces of %s: %w", o.Username, err)
		}
		mine = list.Items
	}
	d := DecideUserLimit(s.orig, mine, template, limit)
	status := metav1.ConditionTrue
	if !d.Admitted {
		status = metav1.ConditionFalse
	}
	// The reason is recorded with the status write, before the stop, so a stopped workspace
	// always says why.
	setCondition(ws, workspacesv1alpha1.ConditionUserLimit, status, d.Reason, d.Message, metav1.NewTime(s.now))
	if !d.Admitted {
		s.stop = string(d.Reason)
		log.FromContext(ctx).Info("stopping workspace over its owner's limit", "template", template, "limit", limit, "message", d.Message)
	}
	return nil
}

// limitOf reads the per-user limit of the named template; 0 means none.
func limitOf(ctx context.Context, c client.Reader, template string) (int32, error) {
	if template == "" {
		return 0, nil
	}
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
	if err := c.Get(ctx, client.ObjectKey{Name: template}, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil // the validity phase reports the missing template
		}
		return 0, fmt.Errorf("failed to get WorkspaceTemplate %s: %w", template, err)
	}
	if tmpl.Spec.MaxRunningWorkspacesPerUser == nil || *tmpl.Spec.MaxRunningWorkspacesPerUser < 1 {
		return 0, nil
	}
	return *tmpl.Spec.MaxRunningWorkspacesPerUser, nil
}

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

// DecideUserLimit ranks the workspaces of self's owner and template in all (the organization's
// workspaces, self included or not) and tells whether self, which asks to run, keeps a slot
// under limit. template names the template in messages.
func DecideUserLimit(self *workspacesv1alpha1.Workspace, all []workspacesv1alpha1.Workspace, template string, limit int32) Decision {
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
