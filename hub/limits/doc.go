// Package limits enforces a template's maxRunningWorkspacesPerUser (Theia.Cloud's
// sessionsPerUser): how many workspaces of that template one owner may run at a time in an
// organization.
//
// The policy lives on the WorkspaceTemplate only: an organization that wants one limit for
// everything gives all its templates the same value. The count is over the organization's
// logical cluster, which holds every workspace of the organization whichever compute cluster
// runs it: the workspaces of the same owner and template whose spec.desiredStatus is Running
// and that are not being deleted. A workspace asking to run before it is placed or available
// holds a slot too, so two quick creates cannot both slip through.
//
// Who keeps a slot is decided the same way by every reconcile: workspaces already admitted
// (condition UserLimit=True) first, then the oldest by creationTimestamp, then by namespace
// and name. A workspace ranked beyond the limit gets UserLimit=False (UserLimitReached, naming
// the limit and the workspaces holding the slots) and its spec.desiredStatus is set to
// Stopped (hub/autostop); it runs again only when the tenant sets Running again and a slot is
// free. The owner is the one recorded by hub/owner; a workspace without one cannot be counted
// and is not run (UserLimit=False, OwnerUnknown).
//
// The controller writes only the UserLimit condition, with field manager atrium-hub-limits,
// and spec.desiredStatus through hub/autostop.
package limits
