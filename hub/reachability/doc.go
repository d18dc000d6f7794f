// Package reachability tells hub Workspaces whether the compute cluster they are placed on is
// reachable, and lets the deletion of a workspace on a lost cluster finish. It owns the
// ClusterReachable condition (field manager atrium-hub-clusterhealth, like the cluster's Ready
// condition) and never deletes or moves anything: an unreachable cluster probably still runs
// the workspace.
//
// Deleting a workspace whose cluster is unreachable waits for the cluster's agent (its
// finalizer) until the deletion timeout has passed since both the deletion request and the
// last heartbeat. Then the hub records ClusterReachable=False (LocalCleanupPending) and an
// event on the ComputeCluster, and removes the agent's finalizer; the agent, when it returns,
// deletes mirrors whose hub object is gone (agent/syncup removeIfGone).
package reachability
