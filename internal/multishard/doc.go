// Package multishard is a multicluster-runtime Provider over every shard of a kcp APIExport.
//
// kcp publishes one virtual-workspace URL per shard that hosts bound workspaces in the
// export's APIExportEndpointSlice, and those URLs come and go as organizations land on shards
// or shards are drained. github.com/kcp-dev/multicluster-provider's apiexport.Provider follows
// one URL; this Provider follows the slice and runs one apiexport.Provider per URL, starting
// and stopping them as URLs appear and disappear, and answers Get for the clusters of all of
// them. A per-shard deployment points it at a slice whose partition selects one shard.
//
// Logical-cluster names are unique across shards, so the union of the children's clusters
// is unambiguous. The clusters a child engages get informers whose event handlers see only
// their own logical cluster (scope.go: a workaround for multicluster-provider v0.2.1, which
// let every cluster's watches see every cluster's events).
package multishard
