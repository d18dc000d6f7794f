package ws

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestCreateOptionsWorkspace(t *testing.T) {
	t.Run("everything", func(t *testing.T) {
		o := &createOptions{template: "ds", image: "img:1", displayName: "My NB", cpu: "500m", memory: "1Gi", storage: "5Gi", accessStrategy: "traefik", stopped: true}
		ws, err := o.workspace("nb")
		require.NoError(t, err)
		require.Equal(t, "nb", ws.Name)
		require.Equal(t, "ds", ws.Spec.TemplateRef.Name)
		require.Equal(t, "img:1", ws.Spec.Image)
		require.Equal(t, "My NB", ws.Spec.DisplayName)
		require.Equal(t, "traefik", ws.Spec.AccessStrategy.Name)
		require.Equal(t, workspacesv1alpha1.DesiredStatusStopped, ws.Spec.DesiredStatus)
		require.Equal(t, "cpu=500m, memory=1Gi", resourceList(ws.Spec.Resources.Requests))
		require.True(t, ws.Spec.Storage.Size.Equal(resource.MustParse("5Gi")))
	})
	t.Run("neither template nor image leaves everything to the organization's default template", func(t *testing.T) {
		ws, err := (&createOptions{}).workspace("nb")
		require.NoError(t, err)
		require.Nil(t, ws.Spec.TemplateRef)
		require.Empty(t, ws.Spec.Image)
	})
	t.Run("template only leaves the rest to it", func(t *testing.T) {
		ws, err := (&createOptions{template: "ds"}).workspace("nb")
		require.NoError(t, err)
		require.Nil(t, ws.Spec.Resources)
		require.Nil(t, ws.Spec.Storage)
		require.Nil(t, ws.Spec.AccessStrategy)
		require.Equal(t, workspacesv1alpha1.DesiredStatusRunning, ws.Spec.DesiredStatus)
	})
	for name, tc := range map[string]struct {
		o       createOptions
		wantErr string
	}{
		"bad cpu":         {createOptions{image: "i", cpu: "lots"}, `invalid --cpu "lots"`},
		"negative memory": {createOptions{image: "i", memory: "-1Gi"}, `invalid --memory "-1Gi": must be positive`},
		"zero storage":    {createOptions{image: "i", storage: "0"}, `invalid --storage "0": must be positive`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.o.workspace("nb")
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}
