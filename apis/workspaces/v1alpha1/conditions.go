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

package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionType is the type of a condition of a Workspace (and of its mirror
// on the compute cluster, which uses the same types so the agent can copy them
// one to one).
type ConditionType string

// ConditionReason is the machine-readable reason of a condition. Tenants see
// it next to a message that says what to change.
type ConditionReason string

// Valid: the hub resolved the workspace against its template and execution
// profile. Written by the hub only. A False Valid never stops a workspace that
// is already running; it only blocks placing new specs.
const (
	// ConditionValid is True when the spec resolves within the template's bounds.
	ConditionValid ConditionType = "Valid"

	// ReasonResolved: the spec resolved; status.effective holds the result.
	ReasonResolved ConditionReason = "Resolved"
	// ReasonTemplateNotFound: spec.templateRef names no WorkspaceTemplate.
	ReasonTemplateNotFound ConditionReason = "TemplateNotFound"
	// ReasonImageNotAllowed: spec.image is neither the template's default image
	// nor matched by its allowedImages.
	ReasonImageNotAllowed ConditionReason = "ImageNotAllowed"
	// ReasonResourceOutOfBounds: a request or limit is outside the template's
	// resourceBounds.
	ReasonResourceOutOfBounds ConditionReason = "ResourceOutOfBounds"
	// ReasonStorageOutOfBounds: spec.storage.size is outside the template's
	// primaryStorage bounds.
	ReasonStorageOutOfBounds ConditionReason = "StorageOutOfBounds"
	// ReasonIdleTimeoutOutOfBounds: spec.idleShutdown exceeds the template's
	// maximum, or overrides it where the template forbids that.
	ReasonIdleTimeoutOutOfBounds ConditionReason = "IdleTimeoutOutOfBounds"
	// ReasonAccessStrategyNotAllowed: spec.accessStrategy is not allowed by the
	// template.
	ReasonAccessStrategyNotAllowed ConditionReason = "AccessStrategyNotAllowed"
	// ReasonExecutionProfileNotFound: the execution profile does not exist.
	ReasonExecutionProfileNotFound ConditionReason = "ExecutionProfileNotFound"
	// ReasonExecutionProfileNotAllowed: the execution profile, or the profile
	// selected by spec.serviceAccountName, is not allowed by the template.
	ReasonExecutionProfileNotAllowed ConditionReason = "ExecutionProfileNotAllowed"
	// ReasonDefaultTemplateMissing: the workspace names no template and no
	// WorkspaceTemplate of the organization carries the default-template label.
	ReasonDefaultTemplateMissing ConditionReason = "DefaultTemplateMissing"
	// ReasonDefaultTemplateAmbiguous: the workspace names no template and more
	// than one WorkspaceTemplate carries the default-template label.
	ReasonDefaultTemplateAmbiguous ConditionReason = "DefaultTemplateAmbiguous"
	// ReasonInitContainersNotAllowed: spec.initContainers is set and the template
	// does not allow custom init containers.
	ReasonInitContainersNotAllowed ConditionReason = "InitContainersNotAllowed"
	// ReasonTolerationNotAllowed: a toleration is not in the template's
	// allowedTolerations.
	ReasonTolerationNotAllowed ConditionReason = "TolerationNotAllowed"
	// ReasonNodeSelectionNotAllowed: nodeSelector or affinity selects on a node
	// label the template's allowedNodeLabels does not allow, or uses inter-pod
	// affinity.
	ReasonNodeSelectionNotAllowed ConditionReason = "NodeSelectionNotAllowed"
	// ReasonVolumeNotAllowed: a secondary volume names a claim the template's
	// allowedVolumeClaims does not allow or a workspace's home volume (the hub,
	// Valid=False); on the compute cluster (the agent, Degraded=True) a claim
	// that is another workspace's home, or a home claim owned by someone else.
	// Nothing of the running pod changes until the volume is fixed.
	ReasonVolumeNotAllowed ConditionReason = "VolumeNotAllowed"
	// ReasonEnvReserved: an environment variable uses a name the platform
	// reserves (NVIDIA_*, KUBERNETES_*, ATRIUM_*, ...).
	ReasonEnvReserved ConditionReason = "EnvReserved"
	// ReasonPodSecurityViolation: the pod the agent would build violates the
	// template's Pod Security level; the message names the field and the rule.
	ReasonPodSecurityViolation ConditionReason = "PodSecurityViolation"
	// ReasonTooLarge: the labels and annotations, or the runtime spec, the agent
	// would carry to the compute cluster exceed the platform's size cap.
	ReasonTooLarge ConditionReason = "TooLarge"
	// ReasonOrganizationLimitReached: the organization already has as many
	// workspaces as its OrganizationQuota (platform.atrium.dev) allows. Also the
	// False reason of a WorkspaceShare's Accepted condition.
	ReasonOrganizationLimitReached ConditionReason = "OrganizationLimitReached"
	// ReasonInvalidSpec: another problem the schema could not catch; the
	// message names the field.
	ReasonInvalidSpec ConditionReason = "InvalidSpec"
)

// Scheduled: the hub placed the workspace on a compute cluster
// (status.placement). Written by the hub only.
const (
	// ConditionScheduled is True when status.placement names a compute cluster.
	ConditionScheduled ConditionType = "Scheduled"

	// ReasonPlaced: the workspace is placed on status.placement.cluster.
	ReasonPlaced ConditionReason = "Placed"
	// ReasonNotValid: placement waits for the Valid condition.
	ReasonNotValid ConditionReason = "NotValid"
	// ReasonNoClusterFits: no Ready, schedulable compute cluster serving the
	// workspace's shard matches its selectors, capacity and access strategy.
	ReasonNoClusterFits ConditionReason = "NoClusterFits"
	// ReasonUserLimitReached: the owner already runs the template's
	// maxRunningWorkspacesPerUser workspaces.
	ReasonUserLimitReached ConditionReason = "UserLimitReached"
	// ReasonEvicted: the workspace was taken off an unreachable cluster by its
	// eviction policy and waits to be placed again.
	ReasonEvicted ConditionReason = "Evicted"
	// ReasonWaitingForStart: the workspace is stopped and was never placed (or was
	// evicted); it is placed when it is started, so a stopped workspace holds no
	// cluster's capacity.
	ReasonWaitingForStart ConditionReason = "WaitingForStart"
)

// Available: the workspace serves its IDE at status.accessURL. Written by the
// placed agent.
const (
	// ConditionAvailable is True when pods are ready and the access probe passed.
	ConditionAvailable ConditionType = "Available"

	// ReasonPodsReady: pods are ready and the access startup probe passed.
	ReasonPodsReady ConditionReason = "PodsReady"
	// ReasonPodsNotReady: the workspace pod is not ready yet.
	ReasonPodsNotReady ConditionReason = "PodsNotReady"
	// ReasonAccessProbePending: pods are ready, the access URL does not answer yet.
	ReasonAccessProbePending ConditionReason = "AccessProbePending"
	// ReasonAccessProbeFailed: the access startup probe exhausted its
	// failureThreshold. Also a Degraded reason.
	ReasonAccessProbeFailed ConditionReason = "AccessProbeFailed"
	// ReasonWorkspaceStopped: the workspace is stopped, so it is not available.
	ReasonWorkspaceStopped ConditionReason = "WorkspaceStopped"
)

// Progressing: the workspace is moving towards its desired status. Written by
// the placed agent.
const (
	// ConditionProgressing is True while starting, stopping or rolling out.
	ConditionProgressing ConditionType = "Progressing"

	// ReasonCreating: the local resources are being created.
	ReasonCreating ConditionReason = "Creating"
	// ReasonStarting: resources exist, pods are starting.
	ReasonStarting ConditionReason = "Starting"
	// ReasonUpdating: a spec change is rolling out.
	ReasonUpdating ConditionReason = "Updating"
	// ReasonStopping: scaling to zero.
	ReasonStopping ConditionReason = "Stopping"
	// ReasonReconciled: nothing is in progress (Progressing=False).
	ReasonReconciled ConditionReason = "Reconciled"
)

// Degraded: the workspace failed to reach or keep its desired status and needs
// attention. Written by the placed agent.
const (
	// ConditionDegraded is True when something is wrong that waiting won't fix.
	ConditionDegraded ConditionType = "Degraded"

	// ReasonImagePullFailed: the image cannot be pulled.
	ReasonImagePullFailed ConditionReason = "ImagePullFailed"
	// ReasonUnschedulable: the compute cluster's scheduler cannot place the pod.
	ReasonUnschedulable ConditionReason = "Unschedulable"
	// ReasonCrashLooping: the workspace container keeps restarting.
	ReasonCrashLooping ConditionReason = "CrashLooping"
	// ReasonAccessStrategyNotFound: the compute cluster does not offer the
	// effective access strategy (any more).
	ReasonAccessStrategyNotFound ConditionReason = "AccessStrategyNotFound"
	// ReasonAccessResourceInvalid: an access resource template rendered an
	// object that was refused (wrong kind, namespace, size or content).
	ReasonAccessResourceInvalid ConditionReason = "AccessResourceInvalid"
	// ReasonPodRefused: the compute cluster's API server refused to create the workspace
	// pod (its Pod Security level, the namespace's ResourceQuota or LimitRange); the message
	// quotes the refusal.
	ReasonPodRefused ConditionReason = "PodRefused"
	// ReasonVolumeNotFound: a secondary volume names a claim that does not exist in the
	// workspace's namespace on the compute cluster.
	ReasonVolumeNotFound ConditionReason = "VolumeNotFound"
	// ReasonHealthy: nothing is wrong (Degraded=False).
	ReasonHealthy ConditionReason = "Healthy"
)

// Stopped: the workspace is scaled to zero. Written by the placed agent for
// StoppedByUser; the hub sets desiredStatus-independent stops (idle, lifetime)
// by recording the reason before asking the agent to stop.
const (
	// ConditionStopped is True when the workspace runs no pods.
	ConditionStopped ConditionType = "Stopped"

	// ReasonStoppedByUser: spec.desiredStatus is Stopped.
	ReasonStoppedByUser ConditionReason = "StoppedByUser"
	// ReasonIdleTimeout: stopped after being idle longer than the idle timeout.
	ReasonIdleTimeout ConditionReason = "IdleTimeout"
	// ReasonLifetimeExceeded: stopped after running longer than maxLifetime.
	ReasonLifetimeExceeded ConditionReason = "LifetimeExceeded"
	// ReasonRunning: the workspace is not stopped (Stopped=False).
	ReasonRunning ConditionReason = "Running"
)

// ClusterReachable: the hub hears from the compute cluster the workspace is
// placed on. Written by the hub. False never deletes anything by itself.
const (
	// ConditionClusterReachable is True while the placed cluster heartbeats.
	ConditionClusterReachable ConditionType = "ClusterReachable"

	// ReasonHeartbeatCurrent: the cluster's agent heartbeats in time.
	ReasonHeartbeatCurrent ConditionReason = "HeartbeatCurrent"
	// ReasonClusterUnreachable: the cluster's heartbeat is overdue; the
	// workspace probably still runs there.
	ReasonClusterUnreachable ConditionReason = "ClusterUnreachable"
	// ReasonClusterNotFound: the ComputeCluster of the placement is gone.
	ReasonClusterNotFound ConditionReason = "ClusterNotFound"
	// ReasonLocalCleanupPending: the workspace was deleted while its cluster was
	// unreachable for longer than the hub's deletion timeout; the hub released the
	// agent's finalizer, and the agent removes the local leftovers when it returns.
	ReasonLocalCleanupPending ConditionReason = "LocalCleanupPending"
)

// InUse: a WorkspaceTemplate is referenced by workspaces. Written by the hub on
// templates. While True the template keeps its finalizer, so deleting it waits
// until the last workspace using it is gone.
const (
	// TemplateConditionInUse is True while at least one workspace uses the template.
	TemplateConditionInUse ConditionType = "InUse"

	// ReasonWorkspacesUseTemplate: workspaces reference the template; the message
	// counts them.
	ReasonWorkspacesUseTemplate ConditionReason = "WorkspacesUseTemplate"
	// ReasonUnused: no workspace references the template (InUse=False).
	ReasonUnused ConditionReason = "Unused"
)

// UserLimit: the workspace is within its template's maxRunningWorkspacesPerUser
// for its owner. Written by the hub (field manager atrium-hub-limits) only for
// workspaces whose template sets a limit. When False, the hub has set
// spec.desiredStatus to Stopped; it starts again only when the tenant sets
// Running again and a slot is free.
const (
	// ConditionUserLimit is True while the owner's running workspaces of the
	// template are within the limit.
	ConditionUserLimit ConditionType = "UserLimit"

	// ReasonWithinUserLimit: the workspace holds one of the owner's slots.
	ReasonWithinUserLimit ConditionReason = "WithinUserLimit"
	// ReasonUserLimitReached (declared with Scheduled) is the False reason.

	// ReasonOwnerUnknown: the template limits workspaces per user, and the
	// workspace has no recorded owner (no atrium.dev/created-by annotation), so
	// it cannot be counted and is not run.
	ReasonOwnerUnknown ConditionReason = "OwnerUnknown"
)

// AutoStopped: the hub stopped the workspace on its own, because it was idle
// longer than its idle timeout or ran longer than its maximum lifetime. Written
// by the hub (field manager atrium-hub-lifecycle); the agent's Stopped
// condition says StoppedByUser, because it sees only spec.desiredStatus. True
// (reason IdleTimeout or LifetimeExceeded, declared with Stopped) stays until the
// tenant sets spec.desiredStatus to Running again.
const (
	// ConditionAutoStopped is True when the hub stopped the workspace.
	ConditionAutoStopped ConditionType = "AutoStopped"

	// ReasonWithinPolicy: the workspace runs within its idle and lifetime
	// policy (AutoStopped=False); the message states the policy.
	ReasonWithinPolicy ConditionReason = "WithinPolicy"
)

// IdleDetection: the agent can read the workspace's last activity for idle
// shutdown. Written by the placed agent, only while idle shutdown applies
// (absent otherwise). False means the workspace is never stopped for
// idleness, only by its maximum lifetime, until its detection is fixed.
const (
	// ConditionIdleDetection is True once the agent read the IDE's last
	// activity as the workspace's idle detection asks.
	ConditionIdleDetection ConditionType = "IdleDetection"

	// ReasonActivityRead: the last activity was read (True).
	ReasonActivityRead ConditionReason = "ActivityRead"
	// ReasonDetectionHostNotAllowed: idleShutdown.detection.httpGet.host is
	// not the host of the workspace's own access URL, so the agent does not
	// send the request there (False): the agent reaches out for a workspace
	// only to the workspace itself.
	ReasonDetectionHostNotAllowed ConditionReason = "DetectionHostNotAllowed"
)

// Accepted: a WorkspaceShare holds one of its organization's quota of shares.
// Written by the hub (field manager atrium-hub-orglimits) on WorkspaceShares. A
// share with Accepted=False grants nobody access (Granted=False, NotAccepted).
const (
	// ShareConditionAccepted is True while the share is within the
	// organization's maxWorkspaceShares.
	ShareConditionAccepted ConditionType = "Accepted"

	// ReasonWithinOrganizationLimit: the share holds one of the organization's
	// share slots.
	ReasonWithinOrganizationLimit ConditionReason = "WithinOrganizationLimit"
	// ReasonOrganizationLimitReached (declared with Valid) is the False reason.
)

// Granted: a WorkspaceShare lets the users and groups it names into its
// workspace, that is, they are in the workspace's status.access. Written by the
// hub on WorkspaceShares, by the same writer as Accepted (field manager
// atrium-hub-orglimits), from the verdict the hub's sharing controller applies to
// status.access (hub/sharing.Judge), so the two agree. The message names the
// workspace's owner. False reasons, in the order they are checked:
// WorkspaceNotFound, OwnerUnknown (declared with UserLimit), CreatorNotOwner,
// NotAccepted, NotOwnerOnly, TooManyPrincipals.
const (
	// ShareConditionGranted is True while the share's users and groups may
	// connect to its workspace.
	ShareConditionGranted ConditionType = "Granted"

	// ReasonGranted: the share counts; its users and groups are in the
	// workspace's status.access.
	ReasonGranted ConditionReason = "Granted"
	// ReasonWorkspaceNotFound: spec.workspaceName names no workspace in the
	// share's namespace (yet). The share is judged again when it appears.
	ReasonWorkspaceNotFound ConditionReason = "WorkspaceNotFound"
	// ReasonCreatorNotOwner: the share's recorded creator (atrium.dev/created-by)
	// is not the workspace's owner, and no organization admin created it
	// (atrium.dev/created-by-admin): only the owner or an organization admin
	// shares a workspace.
	ReasonCreatorNotOwner ConditionReason = "CreatorNotOwner"
	// ReasonNotAccepted: the share is over the organization's quota of shares
	// (its Accepted condition is not True).
	ReasonNotAccepted ConditionReason = "NotAccepted"
	// ReasonNotOwnerOnly: the workspace's accessType is Public, so every member
	// may connect and the share changes nothing; it counts again when the
	// workspace becomes OwnerOnly.
	ReasonNotOwnerOnly ConditionReason = "NotOwnerOnly"
	// ReasonTooManyPrincipals: the workspace's earlier granted shares already let
	// in MaxSharedPrincipals distinct users and groups, and this share would add
	// more.
	ReasonTooManyPrincipals ConditionReason = "TooManyPrincipals"
)

// MaxSharedPrincipals caps the distinct users and groups (together, the owner not
// counted) that the granted WorkspaceShares of one workspace let in. Every grant
// travels to the compute cluster in the workspace's mirror and into its access
// resources, and the console checks it on every request: the cap keeps those small.
// Shares are granted oldest first; one that would pass the cap is Granted=False
// (TooManyPrincipals) as a whole, and counts once older shares are deleted.
const MaxSharedPrincipals = 512

// SetCondition sets a condition in conds, stamping observedGeneration, and
// reports whether anything changed. The transition time only moves when the
// status flips, so re-asserting a condition every reconcile is cheap.
func SetCondition(conds *[]metav1.Condition, t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string, observedGeneration int64) bool {
	return meta.SetStatusCondition(conds, metav1.Condition{
		Type:               string(t),
		Status:             status,
		Reason:             string(reason),
		Message:            message,
		ObservedGeneration: observedGeneration,
	})
}

// FindCondition returns the condition of type t, or nil.
func FindCondition(conds []metav1.Condition, t ConditionType) *metav1.Condition {
	return meta.FindStatusCondition(conds, string(t))
}

// IsConditionTrue reports whether the condition of type t is True.
func IsConditionTrue(conds []metav1.Condition, t ConditionType) bool {
	return meta.IsStatusConditionTrue(conds, string(t))
}

// IsConditionCurrent reports whether the condition of type t exists and was
// written for the given generation, so stale conditions are not trusted.
func IsConditionCurrent(conds []metav1.Condition, t ConditionType, generation int64) bool {
	c := FindCondition(conds, t)
	return c != nil && c.ObservedGeneration == generation
}
