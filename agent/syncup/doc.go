// Package syncup is the agent's local-to-hub controller. It reconciles LocalWorkspaces on the
// compute cluster and writes what they report (phase, conditions, URL, access resources, the
// local namespace) into the status of their hub Workspace: only the fields the agent owns, as a
// merge patch with optimistic locking. The hub controller's fields (validity, placement,
// effective spec, owner) are never touched or blanked, and a hub status that already matches is
// not written.
//
// It also removes mirrors whose hub object is gone: only when the hub answers that it does not
// exist (or exists with another UID), never because the hub cannot be reached.
package syncup
