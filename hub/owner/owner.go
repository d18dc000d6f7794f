package owner

import (
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Of returns the owner of ws as the hub's creator webhook recorded it, or nil when the
// workspace has no atrium.dev/created-by annotation.
func Of(ws *workspacesv1alpha1.Workspace) *workspacesv1alpha1.WorkspaceOwner {
	name := ws.Annotations[workspacesv1alpha1.AnnotationCreatedBy]
	if name == "" {
		return nil
	}
	return &workspacesv1alpha1.WorkspaceOwner{Username: name}
}
