package hub

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func ensureTemplateAndProfiles(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := orgClient(t)
	for _, p := range []*workspacesv1alpha1.WorkspaceExecutionProfile{
		{ObjectMeta: metav1.ObjectMeta{Name: "ml"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{
			ServiceAccountName: "ml-runner", PodAnnotations: map[string]string{"iam.example.com/role": "ml"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{ServiceAccountName: "admin"}},
	} {
		require.NoError(t, client.IgnoreAlreadyExists(c.Create(ctx, p)))
	}
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage:  "quay.io/jupyter/minimal-notebook:2025-06-01",
			AllowedImages: []string{"quay.io/jupyter/*"},
			DefaultResources: &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				corev1.ResourceCPU:    {Max: ptr.To(resource.MustParse("2"))},
				corev1.ResourceMemory: {Min: ptr.To(resource.MustParse("128Mi")), Max: ptr.To(resource.MustParse("16Gi"))},
				"nvidia.com/gpu":      {Max: ptr.To(resource.MustParse("1"))},
			}},
			PrimaryStorage: &workspacesv1alpha1.StorageConfig{
				DefaultSize: ptr.To(resource.MustParse("2Gi")), MaxSize: ptr.To(resource.MustParse("20Gi")), DefaultMountPath: "/home/user",
			},
			DefaultAccessStrategy:    &workspacesv1alpha1.AccessStrategyRef{Name: "loopback"},
			DefaultExecutionProfile:  "ml",
			AllowedExecutionProfiles: []string{"ghost"},
		},
	}
	require.NoError(t, client.IgnoreAlreadyExists(c.Create(ctx, tmpl)))
}

func fromTemplate(ws *workspacesv1alpha1.Workspace) {
	ws.Spec.Image = ""
	ws.Spec.Resources = nil
	ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: "standard"}
}

// TestTemplateDefaults: a workspace naming only its template gets the template's image,
// resources, storage, access strategy and execution profile in status.effective, is placed, and
// the compute cluster's Deployment and PVC carry exactly that; the template counts it and holds
// its finalizer. (The profile's service account is the platform's to provide on the compute
// cluster, so the pod itself is not waited for.)
func TestTemplateDefaults(t *testing.T) {
	ensureTemplateAndProfiles(t)
	create(t, newWorkspace("tmpl-defaults", fromTemplate))

	ws := waitHub(t, "tmpl-defaults", 2*time.Minute, "is materialized", materialized)
	require.True(t, ws.IsConditionTrue(workspacesv1alpha1.ConditionValid), describe(ws))
	require.True(t, ws.IsConditionTrue(workspacesv1alpha1.ConditionScheduled), describe(ws))
	eff := ws.Status.Effective
	require.NotNil(t, eff)
	require.Equal(t, "standard", eff.Template)
	require.Equal(t, "quay.io/jupyter/minimal-notebook:2025-06-01", eff.Image)
	require.Equal(t, "200m", ptr.To(eff.Resources.Requests[corev1.ResourceCPU]).String())
	require.Equal(t, "1Gi", ptr.To(eff.Resources.Limits[corev1.ResourceMemory]).String())
	require.Equal(t, "2Gi", eff.Storage.Size.String())
	require.Equal(t, "/home/user", eff.Storage.MountPath)
	require.Equal(t, "loopback", eff.AccessStrategy)
	require.Equal(t, "ml", eff.ExecutionProfile)
	require.Equal(t, "ml-runner", eff.ServiceAccountName)
	require.Equal(t, "ml", eff.PodAnnotations["iam.example.com/role"])
	cluster := ws.PlacedCluster()
	require.Equal(t, cluster, ws.Labels[workspacesv1alpha1.LabelCluster])
	require.NotEmpty(t, ws.Status.Placement.Shard)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := &appsv1.Deployment{}
	require.NoError(t, localClient(t, cluster).Get(ctx, client.ObjectKey{Namespace: localNamespace(t), Name: ws.Status.DeploymentName}, d))
	ctr := d.Spec.Template.Spec.Containers[0]
	require.Equal(t, eff.Image, ctr.Image)
	require.Equal(t, "200m", ptr.To(ctr.Resources.Requests[corev1.ResourceCPU]).String())
	require.Equal(t, "ml-runner", d.Spec.Template.Spec.ServiceAccountName)
	pvc := &corev1.PersistentVolumeClaim{}
	require.NoError(t, localClient(t, cluster).Get(ctx, client.ObjectKey{Namespace: localNamespace(t), Name: "tmpl-defaults-home"}, pvc))
	require.Equal(t, "2Gi", ptr.To(pvc.Spec.Resources.Requests[corev1.ResourceStorage]).String())

	tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
	waitLocal(t, 30*time.Second, "template counts its workspace and holds the finalizer", func(ctx context.Context) (bool, error) {
		if err := orgClient(t).Get(ctx, client.ObjectKey{Name: "standard"}, tmpl); err != nil {
			return false, err
		}
		return tmpl.Status.WorkspaceCount >= 1 && containsString(tmpl.Finalizers, workspacesv1alpha1.TemplateInUseFinalizer), nil
	})
}

