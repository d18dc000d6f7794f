// Package workspacesync is the agent's one controller between a hub Workspace and its local
// mirror. It is keyed by the hub object (a logical cluster, namespace and name, through the
// APIExport's virtual workspaces on every shard; the agent's hub cache holds only the
// workspaces labelled atrium.dev/cluster=<this cluster>) and, in one pass, does everything the
// agent owns about it: its finalizer, the local namespace, the LocalWorkspace mirror, the
// runtime status written back to the hub, the deletion of what is local, and the removal of
// mirrors whose hub object is gone. Hub events and the events of the mirror (mapped back to
// its origin, spec.origin) feed the same queue, so one worker at a time owns a workspace and
// the agent never races itself on the hub object (the shape of api-syncagent's syncer).
//
// # Down: what the mirror carries
//
// The mirror carries what the hub validated, never the tenant's spec as written: the hub's
// status.effective (the last generation that was Valid=True), spec.desiredStatus (stopping is
// always allowed), the owner and the access allow-lists, and the hub generation it was copied
// from (annotation atrium.dev/hub-generation). A workspace the hub has not resolved yet (no
// status.effective) is not materialized at all: no finalizer, no namespace, no mirror; the
// hub's status write brings it back. An effective spec that names no access strategy gets the
// cluster's default (--default-access-strategy), a platform choice, never the tenant's. The
// namespace (mirror.Namespace of the logical cluster and namespace) is created or adopted and
// confined (package confine) before any mirror is written into it.
//
// # Up: the status
//
// What the mirror reports (phase, conditions Available, Progressing, Degraded, Stopped and
// IdleDetection, URL, access resources, last activity, the local namespace) is written into the
// hub status: only the fields the agent owns, as a JSON merge patch with optimistic locking
// (kcp's virtual workspace stores a server-side apply as an update, so a field the agent stops
// setting would never be removed; the lock keeps the hub controller's conditions). The patch
// is sent only when a field a user can see differs, so every visible transition is one write
// and a converged workspace costs none. observedGeneration is the hub generation the mirror
// was copied from, claimed only once the materializer has observed the mirror's current
// generation; while the mirror's status lags its spec the hub's observedGeneration is kept as
// it is, never lowered or cleared, and a mirror observed not even once reports nothing yet.
//
// # Conflicts and the cache
//
// The hot path reads only caches. The finalizer is added and removed with a JSON patch that
// tests the finalizer list, not the object's version, so the hub controller's status writes
// in between (validity, placement, reachability) do not make it conflict, while another
// writer's finalizers are never undone. The agent's own writes come in quick succession (the
// finalizer, then each status change) while the hub's watch events reach the cache later on a
// busy hub: the controller remembers the object each write returned and starts from it while
// the cache still shows a version that write superseded, so it does not conflict with itself.
// A write that meets someone else's newer version (the hub controller's status, another
// finalizer) is not retried at once: the workspace is requeued after a jittered, growing
// delay, by when the cache holds that version.
//
// # Deletion, moves and leftovers
//
// The finalizer is added before anything local exists and removed only after the mirror and
// everything it owns are gone (a foreground deletion). It never acts on workspaces placed on
// another cluster that do not carry its finalizer, and never deletes anything because the hub
// is silent: deletion follows only from a hub object being deleted, explicitly moved away, or
// answered as gone.
//
// Two cold paths read the hub past the cache. A workspace that leaves the cache (the hub
// relabels it when it moves it, unlabels it on eviction, or it was deleted) is read live by
// name: one that still carries the agent's finalizer is cleaned up, and one that moved away
// while the agent was down, which never enters the cache again, is found through its mirror's
// events (every mirror's at start) and handed over the same way. And a mirror is removed as an
// orphan only when a live read answers that its hub object does not exist or has another UID
// (the hub released the finalizer of a workspace deleted while this cluster was unreachable,
// or the workspace was recreated under the same name), never on a cache's word and never
// while the hub cannot be reached.
package workspacesync
