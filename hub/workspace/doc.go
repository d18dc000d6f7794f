// Package workspace is the hub's one reconciler of hub Workspaces. It owns every part of a
// Workspace the hub writes: the conditions Valid, Scheduled, ClusterReachable, UserLimit and
// AutoStopped, status.effective, status.owner, status.access and status.placement (but
// placement.localNamespace, the agent's), the label atrium.dev/cluster, spec.desiredStatus when
// it stops a workspace on its own, and the release of an agent's finalizer on a lost cluster
// (the table of who writes what is in apis/workspaces/v1alpha1's package documentation).
//
// One reconcile reads the workspace once, runs one phase per concern over a scope (a copy of
// the workspace whose status the phases change), and ends in one status write carrying
// everything the hub decided (status.go):
//
//   - owner (owner.go): status.owner from the creator annotation;
//   - validity (validity.go): the organization's workspace limit, the template and execution
//     profile resolution, Valid and status.effective (hub/templates resolves);
//   - sharing (sharing.go): status.access from the owner's WorkspaceShares (hub/sharing decides);
//   - limits (limits.go): the template's maxRunningWorkspacesPerUser, UserLimit, a stop;
//   - placement (placement.go, fit.go, capacity.go): Scheduled and status.placement, eviction
//     of a stopped workspace from a lost cluster;
//   - reachability (reachability.go): ClusterReachable, and the release of a deletion stuck on a
//     lost cluster;
//   - lifecycle (lifecycle.go): idle timeout and maximum lifetime, AutoStopped, a stop.
//
// Later phases read what earlier ones decided in the same reconcile, so a new workspace is
// resolved, placed and told its cluster is reachable in one write, not one per controller each
// waiting for the previous write to come back through kcp.
//
// The status write is one JSON patch against the status as read (status.go): an apply through
// kcp's APIExport virtual workspace is recorded as an update and never removes what it omits
// (TestTrapApplyThroughTheVirtualWorkspace in test/e2e/tenancy), so removing a condition or a
// field has to be an explicit operation, and a patch's test operations make sure it changes
// exactly what the reconcile saw: a condition at an index (the agent writes its own conditions
// in the same list), and, when the write places or evicts the workspace, the resourceVersion the
// decision was made on, so a reconcile that read an outdated cache never places a workspace
// twice. After the status write come the writes that cannot be part of it, each only when
// needed: the atrium.dev/cluster label (after placing, so the agent's cache, which selects on
// it, sees a placed workspace), the stop (spec.desiredStatus, after the condition that explains
// it) and the release of a lost agent's finalizer.
//
// A reconcile that reads a version of the workspace the hub already wrote from (its cache has
// not caught up with its own write) does nothing: the write's own event brings the workspace
// back, and deciding on the old version would repeat the write or, worse, undo a placement.
package workspace
