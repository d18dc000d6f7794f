package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// setCondition sets the condition of type t on ws for its generation. A condition that already
// says the same (status, reason, message, generation) is left as it is; the transition time
// moves only when the status does.
func setCondition(ws *workspacesv1alpha1.Workspace, t workspacesv1alpha1.ConditionType, status metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason, message string, now metav1.Time) {
	c := metav1.Condition{Type: string(t), Status: status, Reason: string(reason), Message: message, ObservedGeneration: ws.Generation, LastTransitionTime: now}
	for i := range ws.Status.Conditions {
		have := &ws.Status.Conditions[i]
		if have.Type != string(t) {
			continue
		}
		if have.Status == c.Status && have.Reason == c.Reason && have.Message == c.Message && have.ObservedGeneration == c.ObservedGeneration {
			return
		}
		if have.Status == c.Status {
			c.LastTransitionTime = have.LastTransitionTime
		}
		*have = c
		return
	}
	ws.Status.Conditions = append(ws.Status.Conditions, c)
}

// removeCondition removes the condition of type t from ws, if it has one.
func removeCondition(ws *workspacesv1alpha1.Workspace, t workspacesv1alpha1.ConditionType) {
	ws.Status.Conditions = slices.DeleteFunc(ws.Status.Conditions, func(c metav1.Condition) bool { return c.Type == string(t) })
}

