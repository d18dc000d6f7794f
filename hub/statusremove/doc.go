// Package statusremove removes hub-owned parts of a hub Workspace's status.
//
// Server-side apply would remove what a field manager omits, but kcp's APIExport virtual
// workspace records applies as updates, so omitted fields are never cleared (see
// agent/syncup; still so in kcp v0.31.2, pinned by TestTrapApplyThroughTheVirtualWorkspace in
// test/e2e/tenancy). Removal is therefore an explicit JSON patch on the status subresource, whose
// test operation makes sure it removes exactly what the caller saw (a condition at an index can
// move when other writers add or remove theirs).
package statusremove
