package tenancy

import (
	"context"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// TestHubInitIsIdempotent runs init again, and twice at once, and checks there is still exactly
// one consistent set: one export whose resources point at schemas that exist, the workspace
// types, and orgs still bound. Init also upgrades existing organizations: a role binding missing
// from an organization is there again afterwards, and an admission policy an older version wrote
// into the organization (ignored by kcp since v0.30) is gone.
func TestHubInitIsIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	adm := runtime.NewScheme()
	require.NoError(t, admissionregistrationv1.AddToScheme(adm))
	require.NoError(t, rbacv1.AddToScheme(adm))
	beta, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath("beta")), client.Options{Scheme: adm})
	require.NoError(t, err)
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: exports.HubAdmissionRole}}
	require.NoError(t, beta.Delete(ctx, binding), "org beta lets the hub review access")
	legacy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "atrium-workspace-ownership"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"workspaces.atrium.dev"}, APIVersions: []string{"*"}, Resources: []string{"workspaces"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{Expression: "true"}},
		},
	}
	require.NoError(t, beta.Create(ctx, legacy), "an organization of an older version carries its own policy")

	_, err = atrium(t, "hub", "init", "--kubeconfig", env.Hub.Kubeconfig)
	require.NoError(t, err)
	require.NoError(t, beta.Get(ctx, client.ObjectKeyFromObject(binding), binding), "hub init restores the organization's roles")
	err = beta.Get(ctx, client.ObjectKeyFromObject(legacy), legacy)
	require.True(t, apierrors.IsNotFound(err), "hub init removes the organization's obsolete policy: %v", err)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{})
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	s := runtime.NewScheme()
	require.NoError(t, apisv1alpha1.AddToScheme(s))
	require.NoError(t, apisv1alpha2.AddToScheme(s))
	require.NoError(t, tenancyv1alpha1.AddToScheme(s))
	c, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: s})
	require.NoError(t, err)

	exportsList := &apisv1alpha2.APIExportList{}
	require.NoError(t, c.List(ctx, exportsList))
	require.Len(t, exportsList.Items, 1, "exactly one APIExport in the provider workspace")
	export := exportsList.Items[0]
	require.Equal(t, exports.ExportName, export.Name)

	embedded, err := exports.APIResourceSchemas()
	require.NoError(t, err)
	want := map[string]string{}
	for _, s := range embedded {
		if s.Spec.Group == workspacesv1alpha1.GroupName {
			want[s.Spec.Names.Plural] = s.Name
		}
	}
	require.Len(t, export.Spec.Resources, len(want))
	for _, r := range export.Spec.Resources {
		require.Equal(t, want[r.Name], r.Schema, "export resource %s points at the embedded schema", r.Name)
		require.NoError(t, c.Get(ctx, client.ObjectKey{Name: r.Schema}, &apisv1alpha1.APIResourceSchema{}))
	}
	schemas := &apisv1alpha1.APIResourceSchemaList{}
	require.NoError(t, c.List(ctx, schemas))
	require.Len(t, schemas.Items, len(want), "no duplicate schemas after repeated init")

	for _, name := range []string{exports.OrgWorkspaceType, exports.OrgsWorkspaceType} {
		require.NoError(t, c.Get(ctx, client.ObjectKey{Name: name}, &tenancyv1alpha1.WorkspaceType{}))
	}
	slice := &apisv1alpha1.APIExportEndpointSlice{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: exports.ExportName}, slice), "kcp publishes the export's endpoint slice")

	out, err := atrium(t, "org", "list", "--kubeconfig", env.Hub.Kubeconfig)
	require.NoError(t, err)
	require.Contains(t, out, "acme")
	require.Contains(t, out, "beta")
	require.Contains(t, out, "root:orgs:acme")
}

