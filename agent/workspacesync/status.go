package workspacesync

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// agentConditions are the hub conditions the agent owns.
var agentConditions = []workspacesv1alpha1.ConditionType{
	workspacesv1alpha1.ConditionAvailable,
	workspacesv1alpha1.ConditionProgressing,
	workspacesv1alpha1.ConditionDegraded,
	workspacesv1alpha1.ConditionStopped,
	workspacesv1alpha1.ConditionIdleDetection,
}

// writeStatus writes what the mirror reports into the hub status, when anything a user can
// see differs: one write per visible transition, none for a converged workspace.
func (r *Reconciler) writeStatus(ctx context.Context, s *scope) error {
	lw := s.lw
	if lw == nil || !lw.DeletionTimestamp.IsZero() || lw.Spec.Origin.UID != s.ws.UID {
		return nil
	}
	desired, ok := hubStatus(lw, s.ws)
	if !ok || equality.Semantic.DeepEqual(desired, s.ws.Status) {
		return nil
	}
	if err := r.patchStatus(ctx, s, desired); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to patch hub status: %w", err))
	}
	r.OnStatusWrite(time.Since(lastLocalChange(lw)))
	log.FromContext(ctx).V(1).Info("wrote hub status", "phase", desired.Phase, "observedGeneration", desired.ObservedGeneration)
	return nil
}

// hubStatus returns ws's status with the agent-owned fields as the mirror lw reports them, the
// hub's own fields (validity, scheduling, placement but its localNamespace, effective spec,
// owner, the hub's conditions) as they are; false when the mirror has nothing to report yet.
// Conditions keep their hub transition times while their status stays the same.
func hubStatus(lw *computev1alpha1.LocalWorkspace, ws *workspacesv1alpha1.Workspace) (workspacesv1alpha1.WorkspaceStatus, bool) {
	observed, ok := observedGeneration(lw, ws)
	if !ok {
		return workspacesv1alpha1.WorkspaceStatus{}, false
	}
	st := *ws.Status.DeepCopy()
	st.Phase = lw.Status.Phase
	st.Message = lw.Status.Message
	st.ObservedGeneration = observed
	st.DeploymentName = lw.Status.DeploymentName
	st.ServiceName = lw.Status.ServiceName
	st.AccessURL = lw.Status.AccessURL
	st.ApplicationBasePath = lw.Status.ApplicationBasePath
	st.AccessResourceSelector = lw.Status.AccessResourceSelector
	st.AccessResources = append([]workspacesv1alpha1.AccessResourceStatus(nil), lw.Status.AccessResources...)
	st.LastActivity = lw.Status.LastActivity.DeepCopy()
	if st.Placement != nil {
		st.Placement.LocalNamespace = lw.Namespace
	}
	for _, t := range agentConditions {
		c := meta.FindStatusCondition(lw.Status.Conditions, string(t))
		if c == nil {
			meta.RemoveStatusCondition(&st.Conditions, string(t))
			continue
		}
		cond := *c
		cond.ObservedGeneration = observed
		meta.SetStatusCondition(&st.Conditions, cond)
	}
	return st, true
}

// observedGeneration is the hub generation the mirror's status describes: the generation its
// spec was copied from (annotation atrium.dev/hub-generation), once the materializer observed
// that spec. While the mirror's status lags its spec (the materializer has not seen the last
// update yet) the hub's observedGeneration stays as it is, never lowered or cleared: the status
// still describes what was observed then. A mirror never observed, with no observedGeneration on
// the hub to keep, has nothing to report (false).
func observedGeneration(lw *computev1alpha1.LocalWorkspace, ws *workspacesv1alpha1.Workspace) (int64, bool) {
	if lw.Status.ObservedGeneration == 0 {
		return 0, false // the materializer has not written any status yet
	}
	kept := ws.Status.ObservedGeneration
	if lw.Status.ObservedGeneration == lw.Generation {
		if g, err := strconv.ParseInt(lw.Annotations[mirror.AnnotationHubGeneration], 10, 64); err == nil && g > 0 && g >= kept {
			return g, true
		}
	}
	return kept, kept > 0
}

// lastLocalChange is when the mirror's status last changed, as far as it tells.
func lastLocalChange(lw *computev1alpha1.LocalWorkspace) time.Time {
	latest := lw.CreationTimestamp.Time
	for _, c := range lw.Status.Conditions {
		if c.LastTransitionTime.After(latest) {
			latest = c.LastTransitionTime.Time
		}
	}
	return latest
}
