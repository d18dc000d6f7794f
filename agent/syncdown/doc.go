// Package syncdown is the agent's hub-to-local controller. It reconciles hub Workspaces (in every
// organization, through the APIExport's virtual workspaces on every shard; the agent's cache
// holds only those labelled atrium.dev/cluster=<this cluster>) and, for those the hub placed
// on this compute cluster, keeps the local mirror (a LocalWorkspace in the namespace
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
// A workspace that leaves the cache (the hub relabels it when it moves it, unlabels it on
// eviction) reaches the controller as a deletion: it reads the object live, past the cache,
// and cleans up if it still carries the agent's finalizer. One that moved away while the agent
// was down never enters the cache: syncup, which sees its mirror, hands it over (Enqueue).
//
// Status flows the other way in package syncup.
package syncdown
