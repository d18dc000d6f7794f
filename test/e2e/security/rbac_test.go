package security

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

// resource is one kind of object a matrix row is tried on.
type resource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}

var (
	atriumResources = []resource{
		{schema.GroupVersionResource{Group: "workspaces.atrium.dev", Version: "v1alpha1", Resource: "workspaces"}, "Workspace", true},
		{schema.GroupVersionResource{Group: "workspaces.atrium.dev", Version: "v1alpha1", Resource: "workspaceshares"}, "WorkspaceShare", true},
		{schema.GroupVersionResource{Group: "workspaces.atrium.dev", Version: "v1alpha1", Resource: "workspacetemplates"}, "WorkspaceTemplate", false},
		{schema.GroupVersionResource{Group: "workspaces.atrium.dev", Version: "v1alpha1", Resource: "workspaceexecutionprofiles"}, "WorkspaceExecutionProfile", false},
	}
	kcpResources = []resource{
		{schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "Namespace", false},
		{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "ConfigMap", true},
		{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "Secret", true},
		{schema.GroupVersionResource{Group: "apis.kcp.io", Version: "v1alpha1", Resource: "apibindings"}, "APIBinding", false},
		{schema.GroupVersionResource{Group: "tenancy.kcp.io", Version: "v1alpha1", Resource: "workspaces"}, "Workspace", false},
		{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, "ClusterRole", false},
		{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}, "ValidatingAdmissionPolicy", false},
	}
	verbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// try performs verb on r as the client and returns the error.
