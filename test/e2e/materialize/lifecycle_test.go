package materialize

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/materialize"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

const configMapTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ignored
data:
  backend: "{{ .Service.Name }}:{{ .Service.Port }}"
  team: "{{ index .Workspace.Labels "team" }}"
`

const ingressTemplate = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ignored
spec:
  rules:
  - host: ide.example.test
    http:
      paths:
      - path: /ws/{{ .Workspace.Name }}
        pathType: Prefix
        backend:
          service:
            name: {{ .Service.Name }}
            port:
              number: {{ .Service.Port }}
`

func routeStrategy(name string) *computev1alpha1.WorkspaceAccessStrategy {
	return &computev1alpha1.WorkspaceAccessStrategy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: computev1alpha1.WorkspaceAccessStrategySpec{
			AccessResourceTemplates: []computev1alpha1.AccessResourceTemplate{
				{Kind: "ConfigMap", APIVersion: "v1", NamePrefix: "route", Template: configMapTemplate},
				{Kind: "Ingress", APIVersion: "networking.k8s.io/v1", NamePrefix: "ing", Template: ingressTemplate},
			},
			AccessURLTemplate:           "https://ide.example.test/ws/{{ .Workspace.Name }}/",
			ApplicationBasePathTemplate: "/ws/{{ .Workspace.Name }}",
		},
	}
}

// TestLifecycle walks one workspace through create, drift, stop and start,
// and counts the controller's writes while nothing changes.
func TestLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	h := setup(t)
	ns := h.newNamespace(t, ctx, "mat-lifecycle")
	strategy := routeStrategy("route-lifecycle")
	require.NoError(t, h.client.Create(ctx, strategy))
	h.bindHome(t, ctx, ns, "alice-nb")

	start := time.Now()
	lw := newLocalWorkspace(ns, "alice-nb", strategy.Name)
	require.NoError(t, h.client.Create(ctx, lw))

	got := h.waitFor(t, ctx, lw, "Available", func(lw *computev1alpha1.LocalWorkspace) bool {
		return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
	})
	t.Logf("Available after %s", time.Since(start).Round(100*time.Millisecond))
	require.Equal(t, workspacesv1alpha1.WorkspacePhaseRunning, got.Status.Phase)
	require.Equal(t, "https://ide.example.test/ws/alice-nb/", got.Status.AccessURL)
	require.Equal(t, "/ws/alice-nb", got.Status.ApplicationBasePath)
	require.Equal(t, "atrium.dev/access-for=alice-nb", got.Status.AccessResourceSelector)
	require.Equal(t, []workspacesv1alpha1.AccessResourceStatus{
		{Kind: "ConfigMap", APIVersion: "v1", Name: "route-alice-nb", Namespace: ns},
		{Kind: "Ingress", APIVersion: "networking.k8s.io/v1", Name: "ing-alice-nb", Namespace: ns},
	}, got.Status.AccessResources)
	require.Equal(t, "alice-nb", got.Status.DeploymentName)
	require.Equal(t, "alice-nb", got.Status.ServiceName)
	require.Equal(t, got.Generation, got.Status.ObservedGeneration)
	require.False(t, isTrue(got, workspacesv1alpha1.ConditionDegraded))

	// What runs: a ready pod on a kwok node, the Service, the PVC, the access resources.
	dep := &appsv1.Deployment{}
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb"), dep))
	require.Equal(t, int32(1), *dep.Spec.Replicas)
	require.Equal(t, appsv1.RecreateDeploymentStrategyType, dep.Spec.Strategy.Type)
	pods := &corev1.PodList{}
	require.NoError(t, h.client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{materialize.WorkspaceLabel: "alice-nb"}))
	require.Len(t, pods.Items, 1)
	require.Equal(t, corev1.PodRunning, pods.Items[0].Status.Phase)
	node := &corev1.Node{}
	require.NoError(t, h.client.Get(ctx, key("", pods.Items[0].Spec.NodeName), node))
	require.Equal(t, "fake", node.Annotations[testbed.KwokNodeAnnotation])

	svc := &corev1.Service{}
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb"), svc))
	require.Equal(t, int32(8888), svc.Spec.Ports[0].Port)
	pvc := &corev1.PersistentVolumeClaim{}
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb-home"), pvc))
	require.Equal(t, corev1.ClaimBound, pvc.Status.Phase)
	pvcUID := pvc.UID

	cm := &corev1.ConfigMap{}
	require.NoError(t, h.client.Get(ctx, key(ns, "route-alice-nb"), cm))
	require.Equal(t, "alice-nb:8888", cm.Data["backend"])
	require.Equal(t, "ml", cm.Data["team"], "hub labels from the %s annotation reach the templates", materialize.HubLabelsAnnotation)
	require.True(t, metav1.IsControlledBy(cm, got))
	ing := &networkingv1.Ingress{}
	require.NoError(t, h.client.Get(ctx, key(ns, "ing-alice-nb"), ing))
	require.Equal(t, "/ws/alice-nb", ing.Spec.Rules[0].HTTP.Paths[0].Path)

	// An unchanged workspace costs no write request.
	h.settle(t, ctx, lw)
	require.Zero(t, h.writesDuring(t, ctx, lw, 5), "reconciling an unchanged running workspace wrote; recent writes:\n%s", h.writes.recent())

	// Drift: deleted objects come back, an edited Deployment is repaired.
	t.Run("drift", func(t *testing.T) {
		require.NoError(t, h.client.Delete(ctx, dep))
		h.waitObject(t, ctx, "Deployment recreated", func(ctx context.Context) (bool, error) {
			d := &appsv1.Deployment{}
			err := h.client.Get(ctx, key(ns, "alice-nb"), d)
			return err == nil && d.UID != dep.UID && d.DeletionTimestamp == nil, err
		})
		require.NoError(t, h.client.Delete(ctx, svc))
		h.waitObject(t, ctx, "Service recreated", func(ctx context.Context) (bool, error) {
			s := &corev1.Service{}
			err := h.client.Get(ctx, key(ns, "alice-nb"), s)
			return err == nil && s.UID != svc.UID, err
		})
		require.NoError(t, h.client.Delete(ctx, cm))
		h.waitObject(t, ctx, "access ConfigMap recreated (by resync)", func(ctx context.Context) (bool, error) {
			c := &corev1.ConfigMap{}
			err := h.client.Get(ctx, key(ns, "route-alice-nb"), c)
			return err == nil && c.UID != cm.UID, err
		})

		d := &appsv1.Deployment{}
		require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb"), d))
		d.Spec.Template.Spec.Containers[0].Image = "evil/image:1"
		require.NoError(t, h.client.Update(ctx, d))
		h.waitObject(t, ctx, "Deployment image repaired", func(ctx context.Context) (bool, error) {
			d := &appsv1.Deployment{}
			err := h.client.Get(ctx, key(ns, "alice-nb"), d)
			return err == nil && d.Spec.Template.Spec.Containers[0].Image == lw.Spec.Effective.Image, err
		})
		h.waitFor(t, ctx, lw, "Available again after drift", func(lw *computev1alpha1.LocalWorkspace) bool {
			return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
		})
	})

	// Stop: no pods, no access resources, the PVC stays.
	require.NoError(t, h.setDesired(ctx, lw, workspacesv1alpha1.DesiredStatusStopped))
	got = h.waitFor(t, ctx, lw, "Stopped", func(lw *computev1alpha1.LocalWorkspace) bool {
		return lw.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped && isTrue(lw, workspacesv1alpha1.ConditionStopped)
	})
	require.Empty(t, got.Status.AccessResources)
	require.Empty(t, got.Status.AccessURL)
	require.False(t, isTrue(got, workspacesv1alpha1.ConditionAvailable))
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb"), dep))
	require.Equal(t, int32(0), *dep.Spec.Replicas)
	require.True(t, apierrors.IsNotFound(h.client.Get(ctx, key(ns, "route-alice-nb"), &corev1.ConfigMap{})), "access ConfigMap must be deleted when stopped")
	require.True(t, apierrors.IsNotFound(h.client.Get(ctx, key(ns, "ing-alice-nb"), &networkingv1.Ingress{})), "access Ingress must be deleted when stopped")
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb-home"), pvc))
	require.Equal(t, pvcUID, pvc.UID)
	h.settle(t, ctx, lw)
	require.Zero(t, h.writesDuring(t, ctx, lw, 3), "reconciling an unchanged stopped workspace wrote; recent writes:\n%s", h.writes.recent())

	// Start again: same PVC, Available again.
	require.NoError(t, h.setDesired(ctx, lw, workspacesv1alpha1.DesiredStatusRunning))
	got = h.waitFor(t, ctx, lw, "Available after start", func(lw *computev1alpha1.LocalWorkspace) bool {
		return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
	})
	require.Len(t, got.Status.AccessResources, 2)
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb-home"), pvc))
	require.Equal(t, pvcUID, pvc.UID, "the home volume survives stop and start")
}

