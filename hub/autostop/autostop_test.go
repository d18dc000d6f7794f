package autostop

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestPatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		desired workspacesv1alpha1.DesiredStatus
		want    string
	}{
		{name: "running", desired: workspacesv1alpha1.DesiredStatusRunning,
			want: `[{"op":"test","path":"/metadata/generation","value":7},{"op":"test","path":"/spec/desiredStatus","value":"Running"},{"op":"replace","path":"/spec/desiredStatus","value":"Stopped"}]`},
		{name: "not defaulted",
			want: `[{"op":"test","path":"/metadata/generation","value":7},{"op":"add","path":"/spec/desiredStatus","value":"Stopped"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Generation: 7}, Spec: workspacesv1alpha1.WorkspaceSpec{DesiredStatus: tc.desired}}
			raw, err := Patch(ws).Data(ws)
			require.NoError(t, err)
			var got, want any
			require.NoError(t, json.Unmarshal(raw, &got))
			require.NoError(t, json.Unmarshal([]byte(tc.want), &want))
			assert.Equal(t, want, got)
		})
	}
}
