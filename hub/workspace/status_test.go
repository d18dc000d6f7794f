package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

var statusTime = metav1.NewTime(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))

func cond(t workspacesv1alpha1.ConditionType, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: string(t), Status: status, Reason: reason, Message: reason, ObservedGeneration: 1, LastTransitionTime: statusTime}
}

// applyStatusPatch applies the patch from orig to ws onto live, as the API server would.
func applyStatusPatch(t *testing.T, orig, ws, live *workspacesv1alpha1.Workspace, guard bool) (*workspacesv1alpha1.Workspace, error) {
	t.Helper()
	ops := statusPatch(orig, ws, guard)
	require.NotNil(t, ops, "a change must make a patch")
	raw, err := json.Marshal(ops)
	require.NoError(t, err)
	patch, err := jsonpatch.DecodePatch(raw)
	require.NoError(t, err)
	doc, err := json.Marshal(live)
	require.NoError(t, err)
	out, err := patch.Apply(doc)
	if err != nil {
		return nil, err
	}
	got := &workspacesv1alpha1.Workspace{}
	require.NoError(t, json.Unmarshal(out, got))
	return got, nil
}

func workspaceAt(rv string) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{}
	ws.Name, ws.Namespace, ws.Generation, ws.ResourceVersion = "nb", "default", 1, rv
	return ws
}

func TestStatusPatchFirstWrite(t *testing.T) {
	orig := workspaceAt("1")
	ws := orig.DeepCopy()
	ws.Status.Owner = &workspacesv1alpha1.WorkspaceOwner{Username: "alice"}
	ws.Status.Conditions = []metav1.Condition{cond(workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, "Resolved")}
	got, err := applyStatusPatch(t, orig, ws, orig, false)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Status.Owner.Username)
	assert.Len(t, got.Status.Conditions, 1)

	// Another writer came first: the whole status is not written over theirs.
	live := workspaceAt("2")
	live.Status.Phase = workspacesv1alpha1.WorkspacePhaseRunning
	_, err = applyStatusPatch(t, orig, ws, live, false)
	assert.Error(t, err)
}

// The hub's conditions and fields change where they are, the agent's stay as they are.
func TestStatusPatchKeepsOtherWriters(t *testing.T) {
	orig := workspaceAt("5")
	orig.Status.Phase = workspacesv1alpha1.WorkspacePhaseRunning
	orig.Status.Access = &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"alice"}}
	orig.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{Image: "old", Env: nil, Template: "t"}
	orig.Status.Placement = &workspacesv1alpha1.WorkspacePlacement{Cluster: "east", LocalNamespace: "atrium-x"}
	orig.Status.Conditions = []metav1.Condition{
		cond(workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, "Resolved"),
		cond(workspacesv1alpha1.ConditionAvailable, metav1.ConditionTrue, "PodsReady"),
		cond(workspacesv1alpha1.ConditionUserLimit, metav1.ConditionTrue, "WithinUserLimit"),
		cond(workspacesv1alpha1.ConditionProgressing, metav1.ConditionFalse, "Ready"),
		cond(workspacesv1alpha1.ConditionAutoStopped, metav1.ConditionFalse, "WithinPolicy"),
	}
	ws := orig.DeepCopy()
	setCondition(ws, workspacesv1alpha1.ConditionValid, metav1.ConditionFalse, workspacesv1alpha1.ReasonImageNotAllowed, "no", statusTime)
	removeCondition(ws, workspacesv1alpha1.ConditionUserLimit)
	removeCondition(ws, workspacesv1alpha1.ConditionAutoStopped)
	setCondition(ws, workspacesv1alpha1.ConditionClusterReachable, metav1.ConditionTrue, workspacesv1alpha1.ReasonHeartbeatCurrent, "ok", statusTime)
	ws.Status.Access = nil
	ws.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{Image: "new", Template: "t"}

	// Meanwhile the agent appended a condition and moved its phase.
	live := orig.DeepCopy()
	live.ResourceVersion = "6"
	live.Status.Phase = workspacesv1alpha1.WorkspacePhaseStopping
	live.Status.Conditions = append(live.Status.Conditions, cond(workspacesv1alpha1.ConditionDegraded, metav1.ConditionFalse, "Healthy"))

	got, err := applyStatusPatch(t, orig, ws, live, false)
	require.NoError(t, err)
	var types []string
	for _, c := range got.Status.Conditions {
		types = append(types, c.Type)
	}
	assert.Equal(t, []string{"Valid", "Available", "Progressing", "Degraded", "ClusterReachable"}, types)
	assert.Equal(t, string(workspacesv1alpha1.ReasonImageNotAllowed), got.GetCondition(workspacesv1alpha1.ConditionValid).Reason)
	assert.Equal(t, workspacesv1alpha1.WorkspacePhaseStopping, got.Status.Phase, "the agent's phase")
	assert.Nil(t, got.Status.Access, "removed, not left behind")
	assert.Equal(t, "new", got.Status.Effective.Image)
	assert.Equal(t, "atrium-x", got.Status.Placement.LocalNamespace, "the agent's part of the placement")

	// A condition moved since it was read: the patch fails instead of changing another one.
	moved := live.DeepCopy()
	moved.Status.Conditions = append([]metav1.Condition{cond(workspacesv1alpha1.ConditionStopped, metav1.ConditionFalse, "Running")}, moved.Status.Conditions...)
	_, err = applyStatusPatch(t, orig, ws, moved, false)
	assert.Error(t, err)

	// Guarded (a placement decision): any change since fails it.
	_, err = applyStatusPatch(t, orig, ws, live, true)
	assert.Error(t, err)
	_, err = applyStatusPatch(t, orig, ws, orig, true)
	assert.NoError(t, err)
}

