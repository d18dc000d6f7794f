// Package sharing resolves who may connect to each hub Workspace into status.access.
//
// With accessType OwnerOnly (the hub's effective value, else the workspace's own) the allowed
// users are the owner (see hub/owner) and the users of the WorkspaceShares in the workspace's
// namespace that name it and that Judge grants: created by the owner (their
// atrium.dev/created-by, recorded by the hub's creator webhook) or by an organization admin
// (atrium.dev/created-by-admin, likewise), Accepted within the organization's quota, within
// MaxSharedPrincipals; the allowed groups are those shares' groups. Judge is also the share's
// Granted condition, which hub/orglimits writes (the one writer of share status). With
// Public, status.access is absent. The agent copies the lists into the mirror, where access
// resource templates turn them into an allow-list (for example of an authenticating proxy). An
// OwnerOnly workspace with no recorded owner allows nobody: the lists fail closed.
//
// The controller writes only status.access, with field manager atrium-hub-sharing.
package sharing