func try(ctx context.Context, c dynamic.Interface, r resource, verb string) error {
	var ri dynamic.ResourceInterface = c.Resource(r.gvr)
	if r.namespaced {
		ri = c.Resource(r.gvr).Namespace("default")
	}
	name := "probe"
	switch r.gvr.Resource {
	case "namespaces":
		name = "default"
	case "configmaps":
		name = "kube-root-ca.crt"
	case "apibindings":
		name = exports.ExportName
	}
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion(r.gvr.GroupVersion().String())
	obj.SetKind(r.kind)
	obj.SetName(name)
	switch verb {
	case "get":
		_, err := ri.Get(ctx, name, metav1.GetOptions{})
		return err
	case "list":
		_, err := ri.List(ctx, metav1.ListOptions{})
		return err
	case "watch":
		w, err := ri.Watch(ctx, metav1.ListOptions{})
		if err == nil {
			w.Stop()
		}
		return err
	case "create":
		_, err := ri.Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	case "update":
		obj.SetResourceVersion("1")
		_, err := ri.Update(ctx, obj, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	case "patch":
		_, err := ri.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	case "delete":
		return ri.Delete(ctx, name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
	case "deletecollection":
		return ri.DeleteCollection(ctx, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}, metav1.ListOptions{})
	}
	return fmt.Errorf("unknown verb %s", verb)
}

func userClient(t *testing.T, user string, path logicalcluster.Path) dynamic.Interface {
	t.Helper()
	cfg, err := env.Hub.UserConfig(user, path)
	require.NoError(t, err)
	return dynamicFor(t, cfg)
}

func dynamicFor(t *testing.T, cfg *rest.Config) dynamic.Interface {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 20 * time.Second
	c, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return c
}

// TestCrossOrgMatrix: users of acme (its admin and a member) and a user of no organization try
// every verb on every Atrium resource and on kcp's own resources in beta: all Forbidden.
func TestCrossOrgMatrix(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	beta := bootstrap.OrgPath("beta")

	// The matrix would prove nothing if the resources could not be reached at all: beta's own
	// admin can list each of them.
	owner := userClient(t, "bob", beta)
	for _, r := range append(append([]resource{}, atriumResources...), kcpResources...) {
		require.NoError(t, try(ctx, owner, r, "list"), "beta's admin lists %s", r.gvr)
	}

	tried := 0
	for _, user := range []string{"alice", "carol", "dave"} {
		c := userClient(t, user, beta)
		for _, r := range append(append([]resource{}, atriumResources...), kcpResources...) {
			for _, verb := range verbs {
				err := try(ctx, c, r, verb)
				tried++
				if !apierrors.IsForbidden(err) {
					t.Errorf("%s %s %s in beta: want Forbidden, got %v", user, verb, r.gvr, err)
				}
			}
		}
	}
	t.Logf("%d requests across organizations, all Forbidden", tried)
}

// identityCases are requests Atrium's own identities must not be able to make.
func identityCases() []struct {
	path logicalcluster.Path
	r    resource
	verb string
} {
	secrets := resource{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "Secret", true}
	configmaps := resource{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "ConfigMap", true}
	bindings := resource{schema.GroupVersionResource{Group: "apis.kcp.io", Version: "v1alpha1", Resource: "apibindings"}, "APIBinding", false}
	apiexports := resource{schema.GroupVersionResource{Group: "apis.kcp.io", Version: "v1alpha2", Resource: "apiexports"}, "APIExport", false}
	type tc = struct {
		path logicalcluster.Path
		r    resource
		verb string
	}
	var out []tc
	for _, org := range []string{"acme", "beta"} {
		p := bootstrap.OrgPath(org)
		for _, verb := range []string{"get", "list", "watch"} {
			out = append(out, tc{p, secrets, verb}, tc{p, configmaps, verb})
		}
		out = append(out, tc{p, bindings, "list"}, tc{p, atriumResources[0], "list"}, tc{p, atriumResources[2], "list"})
	}
	provider := logicalcluster.NewPath(exports.ProviderWorkspace)
	out = append(out, tc{provider, secrets, "list"}, tc{provider, secrets, "get"}, tc{provider, configmaps, "list"},
		tc{provider, bindings, "list"}, tc{provider, apiexports, "update"}, tc{provider, apiexports, "create"})
	return out
}

// TestComponentIdentities: neither an agent nor the hub controller can read Secrets or
// ConfigMaps in organizations or in root:atrium, or reach organizations directly at all (only
// through the export's virtual workspace); an agent updates only its own ComputeCluster; the
// hub controller registers none.
func TestComponentIdentities(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, user := range []string{testbed.AgentUser("east"), testbed.HubControllerUser} {
		t.Run(user, func(t *testing.T) {
			for _, tc := range identityCases() {
				err := try(ctx, userClient(t, user, tc.path), tc.r, tc.verb)
				if !apierrors.IsForbidden(err) {
					t.Errorf("%s %s %s in %s: want Forbidden, got %v", user, tc.verb, tc.r.gvr, tc.path, err)
				}
			}
			// Through the export's virtual workspace only Atrium's resources are served.
			vw := virtualWorkspaceURL(t, ctx)
			cfg, err := env.Hub.UserConfig(user, logicalcluster.NewPath(exports.ProviderWorkspace))
			require.NoError(t, err)
			cfg = rest.CopyConfig(cfg)
			cfg.Host = vw + "/clusters/*"
			c := dynamicFor(t, cfg)
			for _, r := range []resource{
				{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "Secret", true},
				{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "ConfigMap", true},
			} {
				_, err := c.Resource(r.gvr).List(ctx, metav1.ListOptions{})
				if !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
					t.Errorf("%s lists %s through the virtual workspace: want Forbidden or NotFound, got %v", user, r.gvr, err)
				}
			}
			// kcp serves the APIBindings of the export there (read-only), so a provider sees who
			// bound it: only bindings to this export, never other exports' bindings.
			bindings, err := c.Resource(schema.GroupVersionResource{Group: "apis.kcp.io", Version: "v1alpha1", Resource: "apibindings"}).List(ctx, metav1.ListOptions{})
			require.NoError(t, err)
			for _, b := range bindings.Items {
				export, _, _ := unstructured.NestedString(b.Object, "spec", "reference", "export", "name")
				require.Equal(t, exports.ExportName, export, "%s sees APIBinding %s of another export through the virtual workspace", user, b.GetName())
			}
			for _, verb := range []string{"create", "delete"} {
				err := try(ctx, c, resource{schema.GroupVersionResource{Group: "apis.kcp.io", Version: "v1alpha1", Resource: "apibindings"}, "APIBinding", false}, verb)
				require.Error(t, err, "%s may %s APIBindings through the virtual workspace", user, verb)
			}
			// Sanity: the same identity does reach Atrium workspaces there.
			_, err = c.Resource(atriumResources[0].gvr).List(ctx, metav1.ListOptions{})
			require.NoError(t, err, "%s lists Atrium workspaces through the virtual workspace", user)
		})
	}

	provider := logicalcluster.NewPath(exports.ProviderWorkspace)
	computeclusters := resource{schema.GroupVersionResource{Group: "platform.atrium.dev", Version: "v1alpha1", Resource: "computeclusters"}, "ComputeCluster", false}
	agent := userClient(t, testbed.AgentUser("east"), provider)
	_, err := agent.Resource(computeclusters.gvr).Patch(ctx, "west", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	require.True(t, apierrors.IsForbidden(err), "agent east patches ComputeCluster west: want Forbidden, got %v", err)
	hubCtl := userClient(t, testbed.HubControllerUser, provider)
	require.True(t, apierrors.IsForbidden(try(ctx, hubCtl, computeclusters, "create")), "the hub controller registers no ComputeCluster")
	require.True(t, apierrors.IsForbidden(try(ctx, hubCtl, computeclusters, "delete")), "the hub controller deletes no ComputeCluster")
}

func virtualWorkspaceURL(t *testing.T, ctx context.Context) string {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, apisv1alpha1.AddToScheme(s))
	c, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: s})
	require.NoError(t, err)
	slice := &apisv1alpha1.APIExportEndpointSlice{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: exports.ExportName}, slice))
	require.NotEmpty(t, slice.Status.APIExportEndpoints, "endpoint slice has URLs")
	return slice.Status.APIExportEndpoints[0].URL
}