// patchOp is one operation of a JSON patch (RFC 6902).
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// statusPatch returns the JSON patch that turns the hub-owned status of orig into that of ws,
// or nil when they are the same. Other writers' parts are never sent. Every operation is
// guarded by what it relies on: a condition is replaced or removed at its index only after
// testing the type there; guard, or a status or condition list written whole (orig had none),
// tests orig's resourceVersion first, so the patch applies only to the version it was decided
// on.
func statusPatch(orig, ws *workspacesv1alpha1.Workspace, guard bool) []patchOp {
	if equality.Semantic.DeepEqual(orig.Status, workspacesv1alpha1.WorkspaceStatus{}) {
		status := hubStatus(ws)
		if equality.Semantic.DeepEqual(status, workspacesv1alpha1.WorkspaceStatus{}) {
			return nil
		}
		return []patchOp{testVersion(orig), {Op: "add", Path: "/status", Value: status}}
	}
	var ops []patchOp
	fields := []struct {
		name       string
		have, want any
		haveNil    bool
		wantNil    bool
	}{
		{"owner", orig.Status.Owner, ws.Status.Owner, orig.Status.Owner == nil, ws.Status.Owner == nil},
		{"access", orig.Status.Access, ws.Status.Access, orig.Status.Access == nil, ws.Status.Access == nil},
		{"effective", orig.Status.Effective, ws.Status.Effective, orig.Status.Effective == nil, ws.Status.Effective == nil},
		{"placement", orig.Status.Placement, ws.Status.Placement, orig.Status.Placement == nil, ws.Status.Placement == nil},
	}
	for _, f := range fields {
		switch {
		case f.haveNil && f.wantNil, equality.Semantic.DeepEqual(f.have, f.want):
		case f.wantNil:
			ops = append(ops, patchOp{Op: "remove", Path: "/status/" + f.name})
		default:
			// "add" replaces a member that exists.
			ops = append(ops, patchOp{Op: "add", Path: "/status/" + f.name, Value: f.want})
		}
	}

	var replaces, removes []patchOp
	var appends []metav1.Condition
	var removeAt []int
	for _, t := range workspacesv1alpha1.HubConditions {
		i := slices.IndexFunc(orig.Status.Conditions, func(c metav1.Condition) bool { return c.Type == string(t) })
		want := ws.GetCondition(t)
		switch {
		case i < 0 && want == nil:
		case i < 0:
			appends = append(appends, *want)
		case want == nil:
			removeAt = append(removeAt, i)
		case !equality.Semantic.DeepEqual(orig.Status.Conditions[i], *want):
			path := fmt.Sprintf("/status/conditions/%d", i)
			replaces = append(replaces, patchOp{Op: "test", Path: path + "/type", Value: string(t)}, patchOp{Op: "replace", Path: path, Value: *want})
		}
	}
	// Removing from the highest index down keeps the lower indices where they were tested.
	slices.Sort(removeAt)
	slices.Reverse(removeAt)
	for _, i := range removeAt {
		path := fmt.Sprintf("/status/conditions/%d", i)
		removes = append(removes, patchOp{Op: "test", Path: path + "/type", Value: orig.Status.Conditions[i].Type}, patchOp{Op: "remove", Path: path})
	}
	ops = append(ops, replaces...)
	ops = append(ops, removes...)
	switch {
	case len(appends) == 0:
	case len(orig.Status.Conditions) == 0:
		// No list to append to: written whole, which would replace a list another writer
		// created since, hence the version test.
		guard = true
		ops = append(ops, patchOp{Op: "add", Path: "/status/conditions", Value: appends})
	default:
		for _, c := range appends {
			ops = append(ops, patchOp{Op: "add", Path: "/status/conditions/-", Value: c})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if guard {
		ops = append([]patchOp{testVersion(orig)}, ops...)
	}
	return ops
}

func testVersion(ws *workspacesv1alpha1.Workspace) patchOp {
	return patchOp{Op: "test", Path: "/metadata/resourceVersion", Value: ws.ResourceVersion}
}

// hubStatus is the hub-owned part of ws's status.
func hubStatus(ws *workspacesv1alpha1.Workspace) workspacesv1alpha1.WorkspaceStatus {
	out := workspacesv1alpha1.WorkspaceStatus{
		Owner: ws.Status.Owner, Access: ws.Status.Access, Effective: ws.Status.Effective, Placement: ws.Status.Placement,
	}
	for _, t := range workspacesv1alpha1.HubConditions {
		if c := ws.GetCondition(t); c != nil {
			out.Conditions = append(out.Conditions, *c)
		}
	}
	return out
}

// errOutdated reports whether a write failed because the workspace changed since it was read:
// a resourceVersion precondition failed (Conflict), or a JSON patch did not apply to the object
// as it is now (a test operation failed, a path is gone). kube-apiserver answers the latter
// with 422 Invalid and no details, unlike a validation failure, which names the object and its
// causes. The change's own event brings the workspace back.
func errOutdated(err error) bool {
	if apierrors.IsConflict(err) {
		return true
	}
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d == nil || (d.Name == "" && len(d.Causes) == 0)
}

// write sends what the phases decided: the status patch, then the writes that cannot be part
// of it (the cluster label, a stop, a finalizer release), each only when needed. It reports
// whether a write found the workspace changed since it was read (decide again).
func (r *Reconciler) write(ctx context.Context, s *scope) (bool, error) {
	logger := log.FromContext(ctx)
	w := &writes{latest: s.orig}
	defer r.recordWrites(s, w)
	// A placement written or cleared is guarded by the version it was decided on.
	guard := s.orig.PlacedCluster() != s.ws.PlacedCluster()
	if ops := statusPatch(s.orig, s.ws, guard); ops != nil {
		raw, err := json.Marshal(ops)
		if err != nil {
			return false, fmt.Errorf("failed to encode the status patch: %w", err)
		}
		updated := target(s.orig)
		err = s.client.Status().Patch(ctx, updated, client.RawPatch(types.JSONPatchType, raw), client.FieldOwner(FieldManager))
		if res := s.reservation; res != nil && err != nil {
			r.capacity.giveBack(res) // the workspace is still unplaced
		}
		switch {
		case errOutdated(err):
			logger.V(1).Info("workspace changed since it was read; deciding again", "err", err.Error())
			return true, nil
		case apierrors.IsNotFound(err):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("failed to patch the workspace's status: %w", err)
		}
		w.wrote(updated)
		logger.V(1).Info("wrote workspace status", "operations", len(ops))
	}
	var errs []error
	if err := r.writeLabel(ctx, s, w); err != nil {
		errs = append(errs, err)
	}
	if s.stop != "" {
		stopped := target(s.orig)
		if err := stop(ctx, s.client, s.orig, stopped); err != nil {
			if !errors.Is(err, errSpecChanged) {
				errs = append(errs, err)
			} else {
				logger.V(1).Info("spec changed before the stop; deciding again", "err", err.Error())
			}
		} else {
			w.wrote(stopped)
			logger.Info("stopped workspace", "reason", s.stop)
		}
	}
	if s.release != "" {
		if err := r.releaseFinalizer(ctx, s, w); err != nil {
			errs = append(errs, err)
		}
	}
	return false, errors.Join(errs...)
}

// writes follows the versions of the workspace one reconcile's writes went through.
type writes struct {
	// latest is the newest version known: as read, or as the last write answered.
	latest *workspacesv1alpha1.Workspace
	// passed are the versions the writes went through before latest, the one read first.
	passed []string
}

func (w *writes) wrote(updated *workspacesv1alpha1.Workspace) {
	w.passed = append(w.passed, w.latest.ResourceVersion)
	w.latest = updated
}

// recordWrites remembers the versions the writes went through: a reconcile reading one of
// them reads a cache behind the hub's own writes.
func (r *Reconciler) recordWrites(s *scope, w *writes) {
	if len(w.passed) > 0 {
		r.writtenFrom.Store(s.req, w.passed)
	}
}

// cacheBehind reports whether ws is a version the hub's own writes went through.
func (r *Reconciler) cacheBehind(s *scope) bool {
	passed, ok := r.writtenFrom.Load(s.req)
	if !ok {
		return false
	}
	if slices.Contains(passed.([]string), s.orig.ResourceVersion) {
		return true
	}
	r.writtenFrom.Delete(s.req)
	return false
}

// writeLabel keeps the label atrium.dev/cluster equal to status.placement.cluster, after the
// placement: agents' caches select on it (internal/exportprovider), so an agent sees a
// workspace only once it is placed there, and lets it go once it is not.
func (r *Reconciler) writeLabel(ctx context.Context, s *scope, w *writes) error {
	want := w.latest.PlacedCluster()
	if w.latest.Labels[workspacesv1alpha1.LabelCluster] == want {
		return nil
	}
	var value any
	if want != "" {
		value = want
	}
	raw, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{workspacesv1alpha1.LabelCluster: value}}})
	if err != nil {
		return fmt.Errorf("failed to encode the cluster label: %w", err)
	}
	labelled := target(s.orig)
	if err := s.client.Patch(ctx, labelled, client.RawPatch(types.MergePatchType, raw), client.FieldOwner(FieldManager)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to set label %s: %w", workspacesv1alpha1.LabelCluster, err))
	}
	w.wrote(labelled)
	return nil
}

// target is an empty Workspace naming ws, for a patch to fill with the server's answer.
func target(ws *workspacesv1alpha1.Workspace) *workspacesv1alpha1.Workspace {
	t := &workspacesv1alpha1.Workspace{}
	t.Namespace, t.Name = ws.Namespace, ws.Name
	return t
}
