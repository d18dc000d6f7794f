package hub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func placed(ws *workspacesv1alpha1.Workspace) bool {
	return ws.PlacedCluster() != "" && ws.IsConditionTrue(workspacesv1alpha1.ConditionScheduled)
}

func notPlaced(ws *workspacesv1alpha1.Workspace) bool {
	return hasCondition(workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonNoClusterFits)(ws)
}

// TestPlacement: selectors, access strategies and capacity decide; with west full, a workspace
// that only west would take does not fit, and one without a selector goes to east; with none
// fitting, the reason names each cluster.
func TestPlacement(t *testing.T) {
	// The selector picks the cluster.
	create(t, newWorkspace("sel-west", selectRegion("west")))
	create(t, newWorkspace("sel-east", selectRegion("east")))
	require.Equal(t, "west", waitHub(t, "sel-west", time.Minute, "is placed", placed).PlacedCluster())
	require.Equal(t, "east", waitHub(t, "sel-east", time.Minute, "is placed", placed).PlacedCluster())

	// No cluster offers the access strategy.
	create(t, newWorkspace("no-strategy", func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: "traefik"}
	}))
	ws := waitHub(t, "no-strategy", time.Minute, "does not fit", notPlaced)
	require.Equal(t, "2 clusters: east lacks access strategy traefik, west lacks access strategy traefik",
		ws.GetCondition(workspacesv1alpha1.ConditionScheduled).Message)

	// Fill west (one node of 2 cpu): 1500m fits once.
	create(t, newWorkspace("fill-west", selectRegion("west"), requestCPU("1500m")))
	require.Equal(t, "west", waitHub(t, "fill-west", time.Minute, "is placed", placed).PlacedCluster())
	create(t, newWorkspace("west-full", selectRegion("west"), requestCPU("1500m")))
	ws = waitHub(t, "west-full", time.Minute, "does not fit", notPlaced)
	msg := ws.GetCondition(workspacesv1alpha1.ConditionScheduled).Message
	require.True(t, strings.HasPrefix(msg, "2 clusters: east does not match cluster selector region=west, west lacks capacity: cpu 1500m requested"), msg)

	// Without a selector it goes to the cluster with room.
	create(t, newWorkspace("overflow", requestCPU("1500m")))
	require.Equal(t, "east", waitHub(t, "overflow", time.Minute, "is placed", placed).PlacedCluster())

	// Nothing is big enough (under a template that allows the request: the organization's
	// default template bounds cpu at 4).
	ensureLargeTemplate(t)
	create(t, newWorkspace("too-big", requestCPU("100"), func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: "large"}
	}))
	ws = waitHub(t, "too-big", time.Minute, "does not fit", notPlaced)
	msg = ws.GetCondition(workspacesv1alpha1.ConditionScheduled).Message
	require.Contains(t, msg, "2 clusters: east lacks capacity: cpu 100 requested")
	require.Contains(t, msg, "west lacks capacity: cpu 100 requested")

	// A stopped workspace waits for its start before it takes a cluster's capacity.
	create(t, newWorkspace("stopped", func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
	}))
	waitHub(t, "stopped", time.Minute, "waits for its start",
		hasCondition(workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonWaitingForStart))
}

// ensureLargeTemplate creates the template "large": the suite's images, no resource bounds.
func ensureLargeTemplate(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "large"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage:  "quay.io/jupyter/base-notebook:2025-06-01",
			AllowedImages: []string{"quay.io/jupyter/*"},
		},
	}
	require.NoError(t, client.IgnoreAlreadyExists(orgClient(t).Create(ctx, tmpl)))
}
