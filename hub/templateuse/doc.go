// Package templateuse keeps WorkspaceTemplates alive while workspaces use them. It counts the
// workspaces referencing each template (status.workspaceCount), adds the finalizer
// workspaces.atrium.dev/template-in-use with the first of them and removes it with the last,
// so deleting a template in use waits, with the InUse condition saying how many workspaces
// hold it. Templates are immutable, so a workspace's effective spec never changes under it;
// the finalizer keeps the template readable for re-resolution as long as anyone needs it.
package templateuse