// TestTenantsDeclareWorkspacesWithKubectl is the tenant's path: a kubeconfig from
// `atrium kubeconfig`, kubectl apply of a WorkspaceTemplate and a Workspace, kubectl get with
// Atrium's columns.
func TestTenantsDeclareWorkspacesWithKubectl(t *testing.T) {
	kc := tenantKubeconfig(t, "acme", "alice")

	out, err := kubectl(t, kc, `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceTemplate
metadata:
  name: datascience
spec:
  displayName: Data science
  defaultImage: quay.io/jupyter/scipy-notebook:2025-06-01
  allowedImages: ["quay.io/jupyter/*"]
  primaryStorage:
    defaultSize: 5Gi
    maxSize: 50Gi
---
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata:
  name: alice-nb
  namespace: default
spec:
  displayName: Alice's notebook
  templateRef:
    name: datascience
  desiredStatus: Running
`, "apply", "-f", "-")
	require.NoError(t, err, out)
	require.Contains(t, out, "workspacetemplate.workspaces.atrium.dev/datascience created")
	require.Contains(t, out, "workspace.workspaces.atrium.dev/alice-nb created")

	out, err = kubectl(t, kc, "", "get", "workspaces.workspaces.atrium.dev")
	require.NoError(t, err, out)
	for _, col := range []string{"NAME", "PHASE", "URL", "CLUSTER", "AGE", "alice-nb"} {
		require.Contains(t, out, col)
	}
	// The short name and category are ours and do not collide with kcp's workspaces (ws).
	out, err = kubectl(t, kc, "", "get", "aws")
	require.NoError(t, err, out)
	require.Contains(t, out, "alice-nb")
	out, err = kubectl(t, kc, "", "get", "atrium")
	require.NoError(t, err, out)
	require.Contains(t, out, "workspace.workspaces.atrium.dev/alice-nb")
	require.Contains(t, out, "workspacetemplate.workspaces.atrium.dev/datascience")

	out, err = kubectl(t, kc, "", "get", "workspacetemplate", "datascience", "-o", "jsonpath={.spec.defaultImage}")
	require.NoError(t, err, out)
	require.Equal(t, "quay.io/jupyter/scipy-notebook:2025-06-01", out)

	// A member can create workspaces but not templates.
	member := tenantKubeconfig(t, "acme", "carol")
	out, err = kubectl(t, member, `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata: {name: carol-nb, namespace: default}
spec: {templateRef: {name: datascience}}
`, "apply", "-f", "-")
	require.NoError(t, err, out)
	out, err = kubectl(t, member, `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceTemplate
metadata: {name: carols-own}
spec: {defaultImage: busybox}
`, "apply", "-f", "-")
	require.Error(t, err)
	require.Contains(t, out, "forbidden")
}

// TestOrganizationsAreIsolated: a user of one organization gets Forbidden on every verb on
// Atrium resources in another.
func TestOrganizationsAreIsolated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Something to try to read, update and delete in each org.
	for org, owner := range map[string]string{"acme": "alice", "beta": "bob"} {
		ws := &workspacesv1alpha1.Workspace{
			ObjectMeta: metav1.ObjectMeta{Name: "private-" + owner, Namespace: "default"},
			Spec:       workspacesv1alpha1.WorkspaceSpec{Image: "quay.io/jupyter/base-notebook"},
		}
		err := userClient(t, owner, org).Create(ctx, ws)
		if !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err)
		}
	}

	resources := []string{"workspaces", "workspacetemplates", "workspaceshares", "workspaceexecutionprofiles"}
	for _, tc := range []struct{ user, org, victim string }{
		{"bob", "acme", "private-alice"},
		{"alice", "beta", "private-bob"},
		{"carol", "beta", "private-bob"},  // a member of acme
		{"dave", "acme", "private-alice"}, // in no org at all
	} {
		cfg, err := env.Hub.UserConfig(tc.user, bootstrap.OrgPath(tc.org))
		require.NoError(t, err)
		dyn, err := dynamic.NewForConfig(cfg)
		require.NoError(t, err)
		for _, res := range resources {
			gvr := schema.GroupVersionResource{Group: workspacesv1alpha1.GroupName, Version: "v1alpha1", Resource: res}
			ri := dyn.Resource(gvr)
			var rc dynamic.ResourceInterface = ri
			if res == "workspaces" || res == "workspaceshares" {
				rc = ri.Namespace("default")
			}
			name := "anything"
			if res == "workspaces" {
				name = tc.victim
			}
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": workspacesv1alpha1.GroupName + "/v1alpha1",
				"kind":       "Workspace",
				"metadata":   map[string]any{"name": name, "namespace": "default"},
				"spec":       map[string]any{"image": "evil"},
			}}
			verbs := map[string]func() error{
				"get":  func() error { _, err := rc.Get(ctx, name, metav1.GetOptions{}); return err },
				"list": func() error { _, err := rc.List(ctx, metav1.ListOptions{}); return err },
				"watch": func() error {
					w, err := rc.Watch(ctx, metav1.ListOptions{})
					if w != nil {
						w.Stop()
					}
					return err
				},
				"create": func() error { _, err := rc.Create(ctx, obj, metav1.CreateOptions{}); return err },
				"update": func() error {
					o := obj.DeepCopy()
					o.SetResourceVersion("1")
					_, err := rc.Update(ctx, o, metav1.UpdateOptions{})
					return err
				},
				"patch": func() error {
					_, err := rc.Patch(ctx, name, "application/merge-patch+json", []byte(`{"spec":{"desiredStatus":"Stopped"}}`), metav1.PatchOptions{})
					return err
				},
				"delete":           func() error { return rc.Delete(ctx, name, metav1.DeleteOptions{}) },
				"deletecollection": func() error { return rc.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}) },
			}
			for verb, do := range verbs {
				err := do()
				require.Truef(t, apierrors.IsForbidden(err), "%s must get Forbidden on %s %s in %s, got: %v", tc.user, verb, res, tc.org, err)
			}
		}
	}

	// And the victims' workspaces are untouched.
	for org, owner := range map[string]string{"acme": "alice", "beta": "bob"} {
		ws := &workspacesv1alpha1.Workspace{}
		require.NoError(t, userClient(t, owner, org).Get(ctx, client.ObjectKey{Namespace: "default", Name: "private-" + owner}, ws))
		require.Equal(t, "quay.io/jupyter/base-notebook", ws.Spec.Image)
		require.NotEqual(t, workspacesv1alpha1.DesiredStatusStopped, ws.Spec.DesiredStatus)
	}
}

