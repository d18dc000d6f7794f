package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/atrium-dev/atrium/exports"
)

// maxLeaseNameLength bounds leader-election Lease names. Kubernetes allows 253 characters
// (a DNS subdomain); 63 keeps them readable in `kubectl get leases` and usable as a label value.
const maxLeaseNameLength = 63

// leaderElectionID names the Lease the replicas of one agent elect their leader with. An agent
// is one per compute cluster and endpoint slice: per-shard agents of the same cluster follow
// different slices and must each have a leader, so the slice is part of the name. Names that
// would be too long keep a readable prefix and end in a hash of the full name, so distinct
// (cluster, slice) pairs never share a Lease.
func leaderElectionID(cluster, endpointSlice string) string {
	name := "atrium-agent-" + cluster + "-" + endpointSlice
	if len(name) <= maxLeaseNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(cluster + "/" + endpointSlice))
	suffix := "-" + hex.EncodeToString(sum[:])[:10]
	prefix := strings.TrimRight(name[:maxLeaseNameLength-len(suffix)], ".-")
	return prefix + suffix
}

// heartbeatFieldManager is the field manager of the agent's ComputeCluster status. The agents
// of one cluster that follow different endpoint slices (one per shard) each own their part:
// status.shards is a set, so each keeps the shards it follows there and the cluster lists them
// all. The agent of the export's own slice keeps the name it always had.
func heartbeatFieldManager(cluster, endpointSlice string) string {
	if endpointSlice == exports.ExportName {
		return "atrium-agent-" + cluster
	}
	return leaderElectionID(cluster, endpointSlice)
}
