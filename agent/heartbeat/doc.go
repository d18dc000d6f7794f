// Package heartbeat registers the agent's ComputeCluster in the hub's provider workspace and
// renews its status periodically: heartbeat time, capacity and allocation from the compute
// cluster's nodes and workspace pods, the shards the agent follows, and the access strategies
// the cluster offers. The hub's cluster-health controller judges readiness from it; the agent
// never claims Ready itself.
package heartbeat
