package workspace

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Idle and lifetime policies stop running workspaces that were idle longer than their idle
// timeout or ran longer than their maximum lifetime: the hub sets spec.desiredStatus to Stopped
// (stop.go), never deletes, and records why in the AutoStopped condition (reason IdleTimeout or
// LifetimeExceeded, with a message), written before the stop.
//
// The policy is read from status.effective (idleShutdownEnabled, idleTimeoutInMinutes,
// maxLifetimeInMinutes, resolved from the template by hub/templates), falling back to
// spec.idleShutdown when the workspace has no effective spec yet.
//
// Clocks:
//   - Running since: the last transition of the Available condition to True (written by the
//     agent when the pods are ready and the access probe passes). Lifetime counts from there,
//     so each start gets the full lifetime; a workspace that never became available is never
//     stopped by a policy.
//   - Last activity: status.lastActivity, read by the agent from the workspace's idle detection
//     endpoint. Idle time counts from the later of it and the running-since time, so a
//     workspace that reports no activity is idle from its start, and a restart is not stopped
//     for activity that is older than the restart.
//
// Nothing is decided while the workspace's cluster is unreachable (ClusterReachable=False):
// its last activity is then unknown, not old.
//
// Reconciler.TimeUnit is the length of one policy "minute". It is one minute in production;
// tests and demos shorten it (atrium-hub --time-unit=1s) so that timeouts fire in seconds.

// reconcileLifecycle applies the idle and lifetime policy: AutoStopped, a stop, or a look again
// at the next deadline.
func (r *Reconciler) reconcileLifecycle(ctx context.Context, s *scope) error {
	ws := s.ws
	if ws.IsDeleting() || s.stop != "" {
		return nil // a stop decided already explains itself
	}
	policy := PolicyOf(ws)
	now := metav1.NewTime(s.now)
	switch {
	case ws.IsStopped():
		// Our stop stays explained until the tenant starts the workspace again.
		if c := ws.GetCondition(workspacesv1alpha1.ConditionAutoStopped); c == nil || c.Status != metav1.ConditionTrue {
			removeCondition(ws, workspacesv1alpha1.ConditionAutoStopped)
		}
		return nil
	case !policy.Active():
		removeCondition(ws, workspacesv1alpha1.ConditionAutoStopped)
		return nil
	}
	verdict := DecidePolicy(ws, policy, s.now, r.TimeUnit)
	if !verdict.Stop {
		setCondition(ws, workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionFalse, workspacesv1alpha1.ReasonWithinPolicy, policy.Describe(), now)
		// A little slack past the deadline, so the look again does not land just before it.
		if verdict.RecheckAfter > 0 {
			s.requeue(verdict.RecheckAfter + r.TimeUnit/100)
		}
		return nil
	}
	setCondition(ws, workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionTrue, verdict.Reason, verdict.Message, now)
	s.stop = string(verdict.Reason)
	log.FromContext(ctx).Info("stopping workspace", "reason", verdict.Reason, "message", verdict.Message)
	return nil
}

// Policy is the idle and lifetime policy in force for a workspace, in policy minutes.
type Policy struct {
	// IdleTimeoutMinutes stops a workspace idle this long; 0 disables idle shutdown.
	IdleTimeoutMinutes int32
	// MaxLifetimeMinutes stops a workspace running this long; 0 means unlimited.
	MaxLifetimeMinutes int32
}

// Active reports whether the policy can ever stop a workspace.
func (p Policy) Active() bool { return p.IdleTimeoutMinutes > 0 || p.MaxLifetimeMinutes > 0 }

// Describe states the policy in one sentence, for the AutoStopped=False message.
func (p Policy) Describe() string {
	var parts []string
	if p.IdleTimeoutMinutes > 0 {
		parts = append(parts, fmt.Sprintf("stops after %d minutes without activity", p.IdleTimeoutMinutes))
	}
	if p.MaxLifetimeMinutes > 0 {
		parts = append(parts, fmt.Sprintf("stops after running %d minutes", p.MaxLifetimeMinutes))
	}
	return "the workspace " + strings.Join(parts, " and ")
}

