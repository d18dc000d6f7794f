package statusremove

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestConditionPatch(t *testing.T) {
	ws := &workspacesv1alpha1.Workspace{}
	ws.Status.Conditions = []metav1.Condition{{Type: "Valid"}, {Type: "UserLimit"}}
	p := ConditionPatch(ws, workspacesv1alpha1.ConditionUserLimit)
	require.NotNil(t, p)
	raw, err := p.Data(ws)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"op":"test","path":"/status/conditions/1/type","value":"UserLimit"},{"op":"remove","path":"/status/conditions/1"}]`, string(raw))
	assert.Nil(t, ConditionPatch(ws, workspacesv1alpha1.ConditionAutoStopped))
}
