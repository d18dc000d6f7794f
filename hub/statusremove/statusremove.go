package statusremove

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ConditionPatch returns the JSON patch removing the condition of type t from ws's status as
// seen, or nil when ws has none.
func ConditionPatch(ws *workspacesv1alpha1.Workspace, t workspacesv1alpha1.ConditionType) client.Patch {
	for i, c := range ws.Status.Conditions {
		if c.Type != string(t) {
			continue
		}
		path := fmt.Sprintf("/status/conditions/%d", i)
		return jsonPatch([]map[string]any{
			{"op": "test", "path": path + "/type", "value": string(t)},
			{"op": "remove", "path": path},
		})
	}
	return nil
}

// Condition removes the condition of type t from ws's status, if it has one.
func Condition(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, t workspacesv1alpha1.ConditionType) error {
	p := ConditionPatch(ws, t)
	if p == nil {
		return nil
	}
	if err := c.Status().Patch(ctx, target(ws), p); err != nil {
		return fmt.Errorf("failed to remove condition %s: %w", t, err)
	}
	return nil
}

// Field removes the top-level status field (e.g. "access") of ws.
func Field(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, field string) error {
	p := jsonPatch([]map[string]any{{"op": "remove", "path": "/status/" + field}})
	if err := c.Status().Patch(ctx, target(ws), p); err != nil {
		return fmt.Errorf("failed to remove status.%s: %w", field, err)
	}
	return nil
}

func target(ws *workspacesv1alpha1.Workspace) *workspacesv1alpha1.Workspace {
	t := &workspacesv1alpha1.Workspace{}
	t.Namespace, t.Name = ws.Namespace, ws.Name
	return t
}

func jsonPatch(ops []map[string]any) client.Patch {
	raw, _ := json.Marshal(ops) // strings and numbers always encode
	return client.RawPatch(types.JSONPatchType, raw)
}