// PolicyOf reads the policy of ws: status.effective when the hub resolved it, else
// spec.idleShutdown (lifetimes come from templates only).
func PolicyOf(ws *workspacesv1alpha1.Workspace) Policy {
	if e := ws.Status.Effective; e != nil {
		p := Policy{MaxLifetimeMinutes: max(e.MaxLifetimeInMinutes, 0)}
		if e.IdleShutdownEnabled {
			p.IdleTimeoutMinutes = max(e.IdleTimeoutInMinutes, 0)
		}
		return p
	}
	if s := ws.Spec.IdleShutdown; s != nil && s.Enabled {
		return Policy{IdleTimeoutMinutes: max(s.IdleTimeoutInMinutes, 0)}
	}
	return Policy{}
}

// PolicyVerdict is what to do with a running workspace now.
type PolicyVerdict struct {
	// Stop is true when the workspace must stop; Reason and Message say why.
	Stop    bool
	Reason  workspacesv1alpha1.ConditionReason
	Message string
	// RecheckAfter is when the next deadline falls, if the workspace keeps running and nothing
	// else changes; 0 when there is none to wait for.
	RecheckAfter time.Duration
}

// DecidePolicy applies p to ws at now; unit is the length of one policy minute.
func DecidePolicy(ws *workspacesv1alpha1.Workspace, p Policy, now time.Time, unit time.Duration) PolicyVerdict {
	if !p.Active() || ws.IsStopped() || ws.IsDeleting() {
		return PolicyVerdict{}
	}
	if c := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable); c != nil && c.Status == metav1.ConditionFalse {
		return PolicyVerdict{}
	}
	avail := ws.GetCondition(workspacesv1alpha1.ConditionAvailable)
	if avail == nil || avail.Status != metav1.ConditionTrue {
		return PolicyVerdict{}
	}
	since := avail.LastTransitionTime.Time

	// Each deadline that applies, with the verdict when it has passed.
	type deadline struct {
		at      time.Time
		verdict func() PolicyVerdict
	}
	var deadlines []deadline
	if p.MaxLifetimeMinutes > 0 {
		at := since.Add(time.Duration(p.MaxLifetimeMinutes) * unit)
		deadlines = append(deadlines, deadline{at: at, verdict: func() PolicyVerdict {
			return PolicyVerdict{Stop: true, Reason: workspacesv1alpha1.ReasonLifetimeExceeded, Message: fmt.Sprintf(
				"stopped after running %s, the maximum lifetime of %d minutes (running since %s); set spec.desiredStatus to Running to start it again",
				minutes(now.Sub(since), unit), p.MaxLifetimeMinutes, since.UTC().Format(time.RFC3339))}
		}})
	}
	if p.IdleTimeoutMinutes > 0 {
		last, seen := since, "no activity reported since it started at "+since.UTC().Format(time.RFC3339)
		if a := ws.Status.LastActivity; a != nil && a.After(since) {
			last, seen = a.Time, "last activity at "+a.UTC().Format(time.RFC3339)
		}
		at := last.Add(time.Duration(p.IdleTimeoutMinutes) * unit)
		deadlines = append(deadlines, deadline{at: at, verdict: func() PolicyVerdict {
			return PolicyVerdict{Stop: true, Reason: workspacesv1alpha1.ReasonIdleTimeout, Message: fmt.Sprintf(
				"stopped after %s without activity, the idle timeout of %d minutes (%s); set spec.desiredStatus to Running to start it again",
				minutes(now.Sub(last), unit), p.IdleTimeoutMinutes, seen)}
		}})
	}

	// The earliest deadline decides: passed, it explains the stop; ahead, it is the recheck.
	earliest := deadlines[0]
	for _, d := range deadlines[1:] {
		if d.at.Before(earliest.at) {
			earliest = d
		}
	}
	if !now.Before(earliest.at) {
		return earliest.verdict()
	}
	return PolicyVerdict{RecheckAfter: earliest.at.Sub(now)}
}

// minutes renders d in policy minutes.
func minutes(d time.Duration, unit time.Duration) string {
	m := int64(d / unit)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
