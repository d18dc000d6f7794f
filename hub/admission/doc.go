// Package admission serves the hub's admission webhooks for the resources bound from Atrium's
// APIExport, and builds the webhook configurations that `atrium hub init` writes into the
// export's workspace root:atrium.
//
// Since kcp v0.30 the admission of a resource bound from an APIExport comes from the export's
// workspace only: kcp calls the webhooks configured in root:atrium for Workspaces and
// WorkspaceShares created in every organization, on every shard (it replicates the
// configurations through the cache server). An organization's own policies on bound resources
// are ignored, so nothing here is tenant-editable.
//
// Two webhooks:
//
//   - creator (mutating, /mutate-creator): records who created a Workspace or WorkspaceShare in
//     the annotation atrium.dev/created-by, from the request's authenticated user. A tenant
//     leaves it out; one who names someone else is refused; on update a dropped annotation is
//     restored and a changed one refused. Platform admins (system:masters, system:kcp:admin)
//     may create on behalf of a user. The CREATE webhook fails closed (failurePolicy Fail): while
//     the hub is down nothing unattributed is created. The UPDATE webhook is called only when the
//     annotation changes, and is Ignore: the ValidatingAdmissionPolicy atrium-workspace-owner in
//     root:atrium refuses any change while the webhook cannot answer, and Atrium's own
//     controllers never wait for it.
//     On the create of a WorkspaceShare it also judges who may share: it reads the workspace
//     the share names and, when the creator is not its owner, asks whether they may "override"
//     it (a SubjectAccessReview of the request's full identity, groups included: the hub knows
//     only usernames later). An organization admin's share gets atrium.dev/created-by-admin
//     "true", recorded and protected like the creator; anyone else's share of an existing
//     workspace is refused with who may share it. A share of a workspace that does not exist
//     is admitted: the hub counts it only if its creator turns out to be the owner, and its
//     Granted condition says why not (hub/sharing.Judge, hub/orglimits).
//   - ownership (validating, /validate-ownership): an OwnerOnly workspace may be changed or
//     deleted only by its owner or by whoever may "override" workspaces in the organization, as
//     a SubjectAccessReview in the organization's logical cluster says (atrium:org-admin holds
//     every verb), so an admin bound by hand counts at once. kcp v0.31's policy authorizer
//     denies every check, so this cannot be a ValidatingAdmissionPolicy. Likewise whom a
//     WorkspaceShare lets in may be changed only by its creator (unless they made it as an
//     admin), the workspace's owner or an admin: the hub counts a share by its creator, so a
//     member must not widen the owner's.
//
// Both configurations use matchConditions so that requests of Atrium's own identities (the hub
// controller, the agents) and of the owner never reach the webhooks: they keep working while
// the webhook server is down.
package admission
