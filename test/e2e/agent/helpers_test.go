package agent

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/test/testbed"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/mirror"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/hub/statusapply"
	"github.com/atrium-dev/atrium/hub/templates"
)

var scheme = testbed.Scheme

// orgClient is the hub admin's client for an organization.
func orgClient(t *testing.T, org string) client.Client {
	t.Helper()
	c, err := env.Hub.Client(bootstrap.OrgPath(org))
	require.NoError(t, err)
	return c
}

// tenantClient is the client of a tenant (an org admin) for their organization.
func tenantClient(t *testing.T, user, org string) client.Client {
	t.Helper()
	c, err := env.Hub.UserClient(user, bootstrap.OrgPath(org))
	require.NoError(t, err)
	return c
}

func localClient(t *testing.T, cluster string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(cluster).Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// logicalCluster returns the logical-cluster name of an organization (what the agent sees).
func logicalCluster(t *testing.T, org string) string {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(context.Background(), env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == org {
			require.NotEmpty(t, o.Cluster)
			return o.Cluster
		}
	}
	t.Fatalf("organization %s not found", org)
	return ""
}

// createWorkspace creates a Workspace as the tenant, resolves it and places it on cluster as
// the hub controller would (status.effective, status.placement and the cluster label).
func createWorkspace(t *testing.T, user, org string, ws *workspacesv1alpha1.Workspace, cluster string) *workspacesv1alpha1.Workspace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ws.Namespace == "" {
		ws.Namespace = "default"
	}
	require.NoError(t, tenantClient(t, user, org).Create(ctx, ws))
	resolve(t, org, ws)
	place(t, org, ws, cluster)
	return ws
}

// resolve writes status.effective for ws's current spec as the hub's template controller does
// for a valid generation (hub/templates.Resolve under suiteTemplate). The agent materializes
// nothing else.
func resolve(t *testing.T, org string, ws *workspacesv1alpha1.Workspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := orgClient(t, org)
	cur := &workspacesv1alpha1.Workspace{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(ws), cur))
	eff, bad := templates.Resolve(cur, suiteTemplate(), func(string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) { return nil, false })
	require.Nil(t, bad, "the test workspace %s must be valid", ws.Name)
	eff.Generation = cur.Generation
	encoded, err := statusapply.Encode(eff)
	require.NoError(t, err)
	status := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"effective": encoded}}}
	status.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	status.SetKind("Workspace")
	status.SetNamespace(ws.Namespace)
	status.SetName(ws.Name)
	require.NoError(t, c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(status), client.FieldOwner(templates.FieldManager), client.ForceOwnership))
}

func place(t *testing.T, org string, ws *workspacesv1alpha1.Workspace, cluster string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := orgClient(t, org)
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	u.SetKind("Workspace")
	u.SetNamespace(ws.Namespace)
	u.SetName(ws.Name)
	u.SetLabels(map[string]string{workspacesv1alpha1.LabelCluster: cluster})
	require.NoError(t, c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("atrium-hub"), client.ForceOwnership))
	status := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
		"placement": map[string]any{"cluster": cluster, "time": time.Now().UTC().Format(time.RFC3339)},
	}}}
	status.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	status.SetKind("Workspace")
	status.SetNamespace(ws.Namespace)
	status.SetName(ws.Name)
	require.NoError(t, c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(status), client.FieldOwner("atrium-hub"), client.ForceOwnership))
}

// waitHub waits until the hub Workspace satisfies cond, and returns it.
func waitHub(t *testing.T, org, name string, timeout time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) *workspacesv1alpha1.Workspace {
	t.Helper()
	c := orgClient(t, org)
	var last *workspacesv1alpha1.Workspace
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = ws
		return cond(ws), nil
	})
	require.NoError(t, err, "hub workspace %s/%s: %s; last status: %s", org, name, what, describe(last))
	return last
}

func available(ws *workspacesv1alpha1.Workspace) bool {
	return meta.IsStatusConditionTrue(ws.Status.Conditions, string(workspacesv1alpha1.ConditionAvailable)) &&
		ws.Status.ObservedGeneration == ws.Generation
}

func phase(p workspacesv1alpha1.WorkspacePhase) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Phase == p && ws.Status.ObservedGeneration == ws.Generation
	}
}

func describe(ws *workspacesv1alpha1.Workspace) string {
	if ws == nil {
		return "<not found>"
	}
	s := fmt.Sprintf("gen=%d observed=%d phase=%s url=%q", ws.Generation, ws.Status.ObservedGeneration, ws.Status.Phase, ws.Status.AccessURL)
	for _, c := range ws.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

// waitLocal waits until cond holds for the compute cluster.
func waitLocal(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		lastErr = err
		return ok, nil
	})
	require.NoError(t, err, "%s (last error: %v)", what, lastErr)
}

// localNamespace is where the agent mirrors the workspaces of an org's default namespace.
func localNamespace(t *testing.T, org string) string {
	return mirror.Namespace(logicalCluster(t, org), "default")
}

// runningPods counts the Running pods of a workspace on a cluster.
func runningPods(ctx context.Context, c client.Client, ns, name string) (int, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"atrium.dev/workspace": name}); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp.IsZero() {
			n++
		}
	}
	return n, nil
}

func deploymentReplicas(ctx context.Context, c client.Client, ns, name string) (int32, error) {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		return -1, err
	}
	if d.Spec.Replicas == nil {
		return 1, nil
	}
	return *d.Spec.Replicas, nil
}

func exists(ctx context.Context, c client.Client, obj client.Object, ns, name string) (bool, error) {
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func newWorkspace(name string) *workspacesv1alpha1.Workspace {
	return &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			Image: "quay.io/jupyter/base-notebook:2025-06-01",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resourceQuantity("250m"), corev1.ResourceMemory: resourceQuantity("512Mi"),
			}},
		},
	}
}

// suiteTemplate is the template the suite's workspaces are resolved under, as an organization's
// default template would govern them: the suite's image, any access strategy the cluster has.
func suiteTemplate() *workspacesv1alpha1.WorkspaceTemplate {
	return &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-suite"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage:  "quay.io/jupyter/base-notebook:2025-06-01",
			AllowedImages: []string{"quay.io/jupyter/*"},
		},
	}
}

func resourceQuantity(s string) resource.Quantity { return resource.MustParse(s) }
