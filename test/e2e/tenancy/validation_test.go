package tenancy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(manifest), &u.Object))
	return u
}

// TestBadManifestsAreRejected sends bad Workspaces and WorkspaceTemplates to the real kcp and
// checks each is rejected with a message that tells the tenant what to change.
func TestBadManifestsAreRejected(t *testing.T) {
	c := userClient(t, "alice", "acme")
	const ws = "apiVersion: workspaces.atrium.dev/v1alpha1\nkind: Workspace\nmetadata: {name: %s, namespace: default}\n"
	const tmpl = "apiVersion: workspaces.atrium.dev/v1alpha1\nkind: WorkspaceTemplate\nmetadata: {name: %s}\n"
	f := func(format, name, spec string) string { return strings.Replace(format, "%s", name, 1) + spec }

	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"unknown desiredStatus", f(ws, "bad-desired", "spec: {image: jupyter/base-notebook, desiredStatus: Paused}"), `Unsupported value: "Paused"`},
		{"wrong accessType enum", f(ws, "bad-access", "spec: {image: jupyter/base-notebook, accessType: Everyone}"), `spec.accessType: Unsupported value: "Everyone"`},
		{"wrong ownershipType enum", f(ws, "bad-owner", "spec: {image: jupyter/base-notebook, ownershipType: Mine}"), `spec.ownershipType: Unsupported value: "Mine"`},
		{"negative storage size", f(ws, "bad-size", "spec: {image: jupyter/base-notebook, storage: {size: -5Gi}}"), "spec.storage.size must be a positive quantity"},
		{"zero storage size", f(ws, "zero-size", "spec: {image: jupyter/base-notebook, storage: {size: \"0\"}}"), "spec.storage.size must be a positive quantity"},
		{"privileged container", f(ws, "privileged", "spec: {containerSecurityContext: {privileged: true}}"), "privileged containers are not allowed"},
		{"image with whitespace", f(ws, "bad-image", "spec: {image: \"jupyter/base notebook\"}"), "spec.image must be an image reference without whitespace"},
		{"oversize name", f(ws, strings.Repeat("a", 64), "spec: {image: jupyter/base-notebook}"), "metadata.name must be at most 63 characters"},
		{"dotted name", f(ws, "alice.nb", "spec: {image: jupyter/base-notebook}"), "metadata.name must be a DNS-1123 label"},
		{"idle timeout zero", f(ws, "bad-idle", "spec: {image: jupyter/base-notebook, idleShutdown: {enabled: true, idleTimeoutInMinutes: 0}}"), "spec.idleShutdown.idleTimeoutInMinutes must be at least"},
		{"relative mount path", f(ws, "bad-mount", "spec: {image: jupyter/base-notebook, storage: {mountPath: home/jovyan}}"), "spec.storage.mountPath must be an absolute path"},
		{"bad templateRef name", f(ws, "bad-tref", "spec: {templateRef: {name: Data_Science}}"), "spec.templateRef.name must be a DNS-1123 subdomain"},
		{"bad access strategy name", f(ws, "bad-strategy", "spec: {image: x, accessStrategy: {name: \"Traefik!\"}}"), "accessStrategy.name must be a DNS-1123 subdomain"},
		{"reserved volume name", f(ws, "bad-vol", "spec: {image: x, volumes: [{name: workspace-storage, persistentVolumeClaimName: data, mountPath: /data}]}"), "spec.volumes[].name 'workspace-storage' is reserved"},
		{"storage as a string", f(ws, "bad-type", "spec: {image: x, storage: lots}"), "spec.storage: Invalid value: \"string\""},
		{"template allowedImages with inner star", f(tmpl, "bad-allowed", "spec: {defaultImage: x, allowedImages: [\"quay.io/*/x\"]}"), "spec.allowedImages entries must be non-empty, without whitespace"},
		{"template max below min storage", f(tmpl, "bad-bounds", "spec: {defaultImage: x, primaryStorage: {minSize: 10Gi, maxSize: 1Gi}}"), "spec.primaryStorage.maxSize must not be smaller than minSize"},
		{"template default above max storage", f(tmpl, "bad-default", "spec: {defaultImage: x, primaryStorage: {defaultSize: 100Gi, maxSize: 10Gi}}"), "spec.primaryStorage.defaultSize must not be larger than maxSize"},
		{"template negative lifetime", f(tmpl, "bad-lifetime", "spec: {defaultImage: x, maxLifetimeInMinutes: -1}"), "spec.maxLifetimeInMinutes must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := c.Create(ctx, obj(t, tc.manifest))
			require.Error(t, err, "the API must reject this manifest")
			require.True(t, apierrors.IsInvalid(err) || apierrors.IsBadRequest(err), "want Invalid, got %v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestImmutableFields: templateRef on a Workspace and the spec of a WorkspaceTemplate cannot
// change after creation; other edits still work.
func TestImmutableFields(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := userClient(t, "alice", "acme")

	tmpl := obj(t, "apiVersion: workspaces.atrium.dev/v1alpha1\nkind: WorkspaceTemplate\nmetadata: {name: frozen}\nspec: {defaultImage: jupyter/base-notebook}\n")
	require.NoError(t, c.Create(ctx, tmpl))
	require.NoError(t, unstructured.SetNestedField(tmpl.Object, "jupyter/scipy-notebook", "spec", "defaultImage"))
	err := c.Update(ctx, tmpl)
	require.Error(t, err)
	require.Contains(t, err.Error(), "immutable")
	require.Contains(t, err.Error(), "create a new template")

	for _, tc := range []struct{ name, create, patch, want string }{
		{"change templateRef", "spec: {templateRef: {name: frozen}}", `{"spec":{"templateRef":{"name":"other"}}}`, "spec.templateRef is immutable"},
		{"add templateRef", "spec: {image: jupyter/base-notebook}", `{"spec":{"templateRef":{"name":"frozen"}}}`, "spec.templateRef is immutable"},
		{"remove templateRef", "spec: {templateRef: {name: frozen}, image: jupyter/base-notebook}", `{"spec":{"templateRef":null}}`, "spec.templateRef is immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ToLower(strings.ReplaceAll(tc.name, " ", "-"))
			w := obj(t, "apiVersion: workspaces.atrium.dev/v1alpha1\nkind: Workspace\nmetadata: {name: "+name+", namespace: default}\n"+tc.create)
			require.NoError(t, c.Create(ctx, w))
			err := c.Patch(ctx, w, client.RawPatch("application/merge-patch+json", []byte(tc.patch)))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)

			// Mutable fields still change.
			require.NoError(t, c.Patch(ctx, w, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"desiredStatus":"Stopped","displayName":"renamed"}}`))))
		})
	}
}

// TestJupyterK8sManifestIsAccepted: a jupyter-k8s Workspace (its field names, only apiVersion
// changed, including namespaced templateRef/accessStrategy) is accepted and keeps its fields.
func TestJupyterK8sManifestIsAccepted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := userClient(t, "alice", "acme")
	w := obj(t, `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata:
  name: jk8s-notebook
  namespace: default
spec:
  displayName: "My Notebook"
  image: "quay.io/jupyter/minimal-notebook:latest"
  desiredStatus: Running
  ownershipType: Public
  accessType: Public
  appType: jupyterlab
  resources:
    requests: {cpu: "500m", memory: "1Gi"}
    limits: {cpu: "1", memory: "2Gi"}
  storage:
    size: 10Gi
    mountPath: /home/jovyan
  containerConfig:
    command: ["start-notebook.py"]
    args: ["--ServerApp.base_url=/workspaces/default/jk8s-notebook"]
  env:
  - {name: JUPYTER_ENABLE_LAB, value: "yes"}
  nodeSelector: {kubernetes.io/os: linux}
  tolerations:
  - {key: dedicated, operator: Equal, value: notebooks, effect: NoSchedule}
  templateRef:
    name: datascience
    namespace: jupyter-k8s-system
  accessStrategy:
    name: traefik
    namespace: jupyter-k8s-system
  idleShutdown:
    enabled: true
    idleTimeoutInMinutes: 30
    detection:
      httpGet:
        path: /api/status
        port: 8888
`)
	require.NoError(t, c.Create(ctx, w))
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(w.GroupVersionKind())
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "jk8s-notebook"}, got))
	ns, _, _ := unstructured.NestedString(got.Object, "spec", "templateRef", "namespace")
	require.Equal(t, "jupyter-k8s-system", ns, "the namespace key is kept (and ignored by Atrium)")
	timeout, _, _ := unstructured.NestedInt64(got.Object, "spec", "idleShutdown", "idleTimeoutInMinutes")
	require.EqualValues(t, 30, timeout)
}