// TestInvalidAccessKeepsWorkspace shows a strategy that renders nothing valid
// makes the workspace Degraded and loses nothing else.
func TestInvalidAccessKeepsWorkspace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := setup(t)
	ns := h.newNamespace(t, ctx, "mat-invalid")
	strategy := &computev1alpha1.WorkspaceAccessStrategy{
		ObjectMeta: metav1.ObjectMeta{Name: "broken"},
		Spec: computev1alpha1.WorkspaceAccessStrategySpec{AccessResourceTemplates: []computev1alpha1.AccessResourceTemplate{
			{Kind: "ConfigMap", APIVersion: "v1", NamePrefix: "x", Template: "apiVersion: v1\nkind: Secret\n"},
		}},
	}
	require.NoError(t, h.client.Create(ctx, strategy))
	h.bindHome(t, ctx, ns, "bob-nb")
	lw := newLocalWorkspace(ns, "bob-nb", strategy.Name)
	require.NoError(t, h.client.Create(ctx, lw))

	got := h.waitFor(t, ctx, lw, "Degraded AccessResourceInvalid", func(lw *computev1alpha1.LocalWorkspace) bool {
		c := lw.GetCondition(workspacesv1alpha1.ConditionDegraded)
		return isTrue(lw, workspacesv1alpha1.ConditionDegraded) && c.Reason == string(workspacesv1alpha1.ReasonAccessResourceInvalid)
	})
	require.Contains(t, got.GetCondition(workspacesv1alpha1.ConditionDegraded).Message, "Secret")
	h.waitObject(t, ctx, "the Deployment runs anyway", func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		err := h.client.Get(ctx, key(ns, "bob-nb"), d)
		return err == nil && d.Status.ReadyReplicas == 1, err
	})
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

// setDesired sets spec.desiredStatus as the syncer would.
func (h *harness) setDesired(ctx context.Context, lw *computev1alpha1.LocalWorkspace, desired workspacesv1alpha1.DesiredStatus) error {
	cur, err := h.get(ctx, lw)
	if err != nil {
		return err
	}
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Spec.DesiredStatus = desired
	return h.client.Patch(ctx, cur, patch)
}
