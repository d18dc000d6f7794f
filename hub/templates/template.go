package templates

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Template returns the WorkspaceTemplate that governs ws: the one spec.templateRef names; else
// the one its last valid resolution pinned (status.effective.template), so moving the
// organization's default-template label never changes a workspace that already runs; else the
// organization's default template, the one WorkspaceTemplate labelled
// workspaces.atrium.dev/default-template=true. A missing template, or no or several default
// templates, make the workspace invalid, never an error.
func Template(ctx context.Context, c client.Reader, ws *workspacesv1alpha1.Workspace) (*workspacesv1alpha1.WorkspaceTemplate, *Invalid, error) {
	if name := ws.TemplateName(); name != "" {
		field := "spec.templateRef.name"
		if ws.Spec.TemplateRef == nil {
			field = "the default template this workspace was first resolved with (status.effective.template)"
		}
		tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, tmpl); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, invalid(workspacesv1alpha1.ReasonTemplateNotFound, "%s %q: no WorkspaceTemplate of that name exists in this organization", field, name), nil
			}
			return nil, nil, fmt.Errorf("failed to get WorkspaceTemplate %s: %w", name, err)
		}
		return tmpl, nil, nil
	}
	list := &workspacesv1alpha1.WorkspaceTemplateList{}
	if err := c.List(ctx, list, client.MatchingLabels{workspacesv1alpha1.LabelDefaultTemplate: "true"}); err != nil {
		return nil, nil, fmt.Errorf("failed to list the default WorkspaceTemplates: %w", err)
	}
	var defaults []*workspacesv1alpha1.WorkspaceTemplate
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			defaults = append(defaults, &list.Items[i])
		}
	}
	switch len(defaults) {
	case 1:
		return defaults[0], nil, nil
	case 0:
		return nil, invalid(workspacesv1alpha1.ReasonDefaultTemplateMissing,
			"spec.templateRef is not set and the organization has no default template: name a WorkspaceTemplate in spec.templateRef, or ask an organization admin to label one %s=true",
			workspacesv1alpha1.LabelDefaultTemplate), nil
	default:
		names := make([]string, 0, len(defaults))
		for _, t := range defaults {
			names = append(names, t.Name)
		}
		sort.Strings(names)
		return nil, invalid(workspacesv1alpha1.ReasonDefaultTemplateAmbiguous,
			"spec.templateRef is not set and %d WorkspaceTemplates are labelled %s=true (%s): name one in spec.templateRef, or ask an organization admin to keep the label on one only",
			len(names), workspacesv1alpha1.LabelDefaultTemplate, strings.Join(names, ", ")), nil
	}
}
