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

// Package materialize owns the agent's local controller: it reconciles
// compute.atrium.dev/v1alpha1 LocalWorkspace objects on the compute cluster
// into the objects that run a workspace, and reports what it observes in the
// LocalWorkspace's status (the syncer copies that status to the hub).
//
// It runs in a plain, single-cluster controller-runtime manager on the compute
// cluster. The syncer creates the LocalWorkspaces and their namespaces; this
// package never reads the hub.
//
// # What one LocalWorkspace becomes
//
// Everything is built from spec.effective (the hub's status.effective: what the hub
// validated) and spec.desiredStatus, never from the tenant's spec, which the mirror does not
// carry. An edit the hub refused (Valid=False) leaves status.effective as it was, so it changes
// nothing here: same Deployment, same generation, no write.
//
// All objects live in the LocalWorkspace's namespace, carry the labels
// app.kubernetes.io/name=atrium-workspace, app.kubernetes.io/managed-by=atrium
// and atrium.dev/workspace=<name>, and have the LocalWorkspace as controller
// owner, so Kubernetes garbage collection removes them with it.
//
//   - PersistentVolumeClaim "<name>-home" (ReadWriteOnce), labelled
//     atrium.dev/home-of=<name>: the primary storage. Size, class and mount path come from
//     spec.effective.storage, else 10Gi, the cluster's default class and /home/jovyan (the
//     hub's own defaults). It is created once and never changed or deleted by this
//     controller (only the home-of label is added to a claim that lacks it): it outlives
//     stops, and a bound claim's class and size are not ours to change. Only owner GC
//     removes it. A claim of that name that the workspace does not own and that is not
//     labelled as its home is refused (Degraded, VolumeNotAllowed), never mounted.
//   - Deployment "<name>": one replica while spec.desiredStatus is Running (the default),
//     zero when Stopped; strategy Recreate, because the home volume is ReadWriteOnce. Its pod
//     template is internal/podspec.Build of spec.effective (the function the hub checks Pod
//     Security with): restricted security defaults where the effective spec sets none, no
//     service-account token unless effective.automountServiceAccountToken, pod labels and
//     annotations from the execution profile with ours winning.
//   - Secondary volumes (spec.effective.volumes) are checked again before the Deployment is
//     written: a claim that does not exist (VolumeNotFound) or that is another workspace's
//     home (labelled home-of another workspace, controlled by another LocalWorkspace, or
//     named <neighbour>-home; VolumeNotAllowed) makes the workspace Degraded and leaves the
//     Deployment exactly as it is (only stopping still scales it to zero).
//   - Service "<name>" (ClusterIP), port "http" to the container port chosen by
//     spec.effective.appType: jupyterlab/jupyter 8888, code-server/vscode 8080,
//     theia 3000, anything else 8888 (the Jupyter default, since most
//     workspaces are notebooks).
//   - Access resources, rendered by package agent/access from the
//     WorkspaceAccessStrategy named by spec.effective.accessStrategy, while the workspace
//     runs. They are
//     labelled atrium.dev/access-for=<name> (status.accessResourceSelector),
//     server-side applied with field manager "atrium-agent", pruned when a
//     template stops rendering them, and all deleted when the workspace stops.
//     No strategy named means no access resources: the workspace is Available
//     without a URL once its pod is ready. A strategy that renders an invalid
//     object makes the workspace Degraded (AccessResourceInvalid) and changes
//     nothing else: the Deployment and the last good access resources stay.
//
// A pod the compute cluster's API server refuses to create (the namespace's Pod Security
// level, ResourceQuota or LimitRange; see package agent/confine) makes the workspace Degraded
// with reason PodRefused and the API server's message.
//
// # Contract with the syncer
//
// Access templates see the hub workspace's labels and annotations. The syncer
// writes them on the LocalWorkspace as JSON-encoded string maps under the
// annotations HubLabelsAnnotation ("atrium.dev/hub-labels") and
// HubAnnotationsAnnotation ("atrium.dev/hub-annotations"); EncodeHubMetadata
// produces the values. A missing annotation means an empty map; an undecodable
// one is logged and treated as empty. The syncer should also call InstallCRDs
// (or the agent at start) so the compute-group CRDs are Established before the
// manager starts.
//
// # No needless writes
//
// Every managed object is server-side applied through package agent/apply, but
// only when it differs from what we would write. Each object carries the
// annotation "atrium.dev/desired-hash", a hash of the desired object; an object
// is left alone when that hash matches and every field we set is present with
// the same value (fields the API server defaulted or others added are ignored).
// So a change of our intent (including removing a field) or an edit of a field
// we own is repaired, and reconciling an unchanged workspace sends no write
// request at all. Status is patched (MergeFrom against the object as read),
// once per reconcile, and only when it changed.
//
// # Drift
//
// Deployments, Services and PVCs are watched (Owns), so deleting or editing
// them triggers a repair at once. Access resources may be of any kind, which we
// do not watch: while a workspace runs it is reconciled again every
// Options.ResyncPeriod (default 60s), which restores deleted or edited access
// resources within that period. Pods of workspaces and
// WorkspaceAccessStrategies are watched too, so pod problems and strategy
// edits show up at once.
//
// # Access startup probe
//
// When the strategy has an accessStartupProbe, Available becomes True only
// after the rendered probe URL answered (2xx/3xx or an additional success
// code), once the pod is ready and the access resources are applied. Attempts
// honor initialDelaySeconds, periodSeconds and timeoutSeconds by requeueing
// (RequeueAfter), never by sleeping; one attempt blocks a worker for at most
// timeoutSeconds. After failureThreshold consecutive failures the workspace is
// Degraded with reason AccessProbeFailed (message with the URL and the last
// error) and is not probed again for that start.
//
// Probe progress lives in memory, keyed by the LocalWorkspace UID, together
// with a start marker: the UID of the ready workspace pod. A new pod (a stop
// and start, a rollout, a rescheduled pod) is a new start and probes afresh;
// stopping forgets the state. After an agent restart, a workspace whose status
// already says Available (PodsReady) or Degraded (AccessProbeFailed) for the
// current generation keeps that verdict for its current pod instead of
// probing again.
//
// # Phases
//
// Pending (objects being created), Starting (pod not ready or probe pending),
// Running (Available), Stopping, Stopped, Failed (a pod problem a tenant must
// fix: image pull failure, unschedulable pod, crash loop; or a failed access
// probe) and Deleting (the LocalWorkspace is being deleted; nothing is written
// but status, GC cleans up).
package materialize
