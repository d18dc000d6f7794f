package workspacesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// patchStatus writes desired as the status of s.ws: a JSON merge patch with optimistic locking
// against s.ws. A merge patch replaces lists (conditions) whole, so without the lock the hub
// controller's conditions written meanwhile could be dropped. On success s.ws is the object the
// hub returned, and it is remembered; on failure s.ws is left as it was. A conflict is
// errConflict.
func (r *Reconciler) patchStatus(ctx context.Context, s *scope, desired workspacesv1alpha1.WorkspaceStatus) error {
	updated := s.ws.DeepCopy()
	updated.Status = desired
	err := s.hub.Status().Patch(ctx, updated, client.MergeFromWithOptions(s.ws, client.MergeFromWithOptimisticLock{}))
	return r.wrote(s, WriteStatus, updated, err)
}

// wrote counts one write of the hub object and, when it succeeded, remembers it and makes
// updated the scope's object. A conflict is errConflict.
func (r *Reconciler) wrote(s *scope, write string, updated *workspacesv1alpha1.Workspace, err error) error {
	r.OnHubWrite(write, err)
	switch {
	case apierrors.IsConflict(err):
		return errConflict
	case err != nil:
		return err
	}
	r.writes.remember(s.ws.ResourceVersion, updated)
	s.ws = updated
	return nil
}

// patchFinalizers adds (add) or removes the agent's finalizer with a JSON patch that tests the
// finalizers it changes instead of the object's resourceVersion: the hub controller writes the
// status of the same workspace at the same time (validity, placement, reachability), and with
// optimistic locking on the whole object nearly every first write of the agent, the finalizer,
// met one of those. The test keeps another writer's finalizers: a list that changed since it
// was read fails the test (422) and is handled as a conflict. On success s.ws is the object the
// hub returned, and it is remembered.
func (r *Reconciler) patchFinalizers(ctx context.Context, s *scope, finalizer string, add bool) error {
	updated := s.ws.DeepCopy()
	var ops []jsonPatchOp
	switch i := slices.Index(s.ws.Finalizers, finalizer); {
	case add && i >= 0, !add && i < 0:
		return nil
	case add && len(s.ws.Finalizers) == 0:
		// A test of null passes on an absent member only.
		ops = []jsonPatchOp{{Op: "test", Path: "/metadata/finalizers"}, {Op: "add", Path: "/metadata/finalizers", Value: []string{finalizer}}}
		updated.Finalizers = []string{finalizer}
	case add:
		ops = []jsonPatchOp{{Op: "test", Path: "/metadata/finalizers", Value: s.ws.Finalizers}, {Op: "add", Path: "/metadata/finalizers/-", Value: finalizer}}
		updated.Finalizers = append(updated.Finalizers, finalizer)
	default:
		path := "/metadata/finalizers/" + strconv.Itoa(i)
		ops = []jsonPatchOp{{Op: "test", Path: path, Value: finalizer}, {Op: "remove", Path: path}}
		updated.Finalizers = slices.Delete(updated.Finalizers, i, i+1)
	}
	data, err := json.Marshal(ops)
	if err != nil {
		return fmt.Errorf("failed to encode the finalizer patch: %w", err)
	}
	err = s.hub.Patch(ctx, updated, client.RawPatch(types.JSONPatchType, data))
	if isFailedTest(err) {
		err = apierrors.NewConflict(workspacesv1alpha1.Resource("workspaces"), s.ws.Name, err)
	}
	return r.wrote(s, WriteFinalizer, updated, err)
}

// jsonPatchOp is one operation of an RFC 6902 JSON patch. Value is always sent: a test of
// null must say so.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// isFailedTest reports whether err is the API server's answer to a finalizer patch whose test
// did not hold: 422, as for any JSON patch that does not apply (a changed value, or an index
// the list no longer has). The patch is well-formed by construction and changes nothing a
// schema checks, so that is the only 422 it meets.
func isFailedTest(err error) bool {
	return apierrors.IsInvalid(err)
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
	case last.bases[ws.ResourceVersion] || older(ws.ResourceVersion, last.obj.ResourceVersion):
		return last.obj.DeepCopy()
	default:
		delete(l.written, ws.UID)
		return ws
	}
}

// older reports whether resourceVersion a is older than b, when both are etcd revisions (as
// kcp's and kube-apiserver's are; they grow with every write, and an object's watch events
// come in their order). A write not tied to a version (the finalizer's JSON patch) answers with
// the hub's writes it landed on included: the cache showing one of those is behind it too.
// Versions that are not numbers are never older: only the exact versions written over count.
func older(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	return errA == nil && errB == nil && x < y
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
