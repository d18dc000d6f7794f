package workspacesync

import (
	"context"
	"errors"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// errConflict says a hub write met a newer version of the workspace than the one it was made
// on; reconcile requeues the workspace after a jittered backoff instead of retrying at once.
var errConflict = errors.New("the hub workspace changed meanwhile")

// patchHub applies mutate to s.ws and writes the change to the hub: a JSON merge patch with
// optimistic locking against s.ws as it was (its status subresource for WriteStatus). A merge
// patch replaces lists (finalizers, conditions) whole, so without the lock another writer's
// entries could be dropped. On success s.ws is the object the hub returned, and it is
// remembered; on failure s.ws is left as it was. A conflict is errConflict.
func (r *Reconciler) patchHub(ctx context.Context, s *scope, write string, mutate func(ws *workspacesv1alpha1.Workspace)) error {
	orig := s.ws.DeepCopy()
	updated := s.ws.DeepCopy()
	mutate(updated)
	p := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	var err error
	if write == WriteStatus {
		err = s.hub.Status().Patch(ctx, updated, p)
	} else {
		err = s.hub.Patch(ctx, updated, p)
	}
	r.OnHubWrite(write, err)
	switch {
	case apierrors.IsConflict(err):
		return errConflict
	case err != nil:
		return err
	}
	r.writes.remember(orig.ResourceVersion, updated)
	s.ws = updated
	return nil
}

// rememberFor is how long lastWrites keeps what was written: far longer than a watch event
// takes to reach the cache.
const rememberFor = time.Minute

// lastWrites remembers the answer to the last write to each hub workspace, and the version it
// was made on. The agent's writes come in quick succession (the finalizer, then each status
// change) while the hub's watch events reach the cache seconds later on a busy hub, so a write
// started from the cache would mostly conflict with the agent's own previous one. The zero
// value is ready and safe for concurrent use.
type lastWrites struct {
	mu        sync.Mutex
	written   map[types.UID]written
	lastSweep time.Time
}

// written is the answer to the last write, and the versions it supersedes: the one it was made
// on and, when that was itself the answer to a write the cache had not shown yet, those before
// it (a busy hub's cache can lag several quick writes: the finalizer, then the first status).
type written struct {
	bases map[string]bool
	obj   *workspacesv1alpha1.Workspace
	at    time.Time
}

// latest returns what was last written over ws's version, if anything was, else ws: the cache
// is behind the agent's own writes. A cache that caught up (or shows someone else's newer
// write) makes the memory obsolete.
func (l *lastWrites) latest(ws *workspacesv1alpha1.Workspace) *workspacesv1alpha1.Workspace {
	l.mu.Lock()
	defer l.mu.Unlock()
	last, ok := l.written[ws.UID]
	switch {
	case !ok:
		return ws
	case last.bases[ws.ResourceVersion]:
		return last.obj.DeepCopy()
	default:
		delete(l.written, ws.UID)
		return ws
	}
}

// remember records obj, the answer to a write made on version base.
func (l *lastWrites) remember(base string, obj *workspacesv1alpha1.Workspace) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.written == nil {
		l.written = map[types.UID]written{}
	}
	if now.Sub(l.lastSweep) > rememberFor {
		for uid, e := range l.written {
			if now.Sub(e.at) > rememberFor {
				delete(l.written, uid)
			}
		}
		l.lastSweep = now
	}
	bases := map[string]bool{base: true}
	if prev, ok := l.written[obj.UID]; ok && prev.obj.ResourceVersion == base {
		for v := range prev.bases {
			bases[v] = true
		}
	}
	l.written[obj.UID] = written{bases: bases, obj: obj.DeepCopy(), at: now}
}