// TestCLIErrors: the CLI's failures say what is wrong.
func TestCLIErrors(t *testing.T) {
	_, err := atrium(t, "org", "create", "acme", "--admin", "alice", "--kubeconfig", env.Hub.Kubeconfig)
	require.ErrorIs(t, err, bootstrap.ErrOrgExists)
	require.Contains(t, err.Error(), "organization already exists: acme")

	_, err = atrium(t, "org", "create", "Not_Valid", "--admin", "alice", "--kubeconfig", env.Hub.Kubeconfig)
	require.ErrorContains(t, err, `invalid organization name "Not_Valid"`)

	_, err = atrium(t, "org", "create", "gamma", "--kubeconfig", env.Hub.Kubeconfig)
	require.ErrorContains(t, err, "at least one --admin is required")

	_, err = atrium(t, "org", "delete", "nope", "--kubeconfig", env.Hub.Kubeconfig)
	require.ErrorIs(t, err, bootstrap.ErrOrgNotFound)

	// A tenant's kubeconfig cannot run operator commands.
	_, err = atrium(t, "org", "list", "--kubeconfig", tenantKubeconfig(t, "acme", "alice"))
	require.ErrorContains(t, err, "not authorized")

	// An unreachable hub.
	down := kcp.ConfigForCluster(env.Hub.Config, logicalcluster.NewPath("root"))
	down.Host = "https://127.0.0.1:1"
	_, err = bootstrap.ListOrgs(context.Background(), down)
	require.Error(t, err)
	_, err = atrium(t, "org", "list", "--kubeconfig", writeUnreachableKubeconfig(t))
	require.ErrorContains(t, err, "cannot reach the hub at https://127.0.0.1:1")

	_, err = atrium(t, "kubeconfig", "--kubeconfig", env.Hub.Kubeconfig, "--org", "acme", "--user", "mallory", "--token-file", env.Hub.TokenFile())
	require.ErrorContains(t, err, `user "mallory" is not in the token file`)
}

// TestOrgLifecycle creates and deletes an organization through the CLI.
func TestOrgLifecycle(t *testing.T) {
	out, err := atrium(t, "org", "create", "gamma", "--admin", "erin", "--kubeconfig", env.Hub.Kubeconfig)
	require.NoError(t, err)
	require.Contains(t, out, "organization gamma created (root:orgs:gamma, shard root)")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "erin-nb", Namespace: "default"},
		Spec:       workspacesv1alpha1.WorkspaceSpec{Image: "codercom/code-server:4.99.0"},
	}
	require.NoError(t, userClient(t, "erin", "gamma").Create(ctx, ws))

	_, err = atrium(t, "org", "delete", "gamma", "--kubeconfig", env.Hub.Kubeconfig)
	require.NoError(t, err)
	out, err = atrium(t, "org", "list", "--kubeconfig", env.Hub.Kubeconfig)
	require.NoError(t, err)
	require.False(t, containsLine(out, "gamma"), "gamma is still listed after delete:\n%s", out)
	// Its tenants lose access with it.
	err = userClient(t, "erin", "gamma").Get(ctx, client.ObjectKey{Namespace: "default", Name: "erin-nb"}, &workspacesv1alpha1.Workspace{})
	require.Error(t, err)
}