func TestStatusPatchNothingToDo(t *testing.T) {
	orig := workspaceAt("3")
	orig.Status.Conditions = []metav1.Condition{cond(workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, "Resolved")}
	ws := orig.DeepCopy()
	// Saying the same again keeps the condition as it is, transition time included.
	setCondition(ws, workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, "Resolved", "Resolved", metav1.NewTime(statusTime.Add(time.Hour)))
	removeCondition(ws, workspacesv1alpha1.ConditionUserLimit)
	assert.Nil(t, statusPatch(orig, ws, false))
	assert.Nil(t, statusPatch(workspaceAt("1"), workspaceAt("1"), true))
}

func TestSetConditionTransitionTime(t *testing.T) {
	ws := workspaceAt("1")
	setCondition(ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonNoClusterFits, "a", statusTime)
	later := metav1.NewTime(statusTime.Add(time.Minute))
	setCondition(ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonNotValid, "b", later)
	assert.Equal(t, statusTime, ws.GetCondition(workspacesv1alpha1.ConditionScheduled).LastTransitionTime, "same status: the transition time stays")
	setCondition(ws, workspacesv1alpha1.ConditionScheduled, metav1.ConditionTrue, workspacesv1alpha1.ReasonPlaced, "c", later)
	assert.Equal(t, later, ws.GetCondition(workspacesv1alpha1.ConditionScheduled).LastTransitionTime)
	assert.Len(t, ws.Status.Conditions, 1)
}

// A patch that no longer applies is decided again; a write the API refuses as invalid is an
// error.
func TestErrOutdated(t *testing.T) {
	gr := schema.GroupResource{Group: workspacesv1alpha1.GroupName, Resource: "workspaces"}
	notApplied := apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", "testing value /metadata/resourceVersion failed", 0, false)
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: workspacesv1alpha1.GroupName, Kind: "Workspace"}, "nb",
		field.ErrorList{field.TooLong(field.NewPath("status", "conditions").Index(0).Child("message"), "", 32768)})
	assert.True(t, errOutdated(notApplied))
	assert.True(t, errOutdated(fmt.Errorf("wrapped: %w", notApplied)))
	assert.True(t, errOutdated(apierrors.NewConflict(gr, "nb", errors.New("the object has been modified"))))
	assert.False(t, errOutdated(invalid))
	assert.False(t, errOutdated(apierrors.NewBadRequest("no")))
	assert.False(t, errOutdated(nil))
}
