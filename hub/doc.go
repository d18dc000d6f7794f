// Package hub runs Atrium's hub controller: one process that watches every organization's
// logical cluster through the APIExport's virtual workspaces (every shard of the endpoint slice,
// through internal/multishard) and the ComputeClusters of the provider workspace root:atrium.
//
// Run wires a multicluster manager whose local manager points at root:atrium (ComputeClusters,
// the leader-election Lease, events) and whose provider serves the organizations. Controllers
// live in their own packages under hub/ and are registered in controllers.go: each entry turns
// the shared Deps into one controller's options.
package hub
