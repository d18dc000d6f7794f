// Package placement places valid hub Workspaces on ComputeClusters. It owns the Scheduled
// condition, status.placement.{cluster,time,shard} and the atrium.dev/cluster label (field
// manager atrium-hub-placement); the agent named by placement.cluster runs the workspace.
//
// A cluster fits when it is Ready (heartbeat judged now, see clusterhealth.Health), not
// unschedulable, serves the workspace's shard, enforces a Pod Security level the workspace's
// pod was checked against (status.effective.podSecurityLevel: a restricted workspace runs on
// clusters enforcing restricted or baseline, a baseline one on baseline clusters only; a
// cluster whose agents report no level, status.podSecurity, takes nothing), matches the
// template's and the workspace's cluster selectors, offers the access strategy, and has room
// for the requests (the pod's: the larger of the workspace container's and each init
// container's, EffectiveWorkspaceSpec.PodRequests). The no-fit message gives each cluster's
// reason. Among fitting
// clusters the least allocated wins (mean of the cpu and memory ratios after placing).
//
// Shard identity is the virtual-workspace URL of the APIExport on the shard holding the
// workspace's logical cluster: the hub records the URL it sees the workspace through
// (Provider.ShardURL), and a cluster serves that shard when its agents report the URL in
// status.shards (the agents follow the same endpoint slices, so the URLs are the same strings)
// and spec.shards, when set, lists it too.
//
// Capacity: free = allocatable − max(status.allocated, committed), per resource, where
// allocated is what the agent counts from workspace pods and committed is the sum of the
// requests of running workspaces the hub has placed there (the roster). The larger of the two
// covers both workspaces placed but not yet counted by a heartbeat and pods the agent counts
// that the hub has not seen yet. Placement decisions are serialized: choosing a cluster and
// reserving the workspace's requests in the roster happen under one lock, so each decision
// sees what the ones before reserved; reading templates and writing placements run
// concurrently. A placement is written only on the version of the workspace it was decided on
// (a resourceVersion precondition), so a reconcile that read an outdated cache cannot place a
// workspace twice.
//
// The decision is written once and never changed silently: a placed workspace stays placed.
// Stopped workspaces are placed only when started (Scheduled=False WaitingForStart), so a
// stopped workspace holds no capacity and a stopped workspace of a lost cluster can move.
// Eviction: a STOPPED workspace on a cluster whose eviction policy is Reschedule and that has
// been unreachable longer than the policy's grace period loses its placement
// (Scheduled=False Evicted, "moved from <cluster>: its data stays on the lost cluster") and is
// placed again when started. Running workspaces are never evicted.
package placement
