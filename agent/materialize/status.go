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

package materialize

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// probeState is where the access startup probe of the current start stands.
type probeState int

const (
	// probeNone: the strategy has no access startup probe.
	probeNone probeState = iota
	// probePending: the probe has not passed yet.
	probePending
	// probePassed: the probe passed for the current start.
	probePassed
	// probeFailed: the probe exhausted its failureThreshold for the current start.
	probeFailed
)

// probeResult is the probe's verdict for this reconcile.
type probeResult struct {
	State   probeState
	Message string
}

// accessResult is what the access phase observed and did.
type accessResult struct {
	// StrategyName is the named strategy, "" when none is.
	StrategyName string
	// Problem is set when the strategy is missing or renders something invalid.
	Problem *problem
	// Rendered is true when URL, BasePath and Resources hold this reconcile's
	// rendering; otherwise the status keeps its previous values.
	Rendered  bool
	URL       string
	BasePath  string
	Resources []workspacesv1alpha1.AccessResourceStatus
	// Cleared is true when the workspace is stopped (or names no strategy) and
	// every access resource is gone.
	Cleared bool
	// Probe is the access startup probe's verdict.
	Probe probeResult
}

// summary is the observed state the conditions and the phase are computed from.
type summary struct {
	running    bool // the workspace should run
	stopped    bool // no pod runs and none is wanted
	creating   bool // an object was missing this reconcile
	ready      bool // the pod runs the current spec and is ready
	rolledOut  bool // the Deployment controller caught up with the spec
	hadPods    bool // pods exist
	podProblem *problem
	// volumeProblem: a volume is refused, and the Deployment is left as it is.
	volumeProblem *problem
	access        accessResult
}

func summarize(s *scope) summary {
	sum := summary{
		running:       wantsRunning(s.lw),
		creating:      (s.created || s.deployment == nil) && s.volumeProblem == nil,
		volumeProblem: s.volumeProblem,
		ready:         deploymentReady(s.deployment) && readyPod(s.pods) != "",
		rolledOut:     deploymentRolledOut(s.deployment),
		hadPods:       len(s.pods) > 0,
		access:        s.access,
	}
	sum.stopped = !sum.running && (deploymentStopped(s.deployment, s.pods) ||
		s.deployment == nil && s.volumeProblem != nil && len(s.pods) == 0)
	if sum.running && !sum.ready {
		sum.podProblem = findPodProblem(s.pods)
		if sum.podProblem == nil {
			sum.podProblem = podRefused(s.deployment)
		}
	}
	return sum
}

// degradedProblem is the one problem Degraded reports, in the order a tenant
// or platform team should fix them.
func (sum summary) degradedProblem() *problem {
	if !sum.running {
		return nil
	}
	if sum.volumeProblem != nil {
		return sum.volumeProblem
	}
	if sum.podProblem != nil {
		return sum.podProblem
	}
	if sum.access.Problem != nil {
		return sum.access.Problem
	}
	if sum.access.Probe.State == probeFailed {
		return &problem{Reason: workspacesv1alpha1.ReasonAccessProbeFailed, Message: sum.access.Probe.Message}
	}
	return nil
}

// updateStatus computes the whole status the controller owns from the
// observed state; fields it does not own (lastActivity, conditions of other
// types) are left as they are.
func updateStatus(s *scope) {
	lw := s.lw
	st := &lw.Status
	st.ObservedGeneration = lw.Generation
	if lw.DeletionTimestamp != nil {
		st.Phase = workspacesv1alpha1.WorkspacePhaseDeleting
		st.Message = "the workspace is being deleted; its resources go with it"
		return
	}
	sum := summarize(s)
	st.DeploymentName = DeploymentName(lw)
	st.ServiceName = ServiceName(lw)
	setAccessFields(st, lw, sum.access)

	setAvailable(lw, sum)
	setProgressing(lw, sum)
	setDegraded(lw, sum)
	setStopped(lw, sum)
	st.Phase, st.Message = phase(lw, sum)
}

func setAccessFields(st *computev1alpha1.LocalWorkspaceStatus, lw *computev1alpha1.LocalWorkspace, a accessResult) {
	st.AccessResourceSelector = ""
	if a.StrategyName != "" {
		st.AccessResourceSelector = AccessSelector(lw)
	}
	switch {
	case a.Rendered:
		st.AccessURL, st.ApplicationBasePath = a.URL, a.BasePath
		st.AccessResources = a.Resources
	case a.Cleared:
		st.AccessURL, st.ApplicationBasePath, st.AccessResources = "", "", nil
	}
}

