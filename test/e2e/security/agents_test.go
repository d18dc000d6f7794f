package security

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/computepolicy"
	"github.com/atrium-dev/atrium/agent/mirror"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

func hubScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, workspacesv1alpha1.AddToScheme(s))
	return s
}

// agentVWClient is user's client for one organization through the export's virtual workspace,
// the way an agent writes (a write to one logical cluster, not the wildcard).
func agentVWClient(t *testing.T, ctx context.Context, user, logicalCluster string) client.Client {
	t.Helper()
	cfg, err := env.Hub.UserConfig(user, logicalcluster.NewPath(exports.ProviderWorkspace))
	require.NoError(t, err)
	cfg = rest.CopyConfig(cfg)
	cfg.Host = virtualWorkspaceURL(t, ctx) + "/clusters/" + logicalCluster
	c, err := client.New(cfg, client.Options{Scheme: hubScheme(t)})
	require.NoError(t, err)
	return c
}

func orgCluster(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	orgs, err := bootstrap.ListOrgs(ctx, env.Hub.Config)
	require.NoError(t, err)
	for _, o := range orgs {
		if o.Name == name {
			require.NotEmpty(t, o.Cluster)
			return o.Cluster
		}
	}
	t.Fatalf("organization %s not found", name)
	return ""
}

