// Package exportprovider serves the logical clusters bound to Atrium's APIExport, on every kcp
// shard, to multicluster-runtime managers.
//
// The work is kcp's apiexport provider's (github.com/kcp-dev/multicluster-provider): it watches
// the APIExportEndpointSlice, follows every virtual-workspace URL as URLs come and go (one per
// shard that hosts bound workspaces; a per-shard deployment names a slice whose partition
// selects its shard), and engages each logical cluster with a cache scoped to it. This package
// adds only what that provider does not offer:
//
//   - the shard (virtual-workspace URL) that serves a logical cluster (ShardURL),
//   - the URLs followed right now (URLs), which agents report in their heartbeat,
//   - a reader that bypasses every cache (LiveReader): the provider's GetAPIReader is its
//     cache, which cannot confirm that an object is gone,
//   - disengaging the clusters of a shard whose URL left the slice (the provider stops that
//     shard's watches but keeps its clusters engaged, with caches that no longer change), and
//     engaging none through a URL that is no longer in it.
//
// Both gaps are upstream's at v0.7.1: TestUpstreamAPIReaderIsTheCache pins the first; the
// second is read from the provider's code (its delete and URL-removal paths never remove
// clusters), tested here by unit tests and end to end by test/e2e/shards' TestPerShardAgent
// (docs/development.md).
package exportprovider
