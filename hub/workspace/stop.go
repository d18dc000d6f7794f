package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// The hub stops a running workspace on its own initiative (idle timeout, lifetime, per-user
// limit) by setting spec.desiredStatus to Stopped; it never deletes anything, so the workspace
// keeps its storage and the tenant starts it again by setting Running.
//
// The spec patch is a JSON patch whose test operations lock it optimistically on what the
// decision was based on: the generation (so any spec change since, including the tenant's own
// stop or restart, makes it fail and the reconciler decides again) and desiredStatus Running.
// Locking on the generation instead of the resourceVersion keeps the frequent status writes of
// the agent (last activity, conditions) from failing every attempt.

// stopPatch returns the JSON patch that stops ws if its spec is still at ws's generation and
// asks to run.
func stopPatch(ws *workspacesv1alpha1.Workspace) client.Patch {
	ops := []patchOp{
		{Op: "test", Path: "/metadata/generation", Value: ws.Generation},
		{Op: "test", Path: "/spec/desiredStatus", Value: string(workspacesv1alpha1.DesiredStatusRunning)},
		{Op: "replace", Path: "/spec/desiredStatus", Value: string(workspacesv1alpha1.DesiredStatusStopped)},
	}
	if ws.Spec.DesiredStatus == "" {
		// Written without defaulting (Go clients of the past): add rather than test and replace.
		ops = []patchOp{
			{Op: "test", Path: "/metadata/generation", Value: ws.Generation},
			{Op: "add", Path: "/spec/desiredStatus", Value: string(workspacesv1alpha1.DesiredStatusStopped)},
		}
	}
	raw, _ := json.Marshal(ops) // strings and numbers always encode
	return client.RawPatch(types.JSONPatchType, raw)
}

// errSpecChanged is returned by stop when the spec changed since ws was read: decide again on
// fresh data (the change's own event requeues the workspace).
var errSpecChanged = errors.New("the workspace's spec changed since it was read")

// stop sets spec.desiredStatus of ws to Stopped; into receives the server's answer.
func stop(ctx context.Context, c client.Client, ws, into *workspacesv1alpha1.Workspace) error {
	err := c.Patch(ctx, into, stopPatch(ws), client.FieldOwner(FieldManager))
	switch {
	case err == nil:
		return nil
	case apierrors.IsBadRequest(err), apierrors.IsInvalid(err), apierrors.IsConflict(err):
		// A failed test operation: the generation or desiredStatus moved on.
		return fmt.Errorf("failed to set spec.desiredStatus to Stopped (generation %d): %w: %w", ws.Generation, errSpecChanged, err)
	default:
		return fmt.Errorf("failed to set spec.desiredStatus to Stopped (generation %d): %w", ws.Generation, err)
	}
}
