package tenancy

// Pins of the kcp v0.31.2 behaviour that Atrium works around (docs/development.md, "kcp traps").
// Each test passes while the trap is there and fails, saying what to reconsider, once kcp
// behaves as the Kubernetes API does.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

const trapLabel = "atrium.dev/trap"

var trapScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{workspacesv1alpha1.AddToScheme, admissionregistrationv1.AddToScheme, corev1.AddToScheme, apisv1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

func trapClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{Scheme: trapScheme})
	require.NoError(t, err)
	return c
}

// share is a WorkspaceShare labelled for a trap.
func share(name, trap string, users, groups []string) *workspacesv1alpha1.WorkspaceShare {
	return &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{trapLabel: trap}},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "trap", Users: users, Groups: groups},
	}
}

// TestTrapApplyThroughTheVirtualWorkspace pins that a server-side apply through the APIExport's
// virtual workspace is stored as an update: a field the manager omits in its next apply stays
// (directly, the same apply removes it). Worked around by agent/workspacesync (JSON
// merge patches) and hub/statusremove (an explicit JSON patch that removes what a hub
// controller stops owning).
func TestTrapApplyThroughTheVirtualWorkspace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	acme := orgCluster(t, "acme")
	direct := trapClient(t, env.Hub.ClusterConfig(bootstrap.OrgPath("acme")))

	provider := trapClient(t, env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)))
	slice := &apisv1alpha1.APIExportEndpointSlice{}
	require.NoError(t, provider.Get(ctx, client.ObjectKey{Name: exports.ExportName}, slice))
	require.NotEmpty(t, slice.Status.APIExportEndpoints)
	cfg, err := env.Hub.UserConfig(testbed.HubControllerUser, logicalcluster.NewPath(exports.ProviderWorkspace))
	require.NoError(t, err)
	cfg = rest.CopyConfig(cfg)
	cfg.Host = slice.Status.APIExportEndpoints[0].URL + "/clusters/" + acme
	throughVW := trapClient(t, cfg)

	for _, tc := range []struct {
		name       string
		c          client.Client
		wantGroups []string
	}{
		{name: "trap-apply-direct", c: direct, wantGroups: nil},
		{name: "trap-apply-vw", c: throughVW, wantGroups: []string{"g"}},
	} {
		t.Cleanup(func() { _ = direct.Delete(context.Background(), share(tc.name, "", nil, nil)) })
		for _, s := range []*workspacesv1alpha1.WorkspaceShare{share(tc.name, "apply", []string{"u"}, []string{"g"}), share(tc.name, "apply", []string{"u"}, nil)} {
			s.SetGroupVersionKind(workspacesv1alpha1.SchemeGroupVersion.WithKind("WorkspaceShare"))
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
			require.NoError(t, err)
			u := &unstructured.Unstructured{Object: obj}
			require.NoError(t, tc.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("atrium-trap"), client.ForceOwnership), tc.name)
		}
		got := &workspacesv1alpha1.WorkspaceShare{}
		require.NoError(t, direct.Get(ctx, client.ObjectKey{Namespace: "default", Name: tc.name}, got))
		if tc.c == throughVW && len(got.Spec.Groups) == 0 {
			t.Fatalf("kcp's virtual workspace now applies like the API server (the omitted spec.groups was removed): " +
				"agent/workspacesync and hub/statusremove may use server-side apply; see docs/development.md")
		}
		require.Equal(t, tc.wantGroups, got.Spec.Groups, tc.name)
		ops := map[metav1.ManagedFieldsOperationType]bool{}
		for _, mf := range got.ManagedFields {
			if mf.Manager == "atrium-trap" {
				ops[mf.Operation] = true
			}
		}
		if tc.c == throughVW {
			require.True(t, ops[metav1.ManagedFieldsOperationUpdate], "through the virtual workspace the apply is recorded as an update: %v", got.ManagedFields)
		}
	}
}

