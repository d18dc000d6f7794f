package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// running returns a workspace available since `since` minutes before now, last active
// `active` minutes before now (negative: no activity reported).
func running(since, active int, opts ...func(*workspacesv1alpha1.Workspace)) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{DesiredStatus: workspacesv1alpha1.DesiredStatusRunning}}
	ws.Status.Conditions = []metav1.Condition{{
		Type: string(workspacesv1alpha1.ConditionAvailable), Status: metav1.ConditionTrue, Reason: "PodsReady",
		LastTransitionTime: metav1.NewTime(now.Add(-time.Duration(since) * time.Minute)),
	}}
	if active >= 0 {
		t := metav1.NewTime(now.Add(-time.Duration(active) * time.Minute))
		ws.Status.LastActivity = &t
	}
	for _, o := range opts {
		o(ws)
	}
	return ws
}

func TestDecide(t *testing.T) {
	idle30 := Policy{IdleTimeoutMinutes: 30}
	life60 := Policy{MaxLifetimeMinutes: 60}
	both := Policy{IdleTimeoutMinutes: 30, MaxLifetimeMinutes: 60}
	for _, tc := range []struct {
		name        string
		ws          *workspacesv1alpha1.Workspace
		policy      Policy
		reason      workspacesv1alpha1.ConditionReason // "" means keep running
		recheck     time.Duration
		msgContains string
	}{
		{name: "no policy", ws: running(600, 500), policy: Policy{}},
		{name: "active recently", ws: running(50, 5), policy: idle30, recheck: 25 * time.Minute},
		{name: "idle too long", ws: running(50, 31), policy: idle30, reason: workspacesv1alpha1.ReasonIdleTimeout,
			msgContains: "stopped after 31 minutes without activity, the idle timeout of 30 minutes (last activity at 2026-11-20T11:29:00Z)"},
		{name: "exactly at the timeout", ws: running(50, 30), policy: idle30, reason: workspacesv1alpha1.ReasonIdleTimeout},
		{name: "no activity reported: idle since start", ws: running(40, -1), policy: idle30, reason: workspacesv1alpha1.ReasonIdleTimeout,
			msgContains: "no activity reported since it started"},
		{name: "no activity reported, started recently", ws: running(10, -1), policy: idle30, recheck: 20 * time.Minute},
		{name: "activity older than the restart does not count", ws: running(10, 300), policy: idle30, recheck: 20 * time.Minute},
		{name: "lifetime exceeded", ws: running(61, 1), policy: life60, reason: workspacesv1alpha1.ReasonLifetimeExceeded,
			msgContains: "stopped after running 61 minutes, the maximum lifetime of 60 minutes"},
		{name: "lifetime ahead", ws: running(45, 1), policy: life60, recheck: 15 * time.Minute},
		{name: "both: earliest deadline is next", ws: running(45, 1), policy: both, recheck: 15 * time.Minute},
		{name: "both: idle passed first", ws: running(70, 50), policy: both, reason: workspacesv1alpha1.ReasonIdleTimeout},
		{name: "both: lifetime passed first", ws: running(70, 5), policy: both, reason: workspacesv1alpha1.ReasonLifetimeExceeded},
		{name: "not available yet", ws: running(600, 500, func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Conditions[0].Status = metav1.ConditionFalse
		}), policy: both},
		{name: "stopped already", ws: running(600, 500, func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
		}), policy: both},
		{name: "cluster unreachable: activity unknown", ws: running(600, 500, func(ws *workspacesv1alpha1.Workspace) {
			ws.SetCondition(workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionFalse, workspacesv1alpha1.ReasonClusterUnreachable, "")
		}), policy: both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Decide(tc.ws, tc.policy, now, time.Minute)
			assert.Equal(t, tc.reason != "", v.Stop, v.Message)
			assert.Equal(t, tc.reason, v.Reason)
			assert.Equal(t, tc.recheck, v.RecheckAfter)
			assert.True(t, strings.Contains(v.Message, tc.msgContains), "message %q lacks %q", v.Message, tc.msgContains)
		})
	}
}

func TestDecideScalesTheMinute(t *testing.T) {
	ws := running(0, -1)
	ws.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-3 * time.Second))
	v := Decide(ws, Policy{IdleTimeoutMinutes: 2}, now, time.Second)
	assert.True(t, v.Stop)
	assert.Contains(t, v.Message, "stopped after 3 minutes without activity, the idle timeout of 2 minutes")
}

func TestPolicyOf(t *testing.T) {
	spec := &workspacesv1alpha1.IdleShutdownSpec{Enabled: true, IdleTimeoutInMinutes: 15}
	for _, tc := range []struct {
		name      string
		idle      *workspacesv1alpha1.IdleShutdownSpec
		effective *workspacesv1alpha1.EffectiveWorkspaceSpec
		want      Policy
	}{
		{name: "nothing"},
		{name: "spec when not resolved yet", idle: spec, want: Policy{IdleTimeoutMinutes: 15}},
		{name: "spec disabled", idle: &workspacesv1alpha1.IdleShutdownSpec{IdleTimeoutInMinutes: 15}},
		{name: "effective wins", idle: spec, effective: &workspacesv1alpha1.EffectiveWorkspaceSpec{IdleShutdownEnabled: true, IdleTimeoutInMinutes: 10, MaxLifetimeInMinutes: 120},
			want: Policy{IdleTimeoutMinutes: 10, MaxLifetimeMinutes: 120}},
		{name: "effective disables idle", idle: spec, effective: &workspacesv1alpha1.EffectiveWorkspaceSpec{IdleTimeoutInMinutes: 10, MaxLifetimeInMinutes: 120},
			want: Policy{MaxLifetimeMinutes: 120}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{IdleShutdown: tc.idle}}
			ws.Status.Effective = tc.effective
			assert.Equal(t, tc.want, PolicyOf(ws))
		})
	}
}
