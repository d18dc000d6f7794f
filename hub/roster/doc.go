// Package roster indexes the hub Workspaces of every logical cluster by the compute cluster
// they are placed on. ComputeClusters live in root:atrium and Workspaces in the organizations'
// logical clusters, so a ComputeCluster event cannot name its workspaces through a cache: the
// roster, fed by the workspace controllers on every reconcile, lets them requeue exactly the
// workspaces a cluster change concerns (those placed on it, and the unplaced ones).
package roster
