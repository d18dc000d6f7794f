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

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// running is a workspace as the hub and agent leave it once it serves its IDE.
func running() *workspacesv1alpha1.Workspace {
	return &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{
			Name: "alice-nb", Namespace: "default", Generation: 2, CreationTimestamp: ago(3 * time.Hour),
			Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"},
		},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			DisplayName: "Alice's notebook", TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "datascience"},
		},
		Status: workspacesv1alpha1.WorkspaceStatus{
			Phase: workspacesv1alpha1.WorkspacePhaseRunning, ObservedGeneration: 2,
			AccessURL: "https://ide.example.com/default/alice-nb/",
			Placement: &workspacesv1alpha1.WorkspacePlacement{Cluster: "east", Shard: "root", LocalNamespace: "atrium-1a2b", Time: ago(time.Hour)},
			Owner:     &workspacesv1alpha1.WorkspaceOwner{Username: "alice"},
			Effective: &workspacesv1alpha1.EffectiveWorkspaceSpec{
				Template: "datascience", Image: "quay.io/jupyter/scipy-notebook:2025-06-01", AccessStrategy: "traefik",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi"), corev1.ResourceCPU: resource.MustParse("500m")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
				},
				Storage: &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("5Gi"), MountPath: "/home/jovyan", StorageClassName: "standard"},
			},
			Conditions: []metav1.Condition{
				{Type: "Valid", Status: "True", Reason: "Resolved", ObservedGeneration: 2, LastTransitionTime: ago(3 * time.Hour)},
				{Type: "Scheduled", Status: "True", Reason: "Placed", Message: "placed on east", ObservedGeneration: 2, LastTransitionTime: ago(time.Hour)},
				{Type: "Available", Status: "True", Reason: "PodsReady", ObservedGeneration: 2, LastTransitionTime: ago(90 * time.Second)},
			},
		},
	}
}

func TestWorkspaceRow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*workspacesv1alpha1.Workspace)
		cols   columns
		want   []string
	}{{
		name: "running",
		want: []string{"alice-nb", "Running", "east", "https://ide.example.com/default/alice-nb/", "3h", "alice"},
	}, {
		name: "all namespaces and wide",
		cols: columns{namespace: true, wide: true},
		want: []string{"default", "alice-nb", "Running", "east", "https://ide.example.com/default/alice-nb/", "3h", "alice",
			"Running", "datascience", "quay.io/jupyter/scipy-notebook:2025-06-01", "<none>"},
	}, {
		name: "new: nothing reported yet, owner from the annotation",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.CreationTimestamp = ago(5 * time.Second)
			ws.Status = workspacesv1alpha1.WorkspaceStatus{}
		},
		want: []string{"alice-nb", "Pending", "<none>", "<none>", "5s", "alice"},
	}, {
		name: "stopped and never placed",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
			ws.Annotations = nil
			ws.Status = workspacesv1alpha1.WorkspaceStatus{}
		},
		want: []string{"alice-nb", "Stopped", "<none>", "<none>", "3h", "<none>"},
	}, {
		name: "deleting wins over the agent's phase",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ts := ago(time.Second)
			ws.DeletionTimestamp = &ts
		},
		want: []string{"alice-nb", "Deleting", "east", "https://ide.example.com/default/alice-nb/", "3h", "alice"},
	}, {
		name: "wide shows why it does not run",
		cols: columns{wide: true},
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Phase, ws.Status.Placement, ws.Status.AccessURL = "", nil, ""
			ws.Status.Conditions[1] = metav1.Condition{Type: "Scheduled", Status: "False", Reason: "NoClusterFits", Message: "1 cluster: east lacks capacity"}
		},
		want: []string{"alice-nb", "Pending", "<none>", "<none>", "3h", "alice", "Running", "datascience",
			"quay.io/jupyter/scipy-notebook:2025-06-01", "NoClusterFits: 1 cluster: east lacks capacity"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ws := running()
			if tc.mutate != nil {
				tc.mutate(ws)
			}
			require.Equal(t, tc.want, workspaceRow(ws, tc.cols, now))
		})
	}
}

