// Package agent runs Atrium's agent for one compute cluster: it follows every shard of the
// APIExport's endpoint slice (multishard), syncs the hub Workspaces placed on its cluster down
// to local mirrors (syncdown), materializes the mirrors into PVC, Deployment, Service and access
// resources (materialize, access), writes their status back to the hub (syncup), and registers
// and heart-beats its ComputeCluster (heartbeat).
//
// Everything that acts runs only on the elected leader (a Lease on the compute cluster), so two
// replicas never both act; the hub side starts only once leadership is won.
package agent
