// Package agent runs Atrium's agent for one compute cluster: it follows every shard of the
// APIExport's endpoint slice (multishard), syncs each hub Workspace placed on its cluster with
// a local mirror in one controller keyed by the hub object (workspacesync: finalizer, confined
// namespace, mirror, status back to the hub, deletion and leftovers), materializes the mirrors
// into PVC, Deployment, Service and access resources (materialize, access), keeps the workspace
// namespaces confined (confine), and registers and heart-beats its ComputeCluster (heartbeat).
//
// Everything that acts runs only on the elected leader (a Lease on the compute cluster), so two
// replicas never both act; the hub side starts only once leadership is won.
package agent
