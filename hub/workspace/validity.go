package workspace

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/orglimits"
	"github.com/atrium-dev/atrium/hub/templates"
)

// reconcileValidity checks the organization's workspace limit and resolves the workspace
// against its template and execution profile (hub/templates): the Valid condition and
// status.effective. An invalid workspace keeps its last valid effective spec, so whatever runs
// keeps running as it was validated and an invalid generation never reaches the agent. A
// deleting workspace keeps its last resolution for the agent's cleanup.
func (r *Reconciler) reconcileValidity(ctx context.Context, s *scope) error {
	if s.ws.IsDeleting() {
		return nil
	}
	eff, bad, err := r.resolve(ctx, s)
	if err != nil {
		return err
	}
	now := metav1.NewTime(s.now)
	if bad != nil {
		setCondition(s.ws, workspacesv1alpha1.ConditionValid, metav1.ConditionFalse, bad.Reason, bad.Message, now)
		eff = s.ws.Status.Effective
	} else {
		setCondition(s.ws, workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, workspacesv1alpha1.ReasonResolved,
			fmt.Sprintf("the spec resolved within template %q", eff.Template), now)
	}
	before := s.orig.GetCondition(workspacesv1alpha1.ConditionValid)
	after := s.ws.GetCondition(workspacesv1alpha1.ConditionValid)
	if before == nil || *before != *after || !equality.Semantic.DeepEqual(s.ws.Status.Effective, eff) {
		log.FromContext(ctx).Info("resolving workspace", "valid", after.Status, "reason", after.Reason, "message", after.Message, "template", templateOf(eff))
	}
	s.ws.Status.Effective = eff
	return nil
}

func templateOf(eff *workspacesv1alpha1.EffectiveWorkspaceSpec) string {
	if eff == nil {
		return ""
	}
	return eff.Template
}

// resolve reads the template, the execution profiles and the organization's workspaces, and
// resolves the workspace. An invalid workspace is not an error: it is reported through the
// Valid condition.
func (r *Reconciler) resolve(ctx context.Context, s *scope) (*workspacesv1alpha1.EffectiveWorkspaceSpec, *templates.Invalid, error) {
	if bad, err := r.checkOrganizationLimit(ctx, s); err != nil || bad != nil {
		return nil, bad, err
	}
	tmpl, bad, err := templates.Template(ctx, s.client, s.ws)
	if err != nil || bad != nil {
		return nil, bad, err
	}
	profiles := &workspacesv1alpha1.WorkspaceExecutionProfileList{}
	if err := s.client.List(ctx, profiles); err != nil {
		return nil, nil, fmt.Errorf("failed to list WorkspaceExecutionProfiles: %w", err)
	}
	byName := make(map[string]*workspacesv1alpha1.WorkspaceExecutionProfile, len(profiles.Items))
	for i := range profiles.Items {
		byName[profiles.Items[i].Name] = &profiles.Items[i]
	}
	eff, bad := templates.Resolve(s.ws, tmpl, func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) {
		p, ok := byName[name]
		return p, ok
	})
	if bad == nil {
		s.template = tmpl
	}
	return eff, bad, nil
}

// checkOrganizationLimit refuses the workspace when the organization has as many workspaces
// as its OrganizationQuota allows and this one holds no slot (hub/orglimits).
func (r *Reconciler) checkOrganizationLimit(ctx context.Context, s *scope) (*templates.Invalid, error) {
	limits, err := r.Quotas.For(ctx, s.logicalCluster())
	if err != nil {
		return nil, err
	}
	all := &workspacesv1alpha1.WorkspaceList{}
	if err := s.client.List(ctx, all); err != nil {
		return nil, fmt.Errorf("failed to list the organization's workspaces: %w", err)
	}
	if ok, msg := orglimits.CheckWorkspace(s.orig, all.Items, limits); !ok {
		return &templates.Invalid{Reason: workspacesv1alpha1.ReasonOrganizationLimitReached, Message: msg}, nil
	}
	return nil, nil
}
