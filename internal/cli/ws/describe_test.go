package ws

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*workspacesv1alpha1.Workspace)
		want   string
	}{{
		name: "running",
		want: `Name:               alice-nb
Namespace:          default
Organization:       acme
Display name:       Alice's notebook
Owner:              alice
Created:            2026-11-20T09:00:00Z (3h ago)
Desired status:     Running
Phase:              Running
URL:                https://ide.example.com/default/alice-nb/
Placement:          cluster east, shard root, local namespace atrium-1a2b (placed 60m ago)
Spec (effective):   
  Template:         datascience
  Image:            quay.io/jupyter/scipy-notebook:2025-06-01
  Requests:         cpu=500m, memory=1Gi
  Limits:           memory=2Gi
  Storage:          5Gi at /home/jovyan (class standard)
  Access strategy:  traefik
Conditions:
  TYPE       STATUS  REASON     AGE  MESSAGE
  Valid      True    Resolved   3h   
  Scheduled  True    Placed     60m  placed on east
  Available  True    PodsReady  90s  
`,
	}, {
		name: "not resolved, not placed, stale condition",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec = workspacesv1alpha1.WorkspaceSpec{
				Image:     "img:1",
				Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}},
			}
			ws.Annotations = nil
			ws.Generation = 3
			ws.Status = workspacesv1alpha1.WorkspaceStatus{Conditions: []metav1.Condition{
				{Type: "Scheduled", Status: "False", Reason: "NoClusterFits", Message: "1 cluster: east lacks capacity", ObservedGeneration: 2, LastTransitionTime: ago(time.Minute)},
			}}
		},
		want: `Name:                                           alice-nb
Namespace:                                      default
Organization:                                   acme
Owner:                                          <none>
Created:                                        2026-11-20T09:00:00Z (3h ago)
Desired status:                                 Running
Phase:                                          Pending
URL:                                            <none>
Placement:                                      not placed (NoClusterFits: 1 cluster: east lacks capacity)
Spec (requested; not resolved by the hub yet):  
  Template:                                     <none>
  Image:                                        img:1
  Requests:                                     cpu=2
  Limits:                                       <none>
  Storage:                                      <none>
  Access strategy:                              the compute cluster's default
Conditions:
  TYPE       STATUS  REASON         AGE  MESSAGE
  Scheduled  False   NoClusterFits  60s  1 cluster: east lacks capacity (for an older spec)
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ws := running()
			if tc.mutate != nil {
				tc.mutate(ws)
			}
			var out bytes.Buffer
			require.NoError(t, describe(&out, ws, "acme", now))
			require.Equal(t, tc.want, out.String())
		})
	}
}
