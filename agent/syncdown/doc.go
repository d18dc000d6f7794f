// Package syncdown is the agent's hub-to-local controller. It reconciles hub Workspaces (in every
// organization, through the APIExport's virtual workspaces on every shard) and, for those the
// hub placed on this compute cluster, keeps the local mirror (a LocalWorkspace in the namespace
// derived from the logical cluster and namespace) equal to the hub's desired state.
//
// The mirror carries what the hub validated, never the tenant's spec as written: the hub's
// status.effective (the last generation that was Valid=True), spec.desiredStatus (stopping is
// always allowed), the owner and the access allow-lists. A workspace the hub has not resolved
// yet (no status.effective) is not materialized at all: no finalizer, no namespace, no mirror;
// the hub's status write brings it back. An effective spec that names no access strategy gets
// the cluster's default (--default-access-strategy), a platform choice, never the tenant's.
//
// It owns the agent's finalizer on the hub object: added before anything local exists, removed
// only after the mirror and everything it owns are gone. It never acts on workspaces placed on
// another cluster, and never deletes anything because the hub is silent: deletion follows only
// from a hub object being deleted (or explicitly moved away by the hub).
//
// Status flows the other way in package syncup.
package syncdown