// TestAdmissionIsOutOfTenantsReach: the admission of Atrium's resources lives in root:atrium
// (policies and the hub's webhook configurations): no tenant, not even an organization's admin,
// can read or change it. The hub controller may ask kcp for SubjectAccessReviews in an
// organization (the ownership webhook does) and nothing more there; an agent may not.
func TestAdmissionIsOutOfTenantsReach(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	provider := logicalcluster.NewPath(exports.ProviderWorkspace)
	for _, user := range []string{"alice", "carol", "dave"} {
		c := userClient(t, user, provider)
		for _, r := range []resource{
			{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}, "ValidatingAdmissionPolicy", false},
			{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}, "ValidatingAdmissionPolicyBinding", false},
			{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}, "MutatingWebhookConfiguration", false},
			{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}, "ValidatingWebhookConfiguration", false},
		} {
			for _, verb := range verbs {
				if err := try(ctx, c, r, verb); !apierrors.IsForbidden(err) {
					t.Errorf("%s %s %s in %s: want Forbidden, got %v", user, verb, r.gvr.Resource, provider, err)
				}
			}
		}
	}

	review := func(user string) error {
		cfg, err := env.Hub.UserConfig(user, bootstrap.OrgPath("acme"))
		require.NoError(t, err)
		cs, err := kubernetes.NewForConfig(cfg)
		require.NoError(t, err)
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "alice", ResourceAttributes: &authorizationv1.ResourceAttributes{Group: "workspaces.atrium.dev", Resource: "workspaces", Verb: "override", Namespace: "default"},
		}}, metav1.CreateOptions{})
		if err == nil {
			require.True(t, got.Status.Allowed, "alice, acme's admin, may override workspaces")
		}
		return err
	}
	require.NoError(t, review(testbed.HubControllerUser), "the hub controller reviews access in an organization")
	err := review(testbed.AgentUser("east"))
	require.True(t, apierrors.IsForbidden(err), "an agent reviews access in an organization: want Forbidden, got %v", err)
}

// TestOrgAdminsCannotReachTheShard: an organization's admin administers the organization but
// cannot configure what kcp runs inside the shard for everyone on it: admission policies and
// webhook configurations (a policy with a paramKind or variables can crash kcp v0.31.2, a
// webhook makes the shard call any URL), CRDs (conversion webhooks) and the LogicalCluster are
// read-only, and RBAC's escalation check keeps the admin from granting themselves more. Granting
// a member still works.
func TestOrgAdminsCannotReachTheShard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	org := bootstrap.OrgPath("acme")
	alice := userClient(t, "alice", org)
	for _, r := range []resource{
		{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}, "ValidatingAdmissionPolicy", false},
		{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}, "ValidatingAdmissionPolicyBinding", false},
		{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}, "MutatingWebhookConfiguration", false},
		{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}, "ValidatingWebhookConfiguration", false},
		{schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}, "CustomResourceDefinition", false},
		{schema.GroupVersionResource{Group: "core.kcp.io", Version: "v1alpha1", Resource: "logicalclusters"}, "LogicalCluster", false},
	} {
		for _, verb := range verbs {
			err := try(ctx, alice, r, verb)
			switch verb {
			case "get", "list", "watch":
				if apierrors.IsForbidden(err) {
					t.Errorf("alice, acme's admin, %s %s in acme: want allowed (reading), got %v", verb, r.gvr.Resource, err)
				}
			default:
				if !apierrors.IsForbidden(err) {
					t.Errorf("alice, acme's admin, %s %s in acme: want Forbidden, got %v", verb, r.gvr.Resource, err)
				}
			}
		}
	}

	cfg, err := env.Hub.UserConfig("alice", org)
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "probe-admission-writer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"create"}}},
	}
	_, err = cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	if err == nil {
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
	}
	require.True(t, apierrors.IsForbidden(err), "alice creates a role that writes admission policies: want Forbidden (escalation), got %v", err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "probe-cluster-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "alice"}},
	}, metav1.CreateOptions{})
	if err == nil {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, "probe-cluster-admin", metav1.DeleteOptions{})
	}
	require.True(t, apierrors.IsForbidden(err) || apierrors.IsNotFound(err), "alice binds herself to cluster-admin: want Forbidden, got %v", err)

	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "probe-member-grant"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: exports.OrgMemberRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "probe-member"}},
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	require.NoError(t, err, "alice, acme's admin, grants a member")
	require.NoError(t, cs.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{}))
}