// TestBoundViolations: each violation of the template gives its documented reason and a message
// naming the field and bound; nothing is placed and nothing runs on any cluster.
func TestBoundViolations(t *testing.T) {
	ensureTemplateAndProfiles(t)
	cases := []struct {
		name    string
		mutate  func(*workspacesv1alpha1.Workspace)
		reason  workspacesv1alpha1.ConditionReason
		message string
	}{
		{"bad-image", func(ws *workspacesv1alpha1.Workspace) { ws.Spec.Image = "docker.io/evil/miner:1" },
			workspacesv1alpha1.ReasonImageNotAllowed, `spec.image "docker.io/evil/miner:1" is not allowed`},
		{"bad-memory", func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Gi")}}
		}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.limits.memory 64Gi exceeds the template's maximum 16Gi"},
		{"bad-gpu", func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2")}, Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2")}}
		}, workspacesv1alpha1.ReasonResourceOutOfBounds, "nvidia.com/gpu 2 exceeds the template's maximum 1"},
		{"bad-storage", func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.Storage = &workspacesv1alpha1.StorageSpec{Size: ptr.To(resource.MustParse("50Gi"))}
		}, workspacesv1alpha1.ReasonStorageOutOfBounds, "spec.storage.size 50Gi exceeds the template's maximum 20Gi"},
		{"bad-strategy", func(ws *workspacesv1alpha1.Workspace) {
			ws.Spec.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: "traefik"}
		}, workspacesv1alpha1.ReasonAccessStrategyNotAllowed, "spec.accessStrategy.name traefik is not allowed"},
		{"unknown-profile", func(ws *workspacesv1alpha1.Workspace) { ws.Spec.ExecutionProfile = "ghost" },
			workspacesv1alpha1.ReasonExecutionProfileNotFound, "spec.executionProfile ghost"},
		{"forbidden-profile", func(ws *workspacesv1alpha1.Workspace) { ws.Spec.ExecutionProfile = "admin" },
			workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.executionProfile admin is not allowed"},
		{"missing-template", func(ws *workspacesv1alpha1.Workspace) { ws.Spec.TemplateRef.Name = "nope" },
			workspacesv1alpha1.ReasonTemplateNotFound, `spec.templateRef.name "nope"`},
	}
	for _, tc := range cases {
		create(t, newWorkspace(tc.name, fromTemplate, tc.mutate))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := waitHub(t, tc.name, time.Minute, "is Valid=False "+string(tc.reason),
				hasCondition(workspacesv1alpha1.ConditionValid, metav1.ConditionFalse, tc.reason))
			require.Contains(t, ws.GetCondition(workspacesv1alpha1.ConditionValid).Message, tc.message)
			waitHub(t, tc.name, 30*time.Second, "is Scheduled=False NotValid",
				hasCondition(workspacesv1alpha1.ConditionScheduled, metav1.ConditionFalse, workspacesv1alpha1.ReasonNotValid))
		})
	}
	// Nothing of them reached a cluster.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range cases {
		ws := &workspacesv1alpha1.Workspace{}
		require.NoError(t, orgClient(t).Get(ctx, client.ObjectKey{Namespace: "default", Name: tc.name}, ws))
		require.Empty(t, ws.PlacedCluster(), "%s must not be placed", tc.name)
		require.Nil(t, ws.Status.Effective, "%s must have no effective spec", tc.name)
		for _, cluster := range []string{"east", "west"} {
			ok, err := mirrorExists(ctx, t, cluster, tc.name)
			require.NoError(t, err)
			require.False(t, ok, "%s must have no LocalWorkspace on %s", tc.name, cluster)
			pods := &corev1.PodList{}
			require.NoError(t, localClient(t, cluster).List(ctx, pods, client.MatchingLabels{"atrium.dev/workspace": tc.name}))
			require.Empty(t, pods.Items)
		}
	}
}

// TestInvalidEditKeepsRunning: an edit that breaks a running workspace's bounds reports
// Valid=False and keeps the last good effective spec (and what runs).
func TestInvalidEditKeepsRunning(t *testing.T) {
	ensureTemplateAndProfiles(t)
	create(t, newWorkspace("tmpl-edit", fromTemplate))
	ws := waitHub(t, "tmpl-edit", 2*time.Minute, "is materialized", materialized)
	good := ws.Status.Effective.DeepCopy()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	patch := client.MergeFrom(ws.DeepCopy())
	ws.Spec.Image = "docker.io/evil/miner:1"
	require.NoError(t, tenantClient(t).Patch(ctx, ws, patch))

	ws = waitHub(t, "tmpl-edit", time.Minute, "is Valid=False ImageNotAllowed",
		hasCondition(workspacesv1alpha1.ConditionValid, metav1.ConditionFalse, workspacesv1alpha1.ReasonImageNotAllowed))
	require.Equal(t, good.Image, ws.Status.Effective.Image, "the last good effective spec stays")
	require.Equal(t, good.Image, "quay.io/jupyter/minimal-notebook:2025-06-01")
	cluster := ws.PlacedCluster()
	require.NotEmpty(t, cluster, "a running workspace stays placed")
	d := &appsv1.Deployment{}
	require.NoError(t, localClient(t, cluster).Get(ctx, client.ObjectKey{Namespace: localNamespace(t), Name: ws.Status.DeploymentName}, d))
	require.Equal(t, good.Image, d.Spec.Template.Spec.Containers[0].Image)
}

// materialized: placed, and the agent reports the Deployment it made.
func materialized(ws *workspacesv1alpha1.Workspace) bool {
	return ws.PlacedCluster() != "" && ws.Status.DeploymentName != "" && ws.Status.ObservedGeneration == ws.Generation
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