func setAvailable(lw *computev1alpha1.LocalWorkspace, sum summary) {
	status, reason, msg := metav1.ConditionFalse, workspacesv1alpha1.ReasonPodsNotReady, "waiting for the workspace pod to become ready"
	switch {
	case !sum.running:
		reason, msg = workspacesv1alpha1.ReasonWorkspaceStopped, "the workspace is stopped"
	case !sum.ready && sum.podProblem != nil:
		msg = sum.podProblem.Message
	case !sum.ready:
	case sum.access.Problem != nil:
		reason, msg = sum.access.Problem.Reason, sum.access.Problem.Message
	case sum.access.Probe.State == probePending:
		reason, msg = workspacesv1alpha1.ReasonAccessProbePending, sum.access.Probe.Message
	case sum.access.Probe.State == probeFailed:
		reason, msg = workspacesv1alpha1.ReasonAccessProbeFailed, sum.access.Probe.Message
	default:
		status, reason, msg = metav1.ConditionTrue, workspacesv1alpha1.ReasonPodsReady, "the workspace pod is ready"
		if lw.Status.AccessURL != "" {
			msg = "the workspace is available at " + lw.Status.AccessURL
		}
	}
	lw.SetCondition(workspacesv1alpha1.ConditionAvailable, status, reason, msg)
}

func setProgressing(lw *computev1alpha1.LocalWorkspace, sum summary) {
	status, reason, msg := metav1.ConditionTrue, workspacesv1alpha1.ReasonStarting, "the workspace pod is starting"
	switch {
	case !sum.running && sum.stopped:
		status, reason, msg = metav1.ConditionFalse, workspacesv1alpha1.ReasonReconciled, "the workspace is stopped"
	case !sum.running:
		reason, msg = workspacesv1alpha1.ReasonStopping, "the workspace is scaling to zero"
	case sum.creating:
		reason, msg = workspacesv1alpha1.ReasonCreating, "the workspace's resources are being created"
	case sum.degradedProblem() != nil:
		p := sum.degradedProblem()
		status, reason, msg = metav1.ConditionFalse, p.Reason, "stuck: "+p.Message
	case !sum.rolledOut && sum.hadPods:
		reason, msg = workspacesv1alpha1.ReasonUpdating, "a change of the workspace is rolling out"
	case !sum.ready:
	case sum.access.Probe.State == probePending:
		msg = "waiting for the access URL to answer"
	default:
		status, reason, msg = metav1.ConditionFalse, workspacesv1alpha1.ReasonReconciled, "the workspace runs as specified"
	}
	lw.SetCondition(workspacesv1alpha1.ConditionProgressing, status, reason, msg)
}

func setDegraded(lw *computev1alpha1.LocalWorkspace, sum summary) {
	if p := sum.degradedProblem(); p != nil {
		lw.SetCondition(workspacesv1alpha1.ConditionDegraded, metav1.ConditionTrue, p.Reason, p.Message)
		return
	}
	lw.SetCondition(workspacesv1alpha1.ConditionDegraded, metav1.ConditionFalse, workspacesv1alpha1.ReasonHealthy, "nothing is wrong")
}

func setStopped(lw *computev1alpha1.LocalWorkspace, sum summary) {
	switch {
	case sum.stopped:
		lw.SetCondition(workspacesv1alpha1.ConditionStopped, metav1.ConditionTrue, workspacesv1alpha1.ReasonStoppedByUser, "the workspace is stopped; its storage is kept")
	case !sum.running:
		lw.SetCondition(workspacesv1alpha1.ConditionStopped, metav1.ConditionFalse, workspacesv1alpha1.ReasonStopping, "the workspace is scaling to zero")
	default:
		lw.SetCondition(workspacesv1alpha1.ConditionStopped, metav1.ConditionFalse, workspacesv1alpha1.ReasonRunning, "the workspace is not stopped")
	}
}

// phase summarizes the conditions in one word and one sentence.
func phase(lw *computev1alpha1.LocalWorkspace, sum summary) (workspacesv1alpha1.WorkspacePhase, string) {
	switch {
	case sum.stopped:
		return workspacesv1alpha1.WorkspacePhaseStopped, "the workspace is stopped; its storage is kept"
	case !sum.running:
		return workspacesv1alpha1.WorkspacePhaseStopping, "the workspace is scaling to zero"
	case sum.degradedProblem() != nil:
		return workspacesv1alpha1.WorkspacePhaseFailed, sum.degradedProblem().Message
	case sum.creating:
		return workspacesv1alpha1.WorkspacePhasePending, "the workspace's resources are being created"
	}
	if c := lw.GetCondition(workspacesv1alpha1.ConditionAvailable); c != nil && c.Status == metav1.ConditionTrue {
		return workspacesv1alpha1.WorkspacePhaseRunning, c.Message
	} else if c != nil {
		return workspacesv1alpha1.WorkspacePhaseStarting, c.Message
	}
	return workspacesv1alpha1.WorkspacePhaseStarting, "the workspace is starting"
}

// patchStatus writes the status once, as a merge patch against the object as
// read, and only when it changed.
func (r *Reconciler) patchStatus(ctx context.Context, s *scope) error {
	if equality.Semantic.DeepEqual(s.orig.Status, s.lw.Status) {
		return nil
	}
	if err := r.client.Status().Patch(ctx, s.lw, client.MergeFrom(s.orig)); err != nil {
		return fmt.Errorf("failed to patch status of LocalWorkspace %s/%s: %w", s.lw.Namespace, s.lw.Name, err)
	}
	return nil
}
