// Package owner records who owns each hub Workspace in status.owner.
//
// The owner is the user who created the workspace. A tenant names themselves in the annotation
// atrium.dev/created-by; the ValidatingAdmissionPolicy atrium-workspace-owner, created in every
// organization (exports/kcp/admission-org.yaml), admits that annotation only when it equals the
// creating request's authenticated username and never lets it change afterwards, so the
// annotation is a fact kcp vouched for, not a claim. This controller copies it into
// status.owner (field manager atrium-hub-owner) for printer columns, the agent and the other
// hub controllers. A workspace without the annotation has no owner, and everything that depends
// on the owner fails closed.
package owner
