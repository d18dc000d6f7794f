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
//
// The agent's own writes come in quick succession (the finalizer, then each status change)
// while the hub's watch events reach the cache seconds later on a busy hub, so most conflicts
// would be with the agent's own previous write. A Writer remembers what it last wrote to each
// workspace and starts from that while the cache still shows the version it wrote over.
package hubpatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// attempts bounds the tries of one write; each retry reads the object live first.
const attempts = 5

// rememberFor is how long a Writer keeps what it wrote: far longer than a watch event takes
// to reach the cache.
const rememberFor = time.Minute

// Mutate changes ws as the agent wants it and reports whether there is anything to write
// (false: ws is already as wanted, or no longer the agent's to change).
type Mutate func(ws *workspacesv1alpha1.Workspace) bool

// Writer writes hub Workspaces; the zero value is ready to use and safe for concurrent use.
type Writer struct {
	mu        sync.Mutex
	written   map[types.UID]written
	lastSweep time.Time
}

// written is the answer to a write, and the version it was made on.
type written struct {
	base string
	obj  *workspacesv1alpha1.Workspace
	at   time.Time
}

// Workspace applies mutate to ws and patches the hub with c (the object itself, or its status
// subresource when status is true). When ws is the version this Writer last wrote over, it
// starts from what it wrote instead. On a conflict it reads the object with live (bypassing
// any cache) into ws and tries again, a few times. ws holds the object as last read or
// written. live may be nil: a conflict is then returned as it is.
func (w *Writer) Workspace(ctx context.Context, c client.Client, live client.Reader, ws *workspacesv1alpha1.Workspace, status bool, mutate Mutate) error {
	w.catchUp(ws)
	base := ws.ResourceVersion
	wrote, err := patch(ctx, c, ws, status, mutate)
	for i := 1; i < attempts && apierrors.IsConflict(err) && live != nil; i++ {
		if gerr := live.Get(ctx, client.ObjectKeyFromObject(ws), ws); gerr != nil {
			return fmt.Errorf("failed to read the workspace after a conflict: %w", gerr)
		}
		base = ws.ResourceVersion
		wrote, err = patch(ctx, c, ws, status, mutate)
	}
	if err == nil && wrote {
		w.remember(base, ws)
	}
	return err
}

// Workspace writes with a Writer of its own, remembering nothing across calls.
func Workspace(ctx context.Context, c client.Client, live client.Reader, ws *workspacesv1alpha1.Workspace, status bool, mutate Mutate) error {
	return (&Writer{}).Workspace(ctx, c, live, ws, status, mutate)
}

// catchUp replaces ws by what this Writer wrote over ws's version, if it did.
func (w *Writer) catchUp(ws *workspacesv1alpha1.Workspace) {
	w.mu.Lock()
	defer w.mu.Unlock()
	last, ok := w.written[ws.UID]
	switch {
	case !ok:
	case last.base == ws.ResourceVersion:
		last.obj.DeepCopyInto(ws) // the cache is behind our own write
	default:
		delete(w.written, ws.UID) // the cache caught up, or someone else wrote since
	}
}

func (w *Writer) remember(base string, ws *workspacesv1alpha1.Workspace) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.written == nil {
		w.written = map[types.UID]written{}
	}
	if now.Sub(w.lastSweep) > rememberFor {
		for uid, e := range w.written {
			if now.Sub(e.at) > rememberFor {
				delete(w.written, uid)
			}
		}
		w.lastSweep = now
	}
	w.written[ws.UID] = written{base: base, obj: ws.DeepCopy(), at: now}
}

// patch applies mutate and writes, reporting whether it wrote.
func patch(ctx context.Context, c client.Client, ws *workspacesv1alpha1.Workspace, status bool, mutate Mutate) (bool, error) {
	orig := ws.DeepCopy()
	if !mutate(ws) {
		return false, nil
	}
	p := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if status {
		return true, c.Status().Patch(ctx, ws, p)
	}
	return true, c.Patch(ctx, ws, p)
}
