package hub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/test/testbed"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/kcp"
	"github.com/kcp-dev/logicalcluster/v3"
)

var scheme = testbed.Scheme

func orgClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath(org)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func tenantClient(t *testing.T) client.Client {
	t.Helper()
	cfg, err := env.Hub.UserConfig(tenant, bootstrap.OrgPath(org))
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func providerClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func localClient(t *testing.T, cluster string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(cluster).Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func localNamespace(t *testing.T) string {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(context.Background(), env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == org {
			return mirror.Namespace(o.Cluster, "default")
		}
	}
	t.Fatalf("organization %s not found", org)
	return ""
}

// newWorkspace is a workspace of the tenant, with its owner annotation.
func newWorkspace(name string, mutate ...func(*workspacesv1alpha1.Workspace)) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: tenant}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			Image: "quay.io/jupyter/base-notebook:2025-06-01",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
		},
	}
	for _, m := range mutate {
		m(ws)
	}
	return ws
}

func create(t *testing.T, ws *workspacesv1alpha1.Workspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, tenantClient(t).Create(ctx, ws))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = orgClient(t).Delete(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: ws.Namespace, Name: ws.Name}})
	})
}

// waitHub waits until the hub Workspace satisfies cond, and returns it.
func waitHub(t *testing.T, name string, timeout time.Duration, what string, cond func(*workspacesv1alpha1.Workspace) bool) *workspacesv1alpha1.Workspace {
	t.Helper()
	c := orgClient(t)
	var last *workspacesv1alpha1.Workspace
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = ws
		return cond(ws), nil
	})
	require.NoError(t, err, "workspace %s: %s; last: %s", name, what, describe(last))
	return last
}

func hasCondition(t workspacesv1alpha1.ConditionType, status metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		c := ws.GetCondition(t)
		return c != nil && c.Status == status && c.Reason == string(reason) && c.ObservedGeneration == ws.Generation
	}
}

func available(ws *workspacesv1alpha1.Workspace) bool {
	return meta.IsStatusConditionTrue(ws.Status.Conditions, string(workspacesv1alpha1.ConditionAvailable)) &&
		ws.Status.ObservedGeneration == ws.Generation
}

func describe(ws *workspacesv1alpha1.Workspace) string {
	if ws == nil {
		return "<not found>"
	}
	s := fmt.Sprintf("gen=%d observed=%d phase=%s cluster=%q", ws.Generation, ws.Status.ObservedGeneration, ws.Status.Phase, ws.PlacedCluster())
	for _, c := range ws.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

// waitCluster waits until the ComputeCluster satisfies cond.
func waitCluster(t *testing.T, name string, timeout time.Duration, what string, cond func(*platformv1alpha1.ComputeCluster) bool) {
	t.Helper()
	c := providerClient(t)
	var last *platformv1alpha1.ComputeCluster
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		cc := &platformv1alpha1.ComputeCluster{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, cc); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = cc
		return cond(cc), nil
	})
	require.NoError(t, err, "ComputeCluster %s: %s; last conditions: %+v", name, what, conditionsOf(last))
}

func conditionsOf(cc *platformv1alpha1.ComputeCluster) []metav1.Condition {
	if cc == nil {
		return nil
	}
	return cc.Status.Conditions
}

// waitLocal waits until cond holds.
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

func mirrorExists(ctx context.Context, t *testing.T, cluster, name string) (bool, error) {
	err := localClient(t, cluster).Get(ctx, client.ObjectKey{Namespace: localNamespace(t), Name: name}, &computev1alpha1.LocalWorkspace{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func selectRegion(region string) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.ClusterSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"region": region}}
	}
}

func requestCPU(cpu string) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
}
