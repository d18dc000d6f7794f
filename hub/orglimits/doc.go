// Package orglimits enforces each organization's share of the platform: how many Workspaces
// and WorkspaceShares it may have, so that one tenant's flood cannot starve the others of the
// hub's attention, the compute clusters' capacity or the API servers' storage.
//
// The limits live in OrganizationQuota objects (platform.atrium.dev) in the provider workspace
// root:atrium, one per organization, created by `atrium org create` and changed with `atrium org
// limits`. Organization admins hold every right inside their organization's logical cluster,
// so a limit they could edit (a ResourceQuota there, say) would not bind them; root:atrium is
// out of their reach. An organization without a quota gets the hub's defaults.
//
// Why not kcp's ResourceQuota: kcp v0.31.2 does enforce object-count quotas
// (count/workspaces.workspaces.atrium.dev) for resources bound through an APIExport, but only
// per namespace, and organization admins can delete or raise them and create namespaces
// without one. `atrium org create` still puts one in the organization's default namespace as
// an early refusal at the API for members (who can neither edit quotas nor create namespaces);
// the hub's check below is the limit that holds for everyone.
//
// Who holds a slot is decided the same way by every reconcile (Rank): what was admitted before
// first (a workspace with a status.effective, a share with Accepted=True), then the oldest by
// creationTimestamp, then by namespace and name. Objects being deleted hold none. So lowering a
// limit never takes a slot from a running workspace: it only refuses what comes next.
//
// Workspaces beyond the limit are answered by the templates controller (hub/templates) with
// Valid=False, reason OrganizationLimitReached; they get no status.effective and are never
// placed, so nothing of them reaches a compute cluster. Shares beyond the limit are answered
// here, by the share controller of this package (field manager atrium-hub-orglimits), with
// Accepted=False; hub/sharing counts only accepted shares.
//
// The share controller is the one writer of a WorkspaceShare's status. Besides Accepted it
// writes Granted, in the same patch: whether the share lets anyone in, and why not
// (WorkspaceNotFound, OwnerUnknown, CreatorNotOwner, NotAccepted, NotOwnerOnly,
// TooManyPrincipals). The verdict is hub/sharing.Judge, the function status.access of the
// workspace is computed with, so the condition and the access list say the same.
package orglimits
