package v1alpha1

// Helpers for user interfaces (the CLI and the console) that show a workspace.

// DisplayPhase is status.phase, with what the agent cannot say yet filled in: Deleting once
// deletion is requested, Stopped for a stopped workspace no agent has reported on, else Pending.
func (w *Workspace) DisplayPhase() WorkspacePhase {
	switch {
	case w.IsDeleting():
		return WorkspacePhaseDeleting
	case w.Status.Phase != "":
		return w.Status.Phase
	case w.IsStopped():
		return WorkspacePhaseStopped
	}
	return WorkspacePhasePending
}

// OwnerName is the owner the hub recorded (status.owner), else the creator annotation the hub
// has not recorded yet; "" when there is none.
func (w *Workspace) OwnerName() string {
	if w.Status.Owner != nil && w.Status.Owner.Username != "" {
		return w.Status.Owner.Username
	}
	return w.Annotations[AnnotationCreatedBy]
}
