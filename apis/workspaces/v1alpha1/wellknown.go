package v1alpha1

// Labels, annotations and finalizers that form the contract between the hub controller and the
// agents on hub Workspaces.
const (
	// LabelCluster is set by the hub controller together with status.placement.cluster, so an
	// agent can select its workspaces. status.placement is the truth; the label is an index.
	// Agents list and watch only the workspaces labelled with their cluster: the hub writes the
	// placement first and the label after it (and removes the label after clearing the
	// placement), and an agent reads a workspace that left its selection once by name to let
	// go of it (agent/workspacesync).
	LabelCluster = "atrium.dev/cluster"

	// AgentFinalizerPrefix prefixes the finalizer an agent puts on every hub Workspace it
	// materializes: AgentFinalizerPrefix + <compute cluster name>. It keeps the hub object until
	// the agent has removed everything local.
	AgentFinalizerPrefix = "agent.atrium.dev/"

	// TemplateInUseFinalizer is put on a WorkspaceTemplate by the hub while workspaces use it
	// (lazily: added with the first, removed with the last), so deleting it waits for them.
	TemplateInUseFinalizer = "workspaces.atrium.dev/template-in-use"

	// AnnotationCreatedBy names the user who created the Workspace or WorkspaceShare. The hub's
	// creator webhook (hub/admission, configured in root:atrium) sets it from the creating
	// request's authenticated username and keeps it unchanged; the ValidatingAdmissionPolicy
	// atrium-workspace-owner (exports/kcp/admission-provider.yaml, in root:atrium) refuses any
	// change even without the webhook. Tenants do not write it, so the hub records it as
	// status.owner, and counts a share only when its creator is the workspace's owner.
	AnnotationCreatedBy = "atrium.dev/created-by"

	// AnnotationCreatedByAdmin is "true" on a WorkspaceShare created by an organization admin
	// who is not the owner of the workspace it names: whoever may "override" that workspace in
	// the organization, as a SubjectAccessReview with the creating request's full identity
	// (groups included) said at creation. The hub's creator webhook writes it and refuses it
	// from anyone else; like AnnotationCreatedBy it is never added, changed or removed
	// afterwards (the policy atrium-workspace-owner refuses that even without the webhook).
	// The hub counts a share when its creator is the workspace's owner or it carries this
	// annotation. The verdict is the admin's act at creation, like a RoleBinding they create:
	// it stays when the admin later loses the role (delete the share to revoke it).
	AnnotationCreatedByAdmin = "atrium.dev/created-by-admin"

	// LabelDefaultTemplate marks an organization's default WorkspaceTemplate (value "true"):
	// the template of every workspace that names none. `atrium org create` creates one;
	// organization admins move the label to choose another (labels are not part of the
	// immutable spec). None, or more than one, makes such workspaces Valid=False.
	LabelDefaultTemplate = "workspaces.atrium.dev/default-template"
)

// AgentFinalizer returns the finalizer of the agent of the named compute cluster.
func AgentFinalizer(cluster string) string { return AgentFinalizerPrefix + cluster }
