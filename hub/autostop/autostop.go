package autostop

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

// Patch returns the JSON patch that stops ws if its spec is still at ws's generation and
// asks to run.
func Patch(ws *workspacesv1alpha1.Workspace) client.Patch {
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": ws.Generation},
		{"op": "test", "path": "/spec/desiredStatus", "value": string(workspacesv1alpha1.DesiredStatusRunning)},
		{"op": "replace", "path": "/spec/desiredStatus", "value": string(workspacesv1alpha1.DesiredStatusStopped)},
	}
	if ws.Spec.DesiredStatus == "" {
		// Written without defaulting (Go clients of the past): add rather than test and replace.
		ops = []map[string]any{
			{"op": "test", "path": "/metadata/generation", "value": ws.Generation},
			{"op": "add", "path": "/spec/desiredStatus", "value": string(workspacesv1alpha1.DesiredStatusStopped)},
		}
	}
	raw, _ := json.Marshal(ops) // maps of strings and numbers always encode
	return client.RawPatch(types.JSONPatchType, raw)
}

// ErrSpecChanged is returned by Stop when the spec changed since ws was read: decide again on
// fresh data (the change's own event requeues the workspace).
var ErrSpecChanged = errors.New("the workspace's spec changed since it was read")

// Stop sets spec.desiredStatus of ws to Stopped; see the package documentation.
func Stop(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) error {
	target := &workspacesv1alpha1.Workspace{}
	target.Namespace, target.Name = ws.Namespace, ws.Name
	err := c.Patch(ctx, target, Patch(ws))
	switch {
	case err == nil:
		return nil
	case apierrors.IsBadRequest(err), apierrors.IsInvalid(err), apierrors.IsConflict(err):
		// A failed test operation: the generation or desiredStatus moved on.
		return fmt.Errorf("failed to set spec.desiredStatus to Stopped (generation %d): %w: %w", ws.Generation, ErrSpecChanged, err)
	default:
		return fmt.Errorf("failed to set spec.desiredStatus to Stopped (generation %d): %w", ws.Generation, err)
	}
}
