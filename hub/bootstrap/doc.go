// Package bootstrap sets up a kcp hub for Atrium and manages organizations.
//
// Init makes the provider workspace root:atrium (the ComputeCluster CRD, the APIResourceSchemas
// and the APIExport of the tenant API, the workspace types, RBAC for the hub controller and
// agents, the admission policies, among them AgentPolicy, which keeps each agent to the
// workspaces of its own cluster) and the parent of all organizations, root:orgs. It is idempotent and safe to run
// concurrently: objects are server-side applied, schemas are immutable and content-named, so
// an upgrade adds new schemas and moves the export to them.
//
// CreateOrg makes root:orgs:<name> of the organization workspace type, whose default APIBinding
// binds the export, and grants its admins and members.
package bootstrap
