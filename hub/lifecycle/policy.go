package lifecycle

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

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

// Verdict is what to do with a running workspace now.
type Verdict struct {
	// Stop is true when the workspace must stop; Reason and Message say why.
	Stop    bool
	Reason  workspacesv1alpha1.ConditionReason
	Message string
	// RecheckAfter is when the next deadline falls, if the workspace keeps running and nothing
	// else changes; 0 when there is none to wait for.
	RecheckAfter time.Duration
}

// Decide applies p to ws at now; unit is the length of one policy minute.
func Decide(ws *workspacesv1alpha1.Workspace, p Policy, now time.Time, unit time.Duration) Verdict {
	if !p.Active() || ws.IsStopped() || ws.IsDeleting() {
		return Verdict{}
	}
	if c := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable); c != nil && c.Status == metav1.ConditionFalse {
		return Verdict{}
	}
	avail := ws.GetCondition(workspacesv1alpha1.ConditionAvailable)
	if avail == nil || avail.Status != metav1.ConditionTrue {
		return Verdict{}
	}
	since := avail.LastTransitionTime.Time

	// Each deadline that applies, with the verdict when it has passed.
	type deadline struct {
		at      time.Time
		verdict func() Verdict
	}
	var deadlines []deadline
	if p.MaxLifetimeMinutes > 0 {
		at := since.Add(time.Duration(p.MaxLifetimeMinutes) * unit)
		deadlines = append(deadlines, deadline{at: at, verdict: func() Verdict {
			return Verdict{Stop: true, Reason: workspacesv1alpha1.ReasonLifetimeExceeded, Message: fmt.Sprintf(
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
		deadlines = append(deadlines, deadline{at: at, verdict: func() Verdict {
			return Verdict{Stop: true, Reason: workspacesv1alpha1.ReasonIdleTimeout, Message: fmt.Sprintf(
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
	return Verdict{RecheckAfter: earliest.at.Sub(now)}
}

// minutes renders d in policy minutes.
func minutes(d time.Duration, unit time.Duration) string {
	m := int64(d / unit)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