// TestTrapPolicyAuthorizer pins that kcp v0.31.2 hands ValidatingAdmissionPolicies an
// authorizer that denies every check (it authorizes without the request's logical cluster), so
// a policy cannot ask RBAC: an org admin who may create shares is denied by a policy that asks
// whether they may. Worked around by the hub's ownership webhook, which asks kcp with a
// SubjectAccessReview in the organization (hub/admission).
func TestTrapPolicyAuthorizer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	provider := trapClient(t, env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)))
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "atrium-trap-authorizer"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: trapLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"active", "authorizer"}}}},
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{workspacesv1alpha1.GroupName}, APIVersions: []string{"*"}, Resources: []string{"workspaceshares"}},
				}}},
			},
			Validations: []admissionregistrationv1.Validation{
				{Expression: "object.metadata.labels['" + trapLabel + "'] != 'active'", Message: "the trap policy is active"},
				{Expression: "authorizer.group('workspaces.atrium.dev').resource('workspaceshares').namespace(object.metadata.namespace).check('create').allowed()",
					Message: "the policy authorizer denied"},
			},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name, ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}
	require.NoError(t, provider.Create(ctx, policy))
	t.Cleanup(func() { _ = provider.Delete(context.Background(), policy) })
	require.NoError(t, provider.Create(ctx, binding))
	t.Cleanup(func() { _ = provider.Delete(context.Background(), binding) })

	alice := userClient(t, "alice", "acme")
	waitDenied(ctx, t, alice, share("trap-active", "active", []string{"u"}, nil), "the trap policy is active")
	err := alice.Create(ctx, share("trap-authorizer", "authorizer", []string{"u"}, nil), client.DryRunAll)
	if err == nil {
		t.Fatal("kcp's policy authorizer now allows what RBAC allows: the OwnerOnly check could be a ValidatingAdmissionPolicy in root:atrium again; see docs/development.md")
	}
	require.ErrorContains(t, err, "the policy authorizer denied")
}

// TestTrapOrganizationPoliciesIgnored pins that since kcp v0.30 (kcp-dev/kcp#3743) a
// ValidatingAdmissionPolicy in an organization does not apply to the resources bound from
// Atrium's export, while it still applies to the organization's own resources. Atrium's
// policies therefore live in root:atrium (exports/kcp/admission-provider.yaml), and hub init
// removes the ones older versions wrote into organizations.
func TestTrapOrganizationPoliciesIgnored(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	beta := trapClient(t, env.Hub.ClusterConfig(bootstrap.OrgPath("beta")))
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "trap-org-policy"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{trapLabel: "org"}},
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"", workspacesv1alpha1.GroupName}, APIVersions: []string{"*"}, Resources: []string{"configmaps", "workspaceshares"}},
				}}},
			},
			Validations: []admissionregistrationv1.Validation{{Expression: "false", Message: "the organization's policy refused it"}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name, ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}
	require.NoError(t, beta.Create(ctx, policy))
	t.Cleanup(func() { _ = beta.Delete(context.Background(), policy) })
	require.NoError(t, beta.Create(ctx, binding))
	t.Cleanup(func() { _ = beta.Delete(context.Background(), binding) })

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "trap", Namespace: "default", Labels: map[string]string{trapLabel: "org"}}}
	waitDenied(ctx, t, beta, cm, "the organization's policy refused it")
	err := beta.Create(ctx, share("trap-org", "org", []string{"u"}, nil), client.DryRunAll)
	if err != nil {
		require.NotContains(t, err.Error(), "the organization's policy refused it",
			"kcp applies an organization's own policies to bound resources again: admission could move back into organizations; see docs/development.md")
		require.NoError(t, err)
	}
}

// waitDenied dry-runs the creation of obj until a policy refuses it with message (policies take
// effect a moment after they are created).
func waitDenied(ctx context.Context, t *testing.T, c client.Client, obj client.Object, message string) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		last = c.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll)
		return last != nil && strings.Contains(last.Error(), message), nil
	})
	require.NoError(t, err, "the policy never refused %s (last: %v)", obj.GetName(), last)
}

// orgCluster is the logical cluster name of an organization.
func orgCluster(t *testing.T, name string) string {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(context.Background(), env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == name {
			return o.Cluster
		}
	}
	t.Fatalf("organization %s not found", name)
	return ""
}

// TestTrapNoMutatingAdmissionPolicy pins that kcp v0.31.2 serves no MutatingAdmissionPolicy
// (kcp v0.32 brings it): recording the creator takes the hub's mutating webhook
// (hub/admission). If this fails, a MutatingAdmissionPolicy in root:atrium could stamp the
// creator without a webhook server.
func TestTrapNoMutatingAdmissionPolicy(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(env.Hub.ClusterConfig(bootstrap.OrgPath("acme")))
	require.NoError(t, err)
	for _, version := range []string{"v1", "v1beta1", "v1alpha1"} {
		list, err := dc.ServerResourcesForGroupVersion("admissionregistration.k8s.io/" + version)
		if err != nil {
			continue // the version is not served at all
		}
		for _, r := range list.APIResources {
			if r.Name == "mutatingadmissionpolicies" {
				t.Fatalf("kcp serves mutatingadmissionpolicies at admissionregistration.k8s.io/%s: the creator could be recorded by a policy in root:atrium; see docs/development.md", version)
			}
		}
	}
}