// placedWorkspace creates, as the platform, a workspace in acme placed on cluster (as the hub
// controller would: status.placement and the cluster label), carrying finalizers.
func placedWorkspace(t *testing.T, ctx context.Context, admin client.Client, name, cluster string, finalizers ...string) {
	t.Helper()
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{workspacesv1alpha1.LabelCluster: cluster}, Finalizers: finalizers},
		Spec:       workspacesv1alpha1.WorkspaceSpec{Image: "quay.io/jupyter/minimal-notebook:2025-06-01"},
	}
	require.NoError(t, admin.Create(ctx, ws))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		got := &workspacesv1alpha1.Workspace{}
		if err := admin.Get(ctx, client.ObjectKeyFromObject(ws), got); err == nil && len(got.Finalizers) > 0 {
			_ = admin.Patch(ctx, got, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))
		}
		_ = admin.Delete(ctx, ws)
	})
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"status":{"placement":{"cluster":%q}}}`, cluster)))
	require.NoError(t, admin.Status().Patch(ctx, ws, patch))
}

func requirePolicyRefusal(t *testing.T, err error, policy, phrase, what string) {
	t.Helper()
	require.Error(t, err, what)
	require.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "%s: want the policy's refusal, got %v", what, err)
	require.Contains(t, err.Error(), policy, what)
	require.Contains(t, err.Error(), phrase, what)
}

// TestAgentHubIdentity: through the export's virtual workspace an agent's writes reach kcp's
// admission as the agent itself (user and groups), so the policy atrium-agent-own-cluster lets
// the agent of east change only the workspaces placed on east: its finalizer and agent status
// there, never the placement; on a workspace of west it may only let go of its own finalizer;
// other Atrium resources not at all; a credential without the per-cluster group changes
// nothing. What it still reaches is its residual reach as docs/security.md writes it: reading
// every organization's workspaces (kcp serves the export's reads with no per-object filter).
func TestAgentHubIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath("acme")), client.Options{Scheme: hubScheme(t)})
	require.NoError(t, err)
	acme := orgCluster(t, ctx, "acme")
	placedWorkspace(t, ctx, admin, "placed-east", "east")
	placedWorkspace(t, ctx, admin, "placed-west", "west", workspacesv1alpha1.AgentFinalizer("east"), workspacesv1alpha1.AgentFinalizer("west"))

	east := agentVWClient(t, ctx, testbed.AgentUser("east"), acme)
	key := func(name string) *workspacesv1alpha1.Workspace {
		return &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	}
	merge := func(s string) client.Patch { return client.RawPatch(types.MergePatchType, []byte(s)) }

	// Its own: the finalizer, and the status fields the agent owns.
	require.NoError(t, east.Patch(ctx, key("placed-east"), merge(`{"metadata":{"finalizers":["`+workspacesv1alpha1.AgentFinalizer("east")+`"]}}`)),
		"the agent of east adds its finalizer to a workspace placed on east")
	require.NoError(t, east.Status().Patch(ctx, key("placed-east"), merge(`{"status":{"accessURL":"https://east.example/ws"}}`)),
		"the agent of east writes the status of a workspace placed on east")
	err = east.Status().Patch(ctx, key("placed-east"), merge(`{"status":{"placement":{"cluster":"west"}}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "never their placement", "the agent of east moves its workspace to west")
	err = east.Patch(ctx, key("placed-east"), merge(`{"spec":{"image":"evil.example/ide:1"}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "changes nothing on a Workspace but its own finalizer", "the agent of east changes the spec of its workspace")

	// Another cluster's workspace.
	err = east.Status().Patch(ctx, key("placed-west"), merge(`{"status":{"accessURL":"https://evil.example/"}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "default/placed-west is placed on west", "the agent of east writes the status of a workspace placed on west")
	err = east.Patch(ctx, key("placed-west"), merge(`{"metadata":{"finalizers":["`+workspacesv1alpha1.AgentFinalizer("east")+`","`+workspacesv1alpha1.AgentFinalizer("west")+`","x.example/hold"]}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "default/placed-west is placed on west", "the agent of east adds a finalizer to a workspace placed on west")
	err = east.Patch(ctx, key("placed-west"), merge(`{"metadata":{"finalizers":["`+workspacesv1alpha1.AgentFinalizer("east")+`"]}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "changes nothing on a Workspace but its own finalizer", "the agent of east removes the finalizer of west")
	// Letting go of its own finalizer after the workspace moved away is allowed.
	require.NoError(t, east.Patch(ctx, key("placed-west"), merge(`{"metadata":{"finalizers":["`+workspacesv1alpha1.AgentFinalizer("west")+`"]}}`)),
		"the agent of east removes its own finalizer from a workspace that moved to west")
	got := &workspacesv1alpha1.Workspace{}
	require.NoError(t, admin.Get(ctx, client.ObjectKeyFromObject(key("placed-west")), got))
	require.Equal(t, []string{workspacesv1alpha1.AgentFinalizer("west")}, got.Finalizers, "west's finalizer stays")
	require.Empty(t, got.Status.AccessURL, "nothing the agent of east wrote reached the workspace of west")

	// Other Atrium resources: never.
	share := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "agent-probe"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "placed-east", Users: []string{"carol"}},
	}
	require.NoError(t, admin.Create(ctx, share))
	t.Cleanup(func() { _ = admin.Delete(context.Background(), share) })
	err = east.Patch(ctx, share, merge(`{"spec":{"users":["mallory"]}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "only updates Workspaces", "the agent of east changes a WorkspaceShare")

	// A credential without its cluster's group (an agent credential from before this version).
	legacy := agentVWClient(t, ctx, testbed.LegacyAgentUser, acme)
	err = legacy.Status().Patch(ctx, key("placed-east"), merge(`{"status":{"accessURL":"https://legacy.example/"}}`))
	requirePolicyRefusal(t, err, bootstrap.AgentPolicy, "carries no group atrium:agent:<cluster>", "an agent credential without a cluster group writes status")

	// The residual reach, as documented: the agent of east reads the workspaces of every
	// cluster, in every organization, through the wildcard of the virtual workspace.
	all := &workspacesv1alpha1.WorkspaceList{}
	wild := agentVWClient(t, ctx, testbed.AgentUser("east"), "*")
	require.NoError(t, wild.List(ctx, all))
	seen := map[string]bool{}
	for _, ws := range all.Items {
		seen[ws.Name] = true
	}
	require.True(t, seen["placed-west"], "docs/security.md: a stolen agent credential still reads the workspaces placed on other clusters")
	require.NoError(t, east.Get(ctx, client.ObjectKeyFromObject(key("placed-west")), got), "and gets each of them by name")
}

// TestAgentComputeIdentity: on the compute cluster the agent's identity (the test bed's
// ComputeAgentUser, cluster-admin by RBAC there) is confined by the admission policy
// atrium-agent-confinement, which answers each attempt with what it refused and why: no
// Deployment in kube-system, none and no pod naming a service account the cluster does not
// allow, no LoadBalancer or NodePort Service, no externalIPs, no namespace or cluster-scoped
// object that is not a workspace namespace; the same writes in a workspace namespace pass.
func TestAgentComputeIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster := env.Cluster("east")
	s := hubScheme(t)
	admin, err := client.New(cluster.Config, client.Options{Scheme: s})
	require.NoError(t, err)
	agentCfg, err := cluster.ConfigFor(testbed.ComputeAgentUser)
	require.NoError(t, err)
	agent, err := client.New(agentCfg, client.Options{Scheme: s})
	require.NoError(t, err)
	dry := client.DryRunAll

	wsNamespace := mirror.Namespace("root:orgs:acme", "security")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: wsNamespace, Labels: mirror.NamespaceLabels("root:orgs:acme")}}
	require.NoError(t, client.IgnoreAlreadyExists(admin.Create(ctx, ns)))

	deployment := func(namespace, serviceAccount string) *appsv1.Deployment {
		labels := map[string]string{"app": "probe"}
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "probe"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](0),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						ServiceAccountName: serviceAccount,
						Containers:         []corev1.Container{{Name: "ide", Image: "quay.io/jupyter/minimal-notebook:2025-06-01"}},
					},
				},
			},
		}
	}
	service := func(typ corev1.ServiceType, externalIPs ...string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: wsNamespace, Name: "probe-" + strings.ToLower(string(typ))},
			Spec: corev1.ServiceSpec{Type: typ, ExternalIPs: externalIPs, Selector: map[string]string{"app": "probe"},
				Ports: []corev1.ServicePort{{Name: "http", Port: 8888}}},
		}
	}
	policy := computepolicy.PolicyName

	// What materialization does passes.
	require.NoError(t, agent.Create(ctx, deployment(wsNamespace, ""), dry), "a workspace Deployment running as the namespace's default service account")
	require.NoError(t, agent.Create(ctx, deployment(wsNamespace, "ml-runner"), dry), "a workspace Deployment running as an allowed service account")
	require.NoError(t, agent.Create(ctx, service(corev1.ServiceTypeClusterIP), dry), "a ClusterIP Service")

	err = agent.Create(ctx, deployment("kube-system", ""), dry)
	requirePolicyRefusal(t, err, policy, "deployments probe in namespace kube-system refused", "the agent creates a Deployment in kube-system")
	err = agent.Create(ctx, deployment(wsNamespace, "admin"), dry)
	requirePolicyRefusal(t, err, policy, "names service account admin", "the agent creates a Deployment naming another service account")
	// The service account exists (the pod is refused for its name, not for a missing account),
	// and the pod meets Pod Security restricted (refused by the agent's policy, not by that).
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: wsNamespace, Name: "admin"}}
	require.NoError(t, client.IgnoreAlreadyExists(admin.Create(ctx, sa)))
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: wsNamespace, Name: "probe"}, Spec: corev1.PodSpec{
		ServiceAccountName: "admin",
		SecurityContext:    &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "ide", Image: "quay.io/jupyter/minimal-notebook:2025-06-01", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}}},
	}}
	err = agent.Create(ctx, pod, dry)
	requirePolicyRefusal(t, err, policy, "names service account admin", "the agent creates a pod naming another service account")
	err = agent.Create(ctx, service(corev1.ServiceTypeLoadBalancer), dry)
	requirePolicyRefusal(t, err, policy, "asks for type LoadBalancer", "the agent creates a LoadBalancer Service")
	err = agent.Create(ctx, service(corev1.ServiceTypeNodePort), dry)
	requirePolicyRefusal(t, err, policy, "asks for type NodePort", "the agent creates a NodePort Service")
	err = agent.Create(ctx, service(corev1.ServiceTypeClusterIP, "203.0.113.9"), dry)
	requirePolicyRefusal(t, err, policy, "asks for externalIPs", "the agent creates a Service with externalIPs")

	err = agent.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "not-a-workspace", Labels: mirror.NamespaceLabels("x")}}, dry)
	requirePolicyRefusal(t, err, policy, "namespace not-a-workspace is not one of them", "the agent creates a namespace that is no workspace namespace")
	kubeSystem := &corev1.Namespace{}
	require.NoError(t, admin.Get(ctx, client.ObjectKey{Name: "kube-system"}, kubeSystem))
	err = agent.Patch(ctx, kubeSystem, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":"atrium-agent"}}}`)), dry)
	requirePolicyRefusal(t, err, policy, "namespace kube-system is not one of them", "the agent adopts kube-system")
	err = agent.Patch(ctx, ns, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":null}}}`)), dry)
	requirePolicyRefusal(t, err, policy, "is not one of them", "the agent gives up the label of its namespace")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "atrium-agent-probe"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
	}
	err = agent.Create(ctx, binding, dry)
	requirePolicyRefusal(t, err, policy, "changes no cluster-scoped object", "the agent binds cluster-admin")

	// The cluster itself: nothing of the refused requests exists.
	require.True(t, apierrors.IsNotFound(admin.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "probe"}, &appsv1.Deployment{})))
}
