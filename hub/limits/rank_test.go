package limits

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type wsOpt func(*workspacesv1alpha1.Workspace)

func stopped(ws *workspacesv1alpha1.Workspace) {
	ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
}
func deleting(ws *workspacesv1alpha1.Workspace) { now := metav1.Now(); ws.DeletionTimestamp = &now }
func admittedOpt(ws *workspacesv1alpha1.Workspace) {
	ws.SetCondition(workspacesv1alpha1.ConditionUserLimit, metav1.ConditionTrue, workspacesv1alpha1.ReasonWithinUserLimit, "")
}
func template(name string) wsOpt {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: name}
	}
}
func ownedBy(user string) wsOpt {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Annotations = map[string]string{}
		if user != "" {
			ws.Annotations[workspacesv1alpha1.AnnotationCreatedBy] = user
		}
	}
}

func workspace(name string, ageMinutes int, opts ...wsOpt) workspacesv1alpha1.Workspace {
	ws := workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(t0.Add(-time.Duration(ageMinutes) * time.Minute)),
			Annotations:       map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"},
		},
		Spec: workspacesv1alpha1.WorkspaceSpec{DesiredStatus: workspacesv1alpha1.DesiredStatusRunning, TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "ds"}},
	}
	for _, o := range opts {
		o(&ws)
	}
	return ws
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name        string
		self        workspacesv1alpha1.Workspace
		others      []workspacesv1alpha1.Workspace
		limit       int32
		admitted    bool
		reason      workspacesv1alpha1.ConditionReason
		msgContains string
	}{
		{name: "alone", self: workspace("a", 1), limit: 1, admitted: true, reason: workspacesv1alpha1.ReasonWithinUserLimit, msgContains: "alice runs 1 of 1 workspaces allowed by template ds"},
		{name: "newest loses", self: workspace("new", 1), others: []workspacesv1alpha1.Workspace{workspace("old", 5)}, limit: 1,
			reason: workspacesv1alpha1.ReasonUserLimitReached, msgContains: "alice already runs 1 of 1 workspaces allowed by template ds (default/old)"},
		{name: "oldest wins", self: workspace("old", 5), others: []workspacesv1alpha1.Workspace{workspace("new", 1)}, limit: 1, admitted: true},
		{name: "admitted beats older", self: workspace("old", 5), others: []workspacesv1alpha1.Workspace{workspace("new", 1, admittedOpt)}, limit: 1,
			reason: workspacesv1alpha1.ReasonUserLimitReached, msgContains: "(default/new)"},
		{name: "same age: by name", self: workspace("b", 1), others: []workspacesv1alpha1.Workspace{workspace("a", 1)}, limit: 1, reason: workspacesv1alpha1.ReasonUserLimitReached},
		{name: "within a limit of two", self: workspace("c", 1), others: []workspacesv1alpha1.Workspace{workspace("a", 3)}, limit: 2, admitted: true, msgContains: "alice runs 2 of 2"},
		{name: "third of two", self: workspace("c", 1), others: []workspacesv1alpha1.Workspace{workspace("a", 3), workspace("b", 2)}, limit: 2,
			reason: workspacesv1alpha1.ReasonUserLimitReached, msgContains: "alice already runs 2 of 2 workspaces allowed by template ds (default/a, default/b)"},
		{name: "stopped, deleting, other owners, other templates and ownerless do not count", self: workspace("c", 1), others: []workspacesv1alpha1.Workspace{
			workspace("s", 9, stopped), workspace("d", 9, deleting), workspace("bob", 9, ownedBy("bob")),
			workspace("other-template", 9, template("other")), workspace("nobody", 9, ownedBy("")),
		}, limit: 1, admitted: true},
		{name: "self in the list counts once", self: workspace("a", 1), others: []workspacesv1alpha1.Workspace{workspace("a", 1)}, limit: 1, admitted: true},
		{name: "no owner", self: workspace("x", 1, ownedBy("")), limit: 3, reason: workspacesv1alpha1.ReasonOwnerUnknown, msgContains: "no recorded owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(&tc.self, tc.others, "ds", tc.limit)
			assert.Equal(t, tc.admitted, d.Admitted, d.Message)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, d.Reason)
			}
			assert.True(t, strings.Contains(d.Message, tc.msgContains), "message %q lacks %q", d.Message, tc.msgContains)
		})
	}
}

// TestDecideIsConsistent checks that, whatever workspace is reconciled, the same ones win.
func TestDecideIsConsistent(t *testing.T) {
	all := []workspacesv1alpha1.Workspace{workspace("a", 3), workspace("b", 2, admittedOpt), workspace("c", 1), workspace("d", 1)}
	var winners []string
	for i := range all {
		if Decide(&all[i], all, "ds", 2).Admitted {
			winners = append(winners, all[i].Name)
		}
	}
	assert.Equal(t, []string{"a", "b"}, winners)
}

func TestTemplateOf(t *testing.T) {
	ws := workspace("a", 1)
	assert.Equal(t, "ds", TemplateOf(&ws))
	ws.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{Template: "resolved"}
	assert.Equal(t, "resolved", TemplateOf(&ws))
	ws = workspace("a", 1, func(ws *workspacesv1alpha1.Workspace) { ws.Spec.TemplateRef = nil })
	assert.Equal(t, "", TemplateOf(&ws))
}