func TestWorkspaceTable(t *testing.T) {
	b := running()
	b.Name, b.Status.AccessURL = "b", ""
	a := running()
	a.Name = "a"
	var out bytes.Buffer
	require.NoError(t, workspaceTable([]workspacesv1alpha1.Workspace{*b, *a}, columns{}, now).write(&out))
	require.Equal(t, `NAME   PHASE     CLUSTER   URL                                         AGE   OWNER
a      Running   east      https://ide.example.com/default/alice-nb/   3h    alice
b      Running   east      <none>                                      3h    alice
`, out.String())
}

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		t    metav1.Time
		want string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(42 * time.Second), "42s"},
		{ago(150 * time.Second), "2m30s"},
		{ago(26 * time.Hour), "26h"},
		{ago(9 * 24 * time.Hour), "9d"},
	} {
		require.Equal(t, tc.want, age(tc.t, now))
	}
}

func TestState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*workspacesv1alpha1.Workspace)
		want   string
	}{{
		name: "gone",
		want: "gone",
	}, {
		name: "waiting for placement",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.Status = workspacesv1alpha1.WorkspaceStatus{}
		},
		want: "Pending (waiting to be placed on a compute cluster)",
	}, {
		name: "starting",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Phase = workspacesv1alpha1.WorkspacePhaseStarting
			ws.Status.Conditions[2] = metav1.Condition{Type: "Available", Status: "False", Reason: "PodsNotReady", Message: "0/1 pods ready"}
			ws.Status.Conditions = append(ws.Status.Conditions, metav1.Condition{Type: "Progressing", Status: "True", Reason: "Starting"})
		},
		want: "Starting (Starting)",
	}, {
		name: "probe pending",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ws.Status.Phase = workspacesv1alpha1.WorkspacePhaseStarting
			ws.Status.Conditions[2] = metav1.Condition{Type: "Available", Status: "False", Reason: "AccessProbePending", Message: "GET https://x: 503"}
		},
		want: "Starting (AccessProbePending: GET https://x: 503)",
	}, {
		name: "deleting",
		mutate: func(ws *workspacesv1alpha1.Workspace) {
			ts := ago(time.Second)
			ws.DeletionTimestamp = &ts
			ws.Finalizers = []string{workspacesv1alpha1.AgentFinalizer("east")}
		},
		want: "Deleting (waiting for the agent of east to clean up)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var ws *workspacesv1alpha1.Workspace
			if tc.mutate != nil {
				ws = running()
				tc.mutate(ws)
			}
			require.Equal(t, tc.want, state(ws))
		})
	}
}

func TestAvailableAndStopped(t *testing.T) {
	stale := running()
	stale.Generation = 3
	degraded := running()
	degraded.Status.Conditions[2] = metav1.Condition{Type: "Available", Status: "False", Reason: "PodsNotReady", ObservedGeneration: 2}
	degraded.Status.Conditions = append(degraded.Status.Conditions, metav1.Condition{Type: "Degraded", Status: "True", Reason: "ImagePullFailed", Message: "image not found", ObservedGeneration: 2})
	stopping := running()
	stopping.Spec.DesiredStatus, stopping.Generation = workspacesv1alpha1.DesiredStatusStopped, 3
	stoppedWS := stopping.DeepCopy()
	stoppedWS.Status.Phase, stoppedWS.Status.ObservedGeneration = workspacesv1alpha1.WorkspacePhaseStopped, 3

	for _, tc := range []struct {
		name    string
		cond    condition
		ws      *workspacesv1alpha1.Workspace
		want    bool
		wantErr string
	}{
		{"available", available, running(), true, ""},
		{"available for an older spec", available, stale, false, ""},
		{"degraded fails fast", available, degraded, false, "workspace alice-nb will not become available: Degraded ImagePullFailed: image not found"},
		{"stopped cannot open", available, stopping, false, "workspace alice-nb is stopped"},
		{"stopping", stopped, stopping, false, ""},
		{"stopped", stopped, stoppedWS, true, ""},
		{"started again while waiting to stop", stopped, running(), false, "was started again"},
		{"gone while waiting", available, nil, false, "the workspace was deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cond(tc.ws)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestOrgName(t *testing.T) {
	for host, want := range map[string]string{
		"https://hub:6443/clusters/root:orgs:acme":  "acme",
		"https://hub:6443/clusters/root:orgs:acme/": "acme",
		"https://hub:6443/clusters/root:atrium":     "root:atrium",
		"https://hub:6443":                          "https://hub:6443",
	} {
		require.Equal(t, want, orgName(host), host)
	}
}

func TestShardName(t *testing.T) {
	require.Equal(t, "10.0.0.1:6443", ShardName("https://10.0.0.1:6443/services/apiexport/abc/workspaces.atrium.dev"))
	require.Equal(t, "root", ShardName("root"))
}
