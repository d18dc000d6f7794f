// Package hubpatch writes the agent's changes to hub Workspaces: a JSON merge patch with
// optimistic locking against the object as read, retried on a conflict against the object as
// it is now.
//
// The hub controller writes the status of the same Workspaces (validity, placement, owner,
// reachability) while the agent adds its finalizer and reports the runtime status, so the
// agent's first attempt often meets a newer resourceVersion than its cache holds. Retrying
// from the cache would meet the same conflict again until the watch event arrives (the error
// requeue backs off meanwhile); reading the object live costs one GET and usually succeeds at
// once. Optimistic locking stays: a merge patch replaces lists (finalizers, conditions)
// whole, so writing without it could drop another writer's entries.
package hubpatch

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Mutate changes ws as the agent wants it and reports whether there is anything to write
// (false: ws is already as wanted, or no longer the agent's to change).
type Mutate func(ws *workspacesv1alpha1.Workspace) bool

// attempts bounds the tries of one Workspace call; each retry reads the object live first.
const attempts = 5

// Workspace applies mutate to ws and patches the hub with c (the object itself, or its status
// subresource when status is true). On a conflict it reads the object with live (bypassing any
// cache) into ws and tries again, a few times. ws holds the object as last read or written.
// live may be nil: a conflict is then returned as it is.
func Workspace(ctx context.Context, c client.Client, live client.Reader, ws *workspacesv1alpha1.Workspace, status bool, mutate Mutate) error {
	err := patch(ctx, c, ws, status, mutate)
	for i := 1; i < attempts && apierrors.IsConflict(err) && live != nil; i++ {
		if gerr := live.Get(ctx, client.ObjectKeyFromObject(ws), ws); gerr != nil {
			return fmt.Errorf("failed to read the workspace after a conflict: %w", gerr)
		}
		err = patch(ctx, c, ws, status, mutate)
	}
	return err
}

func patch(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, status bool, mutate Mutate) error {
	orig := ws.DeepCopy()
	if !mutate(ws) {
		return nil
	}
	p := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if status {
		return c.Status().Patch(ctx, ws, p)
	}
	return c.Patch(ctx, ws, p)
}
