package workspacesync

import (
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// action is what the agent does about a hub workspace, decided afresh on every reconcile from
// the object as it is now (never from what happened to it before).
type action int

const (
	// actionNone: another cluster's workspace, or not placed yet, and not holding our
	// finalizer: none of this agent's business.
	actionNone action = iota
	// actionWait: placed here but not resolved by the hub yet (no status.effective): nothing
	// local exists, not even the finalizer, until it is.
	actionWait
	// actionCleanup: deleted, or explicitly moved away, while holding our finalizer: remove
	// everything local, then the finalizer.
	actionCleanup
	// actionSync: placed here: finalizer, namespace, mirror and status.
	actionSync
)

func (a action) String() string {
	switch a {
	case actionNone:
		return "none"
	case actionWait:
		return "wait"
	case actionCleanup:
		return "cleanup"
	case actionSync:
		return "sync"
	}
	return "unknown"
}

// decide says what the agent of cluster does about ws.
func decide(cluster string, ws *workspacesv1alpha1.Workspace) action {
	placedHere := ws.IsPlacedOn(cluster)
	owned := hasFinalizer(ws, cluster)
	switch {
	case !placedHere && !owned:
		return actionNone
	case !ws.DeletionTimestamp.IsZero() || !placedHere:
		return actionCleanup
	case ws.Status.Effective == nil && !owned:
		// Only what the hub validated runs, and it may never be, while the spec is invalid.
		// The hub's status write brings the workspace back.
		return actionWait
	}
	return actionSync
}

// hasFinalizer reports whether ws carries the finalizer of cluster's agent.
func hasFinalizer(ws *workspacesv1alpha1.Workspace, cluster string) bool {
	return controllerutil.ContainsFinalizer(ws, workspacesv1alpha1.AgentFinalizer(cluster))
}
