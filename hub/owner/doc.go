// Package owner records who owns each hub Workspace in status.owner.
//
// The owner is the user who created the workspace. The hub's creator webhook (hub/admission,
// configured in root:atrium) writes the creating request's authenticated username into the
// annotation atrium.dev/created-by on create, refuses a tenant who names someone else, and keeps
// it unchanged afterwards; the ValidatingAdmissionPolicy atrium-workspace-owner in root:atrium
// refuses any change even while the webhook cannot answer. So the annotation is a fact kcp and
// the hub vouched for, not a claim, and this controller trusts it: it copies it into
// status.owner (field manager atrium-hub-owner) for printer columns, the agent and the other hub
// controllers. A workspace without the annotation (created before the webhook was configured)
// has no owner, and everything that depends on the owner fails closed.
package owner
