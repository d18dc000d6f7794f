package autostop

import (
	"context"
	"encoding/json"
	"fmt"

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

// Stop sets spec.desiredStatus of ws to Stopped; see the package documentation.
func Stop(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace) error {
	target := &workspacesv1alpha1.Workspace{}
	target.Namespace, target.Name = ws.Namespace, ws.Name
	if err := c.Patch(ctx, target, Patch(ws)); err != nil {
		return fmt.Errorf("failed to set spec.desiredStatus to Stopped (generation %d): %w", ws.Generation, err)
	}
	return nil
}
