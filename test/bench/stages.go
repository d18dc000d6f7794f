package bench

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// StageLatency is when the hub Workspaces of the burst reached one stage on their way to
// Available, as their watch events showed it.
type StageLatency struct {
	// Name says what the stage is and who gets a workspace there.
	Name string `json:"name"`
	// FromCreate is create → the first event showing the stage.
	FromCreate Percentiles `json:"fromCreate"`
	// Step is the previous stage → this one, per workspace.
	Step Percentiles `json:"step"`
}

// stage is one milestone of a workspace: reached once cond holds (and stays reached: every
// later stage implies it).
type stage struct {
	name string
	cond func(*workspacesv1alpha1.Workspace) bool
}

// stages are the milestones from create to Available, in order.
var stages = []stage{
	{"hub: Valid (templates resolved)", func(ws *workspacesv1alpha1.Workspace) bool {
		return conditionTrue(ws, workspacesv1alpha1.ConditionValid) || ws.PlacedCluster() != "" || agentSeen(ws)
	}},
	{"hub: Scheduled (placed)", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.PlacedCluster() != "" || agentSeen(ws)
	}},
	{"agent: finalizer on the hub object", agentSeen},
	{"agent: first status (mirror materialized)", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Phase != ""
	}},
	{"agent: pod ready (probing access)", func(ws *workspacesv1alpha1.Workspace) bool {
		c := ws.GetCondition(workspacesv1alpha1.ConditionAvailable)
		return c != nil && (c.Status == metav1.ConditionTrue || c.Reason == string(workspacesv1alpha1.ReasonAccessProbePending))
	}},
	{"agent: Available (access probe passed)", availableWorkspace},
}

func conditionTrue(ws *workspacesv1alpha1.Workspace, t workspacesv1alpha1.ConditionType) bool {
	c := ws.GetCondition(t)
	return c != nil && c.Status == metav1.ConditionTrue
}

// agentSeen: an agent put its finalizer on the workspace.
func agentSeen(ws *workspacesv1alpha1.Workspace) bool {
	for _, f := range ws.Finalizers {
		if strings.HasPrefix(f, workspacesv1alpha1.AgentFinalizerPrefix) {
			return true
		}
	}
	return false
}

// stageWaiters registers a waiter per stage for the workspace called name in t.
func stageWaiters(t *tracker, name string) []*waiter {
	out := make([]*waiter, len(stages))
	for i, s := range stages {
		cond := s.cond
		out[i] = t.expect(name, func(u *unstructured.Unstructured) bool {
			ws := toWorkspace(u)
			return ws != nil && cond(ws)
		})
	}
	return out
}

// stageTimes returns when each stage was reached, zero for stages whose waiter has not fired
// (and then forgets them).
func stageTimes(t *tracker, name string, ws []*waiter) []time.Time {
	out := make([]time.Time, len(ws))
	for i, w := range ws {
		select {
		case at := <-w.done:
			out[i] = at
		default:
			t.forget(name, w)
		}
	}
	return out
}

// stageLatencies summarizes the stage times of every workspace, created at created[i].
func stageLatencies(created []time.Time, times [][]time.Time) []StageLatency {
	out := make([]StageLatency, len(stages))
	for s := range stages {
		var from, step []time.Duration
		for i := range times {
			if times[i] == nil || times[i][s].IsZero() {
				continue
			}
			prev := created[i]
			for p := s - 1; p >= 0; p-- {
				if !times[i][p].IsZero() {
					prev = times[i][p]
					break
				}
			}
			from = append(from, times[i][s].Sub(created[i]))
			step = append(step, max(0, times[i][s].Sub(prev)))
		}
		out[s] = StageLatency{Name: stages[s].name, FromCreate: percentiles(from), Step: percentiles(step)}
	}
	return out
}
