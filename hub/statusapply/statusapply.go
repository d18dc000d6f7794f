package statusapply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Condition returns the condition for ws's current generation, keeping the transition time of
// the existing condition of that type when its status does not change.
func Condition(ws *workspacesv1alpha1.Workspace, t workspacesv1alpha1.ConditionType, status metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason, message string, now metav1.Time) metav1.Condition {
	c := metav1.Condition{
		Type:               string(t),
		Status:             status,
		Reason:             string(reason),
		Message:            message,
		ObservedGeneration: ws.Generation,
		LastTransitionTime: now,
	}
	if prev := ws.GetCondition(t); prev != nil && prev.Status == status {
		c.LastTransitionTime = prev.LastTransitionTime
	}
	return c
}

// ConditionsMatch reports whether ws already has every condition of want (same status, reason,
// message and observed generation), so no write is needed.
func ConditionsMatch(ws *workspacesv1alpha1.Workspace, want ...metav1.Condition) bool {
	for _, c := range want {
		h := meta.FindStatusCondition(ws.Status.Conditions, c.Type)
		if h == nil || h.Status != c.Status || h.Reason != c.Reason || h.Message != c.Message || h.ObservedGeneration != c.ObservedGeneration {
			return false
		}
	}
	return true
}

// Conditions encodes conditions for an apply.
func Conditions(conds ...metav1.Condition) ([]any, error) {
	out := make([]any, 0, len(conds))
	for i := range conds {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&conds[i])
		if err != nil {
			return nil, fmt.Errorf("failed to encode condition %s: %w", conds[i].Type, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// Encode converts a typed value (e.g. an EffectiveWorkspaceSpec) to its unstructured form.
func Encode(v any) (map[string]any, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
	if err != nil {
		return nil, fmt.Errorf("failed to encode %T: %w", v, err)
	}
	return u, nil
}

// Workspace applies status (the complete set of keys manager owns) to the hub Workspace ws.
func Workspace(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, manager string, status map[string]any) error {
	return applyStatus(ctx, c, ws, manager, status, "")
}

// WorkspaceUnchanged applies status like Workspace, but only to the version of ws it was
// decided on: when the object changed since (ws came from a cache that was behind, or another
// writer came first), the API answers Conflict and nothing is written.
func WorkspaceUnchanged(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, manager string, status map[string]any) error {
	return applyStatus(ctx, c, ws, manager, status, ws.ResourceVersion)
}

func applyStatus(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, manager string, status map[string]any, resourceVersion string) error {
	apply := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	apply.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	apply.SetKind("Workspace")
	apply.SetNamespace(ws.Namespace)
	apply.SetName(ws.Name)
	apply.SetResourceVersion(resourceVersion)
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(manager), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply workspace status as %s: %w", manager, err)
	}
	return nil
}

// WorkspaceLabels applies the labels manager owns on the hub Workspace ws (metadata only).
func WorkspaceLabels(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, manager string, labels map[string]string) error {
	apply := &unstructured.Unstructured{}
	apply.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	apply.SetKind("Workspace")
	apply.SetNamespace(ws.Namespace)
	apply.SetName(ws.Name)
	apply.SetLabels(labels)
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(manager), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply workspace labels as %s: %w", manager, err)
	}
	return nil
}
