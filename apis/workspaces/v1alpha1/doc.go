/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package v1alpha1 owns the tenant-facing API of Atrium, group workspaces.atrium.dev:
// Workspace, WorkspaceTemplate, WorkspaceShare and WorkspaceExecutionProfile.
//
// These types are served to tenants in their organization's kcp logical cluster
// through the APIExport workspaces.atrium.dev. Workspace keeps the field names and
// shapes of jupyter-k8s workspace.jupyter.org/v1alpha1 wherever the concept is the
// same, so a jupyter-k8s Workspace manifest works after changing only its apiVersion.
//
// All validation a tenant can trip over lives in the schema (OpenAPI and CEL), so
// a bad object is rejected at the API with a message saying what to change; what
// the schema cannot know (templates, quotas, capacity) is reported by the hub as
// the Valid and Scheduled conditions.
//
// # Who writes what on a hub Workspace
//
// Every part of a Workspace has one writer. The tenant writes metadata (but the keys below)
// and spec; the hub writes through one reconciler, hub/workspace, one phase per concern, in one
// status write per reconcile; the placed agent (the agent of the compute cluster named by
// status.placement.cluster) writes what it observes on that cluster. Nobody writes another's
// part, so no write has to guess what someone else meant.
//
//	status field / condition                  writer (hub/workspace phase, or the agent)
//	----------------------------------------  -------------------------------------------------
//	effective, condition Valid                hub, validity: the spec resolved against its template
//	                                          and execution profile (hub/templates); written only
//	                                          for a valid generation, kept when an edit is invalid
//	owner                                     hub, owner: from annotation atrium.dev/created-by
//	access                                    hub, sharing: allowed users and groups of an OwnerOnly
//	                                          workspace (hub/sharing); absent with Public
//	condition UserLimit                       hub, limits: only under a template with
//	                                          maxRunningWorkspacesPerUser
//	placement.{cluster,shard,region,time},    hub, placement: written once, on the resourceVersion
//	condition Scheduled                       it was decided on; cleared only by an eviction
//	condition ClusterReachable                hub, reachability: only while placed
//	condition AutoStopped                     hub, lifecycle: idle timeout and maximum lifetime
//	placement.localNamespace                  agent: the namespace of the mirror on its cluster
//	phase, message, observedGeneration        agent: observedGeneration is the hub generation the
//	                                          mirror's status describes (the mirror carries it in
//	                                          its annotation atrium.dev/hub-generation)
//	deploymentName, serviceName, accessURL,   agent
//	applicationBasePath,
//	accessResourceSelector, accessResources
//	lastActivity                              agent: read from the idle detection endpoint
//	conditions Available, Progressing,        agent
//	Degraded, Stopped, IdleDetection
//
// HubConditions and AgentConditions list the two sets of condition types. The hub writes its
// part as a JSON patch that touches only its own conditions (tested at their index) and
// fields; the agent writes its part as a merge patch locked on the resourceVersion.
//
// Beyond the status, on the Workspace:
//
//   - spec.desiredStatus: the tenant's; the hub sets it to Stopped on its own only to enforce a
//     per-user limit or an idle or lifetime policy, after the condition saying why, and never
//     sets it to Running.
//   - label atrium.dev/cluster (LabelCluster): the hub's, equal to status.placement.cluster,
//     written after the placement and removed after it is cleared. Agents' caches select on it.
//   - annotation atrium.dev/created-by (AnnotationCreatedBy): set on create by the hub's
//     creator webhook, never changed (a ValidatingAdmissionPolicy refuses changes); the owner.
//   - finalizer agent.atrium.dev/<cluster> (AgentFinalizer): the placed agent's, added before it
//     materializes anything and removed when its local resources are gone; the hub removes it
//     only for a deleted workspace whose cluster has been unreachable for the deletion timeout
//     (condition ClusterReachable=False LocalCleanupPending).
//
// On a WorkspaceTemplate: the finalizer workspaces.atrium.dev/template-in-use
// (TemplateInUseFinalizer), status.workspaceCount and condition InUse are the hub's
// (hub/templateuse); the label workspaces.atrium.dev/default-template (LabelDefaultTemplate) is
// the organization admins'. On a WorkspaceShare: condition Accepted is the hub's
// (hub/orglimits), annotation atrium.dev/created-by as on Workspaces.
//
// +kubebuilder:object:generate=true
// +groupName=workspaces.atrium.dev
package v1alpha1
