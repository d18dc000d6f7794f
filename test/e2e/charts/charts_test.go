package charts

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/deploy/charts"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	namespace = "atrium-system"
	release   = "agent"
	// deployment and serviceAccount are the agent chart's names for release "agent".
	deployment     = "agent-atrium-agent"
	serviceAccount = "agent-atrium-agent"
	fieldManager   = "atrium-chart-test"
)

// localClient is an admin client of the compute cluster.
func localClient(t *testing.T) client.Client {
	t.Helper()
	scheme, err := agent.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Cluster(clusterName).Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ensureNamespace(t *testing.T, ctx context.Context, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("failed to create namespace %s: %v", name, err)
	}
}

// apply server-side applies obj with strict field validation; dryRun asks the API server to
// validate and admit it without persisting it.
func apply(ctx context.Context, c client.Client, obj *unstructured.Unstructured, dryRun bool) error {
	obj = obj.DeepCopy()
	opts := []client.PatchOption{client.FieldOwner(fieldManager), client.ForceOwnership, client.FieldValidation("Strict")}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	// client.Client.Apply takes no field-validation option, and strict validation of the
	// charts' output is what these tests check.
	return c.Patch(ctx, obj, client.Apply, opts...) //nolint:staticcheck // see above
}

// installCRDs applies a chart's crds/ for real (Helm does so before the templates) and waits
// until they are served.
func installCRDs(t *testing.T, ctx context.Context, c client.Client, r *charts.Rendered) {
	t.Helper()
	for _, crd := range r.CRDs {
		if err := apply(ctx, c, crd, false); err != nil {
			t.Fatalf("failed to apply CRD %s: %v", crd.GetName(), err)
		}
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.List(ctx, &computev1alpha1.WorkspaceAccessStrategyList{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("compute CRDs not served: %v", err)
	}
}

// TestServerSideDryRun sends every object both charts render, for several values sets, to the
// compute cluster's kube-apiserver as a strict server-side dry-run: the strongest schema check
// there is (OpenAPI, unknown fields, defaulting, validation, admission), without downloading
// schemas. ServiceMonitors are skipped: the Prometheus Operator's CRD is not installed here.
func TestServerSideDryRun(t *testing.T) {
	ctx := context.Background()
	c := localClient(t)
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters: []\n"
	sets := []struct {
		chart  string
		values map[string]any
	}{
		{charts.Agent, map[string]any{"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"}}},
		{charts.Agent, map[string]any{
			"clusterName": "west", "endpointSlice": "shard-1", "region": "eu", "labels": map[string]any{"gpu": "a100"},
			"defaultAccessStrategy": "traefik", "hubKubeconfig": map[string]any{"kubeconfig": kubeconfig},
			"accessStrategies": map[string]any{"examples": true},
			"metrics":          map[string]any{"serviceMonitor": map[string]any{"enabled": true}},
			"nodeSelector":     map[string]any{"kubernetes.io/os": "linux"},
			"tolerations":      []any{map[string]any{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}},
		}},
		{charts.Agent, map[string]any{"clusterName": "solo", "replicaCount": 1, "leaderElection": map[string]any{"enabled": false},
			"hubKubeconfig": map[string]any{"existingSecret": "hub"}, "rbac": map[string]any{"create": false},
			"serviceAccount": map[string]any{"create": false, "name": "default"}}},
		{charts.Hub, map[string]any{"hubKubeconfig": map[string]any{"existingSecret": "hub"},
			"webhook": map[string]any{"tls": map[string]any{"existingSecret": "hub-webhook-tls"}}}},
		{charts.Hub, map[string]any{"hubKubeconfig": map[string]any{"kubeconfig": kubeconfig}, "replicaCount": 1,
			"leaderElection": map[string]any{"enabled": false}, "metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}},
			"webhook": map[string]any{"enabled": false}}},
	}
	ns := "atrium-dryrun"
	ensureNamespace(t, ctx, c, ns)
	checked := 0
	for i, set := range sets {
		r, err := charts.Render(set.chart, fmt.Sprintf("dry%d", i), ns, set.values)
		if err != nil {
			t.Fatalf("%s %v: %v", set.chart, set.values, err)
		}
		if set.chart == charts.Agent {
			installCRDs(t, ctx, c, r) // the example strategies are instances of them
		}
		for _, obj := range r.Objects {
			if obj.GetKind() == "ServiceMonitor" {
				continue
			}
			if err := apply(ctx, c, obj, true); err != nil {
				t.Errorf("%s set %d: %s %s rejected by the API server: %v", set.chart, i, obj.GetKind(), obj.GetName(), err)
			}
			checked++
		}
	}
	t.Logf("%d rendered objects passed a strict server-side dry-run", checked)
}

var (
	installOnce sync.Once
	installed   *charts.Rendered
	installErr  error
)

// installAgent installs the agent chart (release "agent" in atrium-system) once, with the hub
// kubeconfig of the test bed's agent identity inline, as an operator would.
func installAgent(t *testing.T) *charts.Rendered {
	t.Helper()
	installOnce.Do(func() {
		ctx := context.Background()
		c := localClient(t)
		hubKubeconfig := filepath.Join(t.TempDir(), "hub.kubeconfig")
		if installErr = env.Hub.WriteKubeconfig(hubKubeconfig, testbed.AgentUser(clusterName), logicalcluster.NewPath("root:atrium")); installErr != nil {
			return
		}
		raw, err := os.ReadFile(hubKubeconfig)
		if err != nil {
			installErr = err
			return
		}
		installed, installErr = charts.Render(charts.Agent, release, namespace, map[string]any{
			"clusterName": clusterName, "region": "north", "labels": map[string]any{"tier": "test"},
			"heartbeatPeriod": "2s",
			"hubKubeconfig":   map[string]any{"kubeconfig": string(raw)},
		})
		if installErr != nil {
			return
		}
		ensureNamespace(t, ctx, c, namespace)
		installCRDs(t, ctx, c, installed)
		for _, obj := range installed.Objects {
			if err := apply(ctx, c, obj, false); err != nil {
				installErr = fmt.Errorf("failed to apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
				return
			}
		}
	})
	if installErr != nil {
		t.Fatalf("failed to install the agent chart: %v", installErr)
	}
	return installed
}

// TestAgentChartRollsOut installs the agent chart and waits until its Deployment is rolled out
// on kwok nodes. kwok runs no containers: this shows the objects are admitted, scheduled and
// their pods go Running and Ready, not that the image works.
func TestAgentChartRollsOut(t *testing.T) {
	installAgent(t)
	ctx := context.Background()
	c := localClient(t)
	var dep appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: deployment}, &dep); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		return dep.Status.ObservedGeneration == dep.Generation && dep.Status.UpdatedReplicas == 2 && dep.Status.AvailableReplicas == 2, nil
	})
	if err != nil {
		t.Fatalf("Deployment %s did not roll out: %v (status %+v)", deployment, err, dep.Status)
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/instance": release}); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s is %s", p.Name, p.Status.Phase)
		}
		nodes[p.Spec.NodeName] = true
	}
	if len(pods.Items) != 2 || len(nodes) != 2 {
		t.Errorf("want 2 Running pods on 2 nodes (anti-affinity), got %d pods on %v", len(pods.Items), nodes)
	}
}

// TestAgentRBAC asks the API server, as the chart's ServiceAccount, about every right the agent
// uses and some it must not have.
func TestAgentRBAC(t *testing.T) {
	installAgent(t)
	ctx := context.Background()
	cfg := rest.CopyConfig(env.Cluster(clusterName).Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount)}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type check struct {
		group, resource, sub, verb, ns, name string
	}
	allowed := []check{
		{"compute.atrium.dev", "localworkspaces", "", "create", "atrium-abc", ""},
		{"compute.atrium.dev", "localworkspaces", "", "delete", "atrium-abc", "x"},
		{"compute.atrium.dev", "localworkspaces", "", "watch", "", ""},
		{"compute.atrium.dev", "localworkspaces", "status", "patch", "atrium-abc", "x"},
		{"compute.atrium.dev", "localworkspaces", "finalizers", "update", "atrium-abc", "x"},
		{"compute.atrium.dev", "workspaceaccessstrategies", "", "list", "", ""},
		{"apps", "deployments", "", "patch", "atrium-abc", "x"},
		{"apps", "deployments", "", "delete", "atrium-abc", "x"},
		{"", "services", "", "create", "atrium-abc", ""},
		{"", "persistentvolumeclaims", "", "patch", "atrium-abc", "x"},
		{"", "pods", "", "list", "", ""},
		{"", "namespaces", "", "create", "", ""},
		{"", "namespaces", "", "watch", "", ""},
		{"", "namespaces", "", "patch", "", "atrium-abc"},
		{"", "resourcequotas", "", "patch", "atrium-abc", "atrium-workspaces"},
		{"", "limitranges", "", "create", "atrium-abc", ""},
		{"networking.k8s.io", "networkpolicies", "", "delete", "atrium-abc", "atrium-workspaces"},
		{"networking.k8s.io", "networkpolicies", "", "watch", "", ""},
		{"discovery.k8s.io", "endpointslices", "", "list", "default", ""},
		{"", "nodes", "", "list", "", ""},
		{"apiextensions.k8s.io", "customresourcedefinitions", "", "patch", "", "localworkspaces.compute.atrium.dev"},
		{"apiextensions.k8s.io", "customresourcedefinitions", "", "get", "", "workspaceaccessstrategies.compute.atrium.dev"},
		{"coordination.k8s.io", "leases", "", "update", namespace, "atrium-agent-" + clusterName},
		{"", "events", "", "create", namespace, ""},
		{"networking.k8s.io", "ingresses", "", "create", "atrium-abc", ""},
		{"traefik.io", "ingressroutes", "", "delete", "atrium-abc", "x"},
		{"traefik.io", "middlewares", "", "patch", "atrium-abc", "x"},
	}
	forbidden := []check{
		{"", "secrets", "", "get", namespace, "x"},
		{"", "secrets", "", "list", "", ""},
		{"", "configmaps", "", "get", "atrium-abc", "x"},
		{"", "namespaces", "", "delete", "", "atrium-abc"},
		{"", "nodes", "", "patch", "", "x"},
		{"", "pods", "", "delete", "atrium-abc", "x"},
		{"", "pods", "exec", "create", "atrium-abc", "x"},
		{"compute.atrium.dev", "workspaceaccessstrategies", "", "update", "", "x"},
		{"apiextensions.k8s.io", "customresourcedefinitions", "", "patch", "", "ingresses.example.com"},
		{"apiextensions.k8s.io", "customresourcedefinitions", "", "create", "", ""},
		{"apiextensions.k8s.io", "customresourcedefinitions", "", "delete", "", "localworkspaces.compute.atrium.dev"},
		{"coordination.k8s.io", "leases", "", "update", "kube-system", "x"},
		{"rbac.authorization.k8s.io", "clusterrolebindings", "", "create", "", ""},
		{"", "serviceaccounts", "", "create", "atrium-abc", "x"},
		{"discovery.k8s.io", "endpointslices", "", "list", "atrium-abc", ""},
	}
	ask := func(c check) bool {
		t.Helper()
		review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Group: c.group, Resource: c.resource, Subresource: c.sub, Verb: c.verb, Namespace: c.ns, Name: c.name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("failed to review %+v: %v", c, err)
		}
		return review.Status.Allowed
	}
	for _, c := range allowed {
		if !ask(c) {
			t.Errorf("the agent needs %s %s/%s %s (ns %q, name %q), the chart does not grant it", c.verb, c.group, c.resource, c.sub, c.ns, c.name)
		}
	}
	for _, c := range forbidden {
		if ask(c) {
			t.Errorf("the agent must not %s %s/%s %s (ns %q, name %q)", c.verb, c.group, c.resource, c.sub, c.ns, c.name)
		}
	}
	// And for real: reading a Secret is forbidden.
	if _, err := cs.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing Secrets as the agent: got %v, want Forbidden", err)
	}
}

// TestAgentRunsWithChartIdentity runs the atrium-agent binary with the rendered Deployment's
// arguments, the hub kubeconfig from the rendered Secret, and a token of the chart's
// ServiceAccount (what the pod would mount), then checks that it registers and heart-beats its
// ComputeCluster and materializes a workspace: the chart's RBAC is enough in practice.
func TestAgentRunsWithChartIdentity(t *testing.T) {
	r := installAgent(t)
	ctx := context.Background()
	dir := t.TempDir()

	// The hub kubeconfig exactly as the chart stores it.
	secret := r.Find("Secret", deployment+"-hub-kubeconfig")
	if secret == nil {
		t.Fatal("the chart rendered no hub kubeconfig Secret")
	}
	data, _, _ := unstructured.NestedString(secret.Object, "data", "kubeconfig")
	hubKubeconfig, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	hubPath := filepath.Join(dir, "hub.kubeconfig")
	if err := os.WriteFile(hubPath, hubKubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}

	// The ServiceAccount's token, as the kubelet would project it.
	localPath, token := serviceAccountKubeconfig(t, serviceAccount)

	args := localizeArgs(t, deploymentArgs(t, r, deployment), hubPath)
	args = append(args, "--kubeconfig="+localPath)
	logPath := runBinary(t, "atrium-agent", args)

	hub, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath("root:atrium")), client.Options{Scheme: localClient(t).Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	cc := &platformv1alpha1.ComputeCluster{}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := hub.Get(ctx, client.ObjectKey{Name: clusterName}, cc); err != nil {
			return false, nil //nolint:nilerr // not registered yet
		}
		return cc.Status.HeartbeatTime != nil, nil
	})
	if err != nil {
		t.Fatalf("ComputeCluster %s has no heartbeat: %v (log %s)", clusterName, err, logPath)
	}

	// Metrics (metrics.secure, the chart's default): an unauthenticated scrape is refused, so is
	// a token this cluster authenticates but does not authorize for GET /metrics (the agent's
	// own), and a token bound to the chart's metrics-reader ClusterRole reads them.
	checkSecureMetrics(t, args, token, serviceAccount, "atrium-agent:"+namespace+":"+deployment+":metrics-reader", logPath)

	// A mirror the agent did not write itself (its hub cluster is unknown, so the agent never
	// deletes it): the local controller must build the workspace with the chart's rights.
	c := localClient(t)
	wsNS := "atrium-chart-test"
	ensureNamespace(t, ctx, c, wsNS)
	// Labelled as the agent's own, so the agent confines it with the chart's rights too.
	nsObj := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: wsNS}, nsObj); err != nil {
		t.Fatal(err)
	}
	nsPatch := client.MergeFrom(nsObj.DeepCopy())
	nsObj.Labels["app.kubernetes.io/managed-by"] = "atrium-agent"
	if err := c.Patch(ctx, nsObj, nsPatch); err != nil {
		t.Fatal(err)
	}
	lw := &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: wsNS},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin:        computev1alpha1.Origin{LogicalCluster: "chart-test", Namespace: "default", Name: "nb", UID: "chart-test-nb"},
			DesiredStatus: workspacesv1alpha1.DesiredStatusRunning,
			Effective: workspacesv1alpha1.EffectiveWorkspaceSpec{
				Image:   "quay.io/jupyter/minimal-notebook:latest",
				Storage: &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("1Gi"), MountPath: "/home/jovyan"},
			},
		},
	}
	if err := c.Create(ctx, lw); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var deps appsv1.DeploymentList
		var svcs corev1.ServiceList
		var pvcs corev1.PersistentVolumeClaimList
		got := &computev1alpha1.LocalWorkspace{}
		for _, list := range []client.ObjectList{&deps, &svcs, &pvcs} {
			if err := c.List(ctx, list, client.InNamespace(wsNS)); err != nil {
				return false, err
			}
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(lw), got); err != nil {
			return false, err
		}
		var policies networkingv1.NetworkPolicyList
		var quotas corev1.ResourceQuotaList
		var limits corev1.LimitRangeList
		for _, list := range []client.ObjectList{&policies, &quotas, &limits} {
			if err := c.List(ctx, list, client.InNamespace(wsNS)); err != nil {
				return false, err
			}
		}
		confined := len(policies.Items) == 1 && len(quotas.Items) == 1 && len(limits.Items) == 1
		return confined && len(deps.Items) == 1 && len(svcs.Items) == 1 && len(pvcs.Items) == 1 && got.Status.Phase != "", nil
	})
	if err != nil {
		t.Fatalf("the agent did not materialize the workspace with the chart's rights: %v (log %s)", err, logPath)
	}
	raw, _ := os.ReadFile(logPath)
	if strings.Contains(strings.ToLower(string(raw)), "forbidden") {
		t.Errorf("the agent was refused something with the chart's RBAC; see %s", logPath)
	}
}

// TestHubChartRunsHubController runs the atrium-hub binary with the hub chart's rendered
// arguments and the hub controller identity, and waits until it is ready: the chart's flags are
// the binary's.
func TestHubChartRunsHubController(t *testing.T) {
	hubPath := filepath.Join(t.TempDir(), "hub.kubeconfig")
	if err := env.Hub.WriteKubeconfig(hubPath, testbed.HubControllerUser, logicalcluster.NewPath("root:atrium")); err != nil {
		t.Fatal(err)
	}
	r, err := charts.Render(charts.Hub, "hub", namespace, map[string]any{
		"hubKubeconfig": map[string]any{"existingSecret": "hub"}, "heartbeatGrace": "30s", "logLevel": "debug",
		"webhook": map[string]any{"tls": map[string]any{"existingSecret": "hub-webhook-tls"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The chart's identity on the cluster it is installed in (this compute cluster stands in for
	// it): its ServiceAccount and the RBAC that lets it judge metrics scrapes, nothing else.
	c := localClient(t)
	ensureNamespace(t, context.Background(), c, namespace)
	for _, kind := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding"} {
		for _, obj := range r.Kinds(kind) {
			if err := apply(context.Background(), c, obj, false); err != nil {
				t.Fatalf("failed to apply %s %s: %v", kind, obj.GetName(), err)
			}
			t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
		}
	}
	const hubServiceAccount = "hub-atrium-hub"
	authPath, token := serviceAccountKubeconfig(t, hubServiceAccount)
	args := append(localizeArgs(t, deploymentArgs(t, r, "hub-atrium-hub"), hubPath), "--metrics-auth-kubeconfig="+authPath)
	logPath := runBinary(t, "atrium-hub", args)
	checkSecureMetrics(t, args, token, hubServiceAccount, "atrium-hub:"+namespace+":hub-atrium-hub:metrics-reader", logPath)

	// It works, not only answers: it judges the ComputeClusters the agent test registered
	// (only the hub controller writes their Ready condition).
	hub, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath("root:atrium")), client.Options{Scheme: localClient(t).Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	var list platformv1alpha1.ComputeClusterList
	err = wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := hub.List(ctx, &list); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		for _, cc := range list.Items {
			if meta.FindStatusCondition(cc.Status.Conditions, string(platformv1alpha1.ConditionReady)) == nil {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the hub controller did not judge the ComputeClusters: %v (%+v)", err, list.Items)
	}
}

// checkSecureMetrics scrapes the metrics endpoint the args serve: refused without a token (401)
// and with token, a ServiceAccount of the namespace this cluster authenticates but does not
// authorize for GET /metrics (403); read (200) once readerRole is bound to it.
func checkSecureMetrics(t *testing.T, args []string, token, serviceAccount, readerRole, logPath string) {
	t.Helper()
	ctx := context.Background()
	metricsURL := ""
	for _, a := range args {
		if addr, ok := strings.CutPrefix(a, "--metrics-bind-address="); ok {
			metricsURL = "https://" + addr + "/metrics"
		}
	}
	if metricsURL == "" || !slices.Contains(args, "--metrics-secure") {
		t.Fatalf("the chart's args %v do not serve secure metrics", args)
	}
	scraper := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the certificate is self-signed; the token is what is checked
	scrape := func(token string) (int, error) {
		req, err := http.NewRequest(http.MethodGet, metricsURL, nil)
		if err != nil {
			return 0, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := scraper.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// A SubjectAccessReview's denial is cached for 30 s (controller-runtime's metrics filters),
	// so the reader's first success may take that long after the 403.
	waitScrape := func(token string, want int, what string) {
		t.Helper()
		var got int
		err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 90*time.Second, true, func(context.Context) (bool, error) {
			code, err := scrape(token)
			got = code
			return err == nil && code == want, nil
		})
		if err != nil {
			t.Fatalf("%s: metrics answered %d, want %d (log %s)", what, got, want, logPath)
		}
	}
	waitScrape("", http.StatusUnauthorized, "a scrape without a token")
	waitScrape(token, http.StatusForbidden, "a scrape with a token not allowed GET /metrics")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "chart-test-reader-" + serviceAccount},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: readerRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: namespace}},
	}
	if err := localClient(t).Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = localClient(t).Delete(context.Background(), binding) })
	waitScrape(token, http.StatusOK, "a scrape by a metrics reader")
}

// serviceAccountKubeconfig writes a kubeconfig of this compute cluster with a token of the
// ServiceAccount, as the kubelet would project it into the pod, and returns its path and the token.
func serviceAccountKubeconfig(t *testing.T, serviceAccount string) (string, string) {
	t.Helper()
	cluster := env.Cluster(clusterName)
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), serviceAccount, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("failed to request a token for the ServiceAccount %s: %v", serviceAccount, err)
	}
	path := filepath.Join(t.TempDir(), serviceAccount+".kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cluster.Config.Host, CertificateAuthorityData: cluster.Config.CAData}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "sa"}
	kc.CurrentContext = "local"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path, tok.Status.Token
}

// localizeArgs rewrites a Deployment's arguments for a process on this machine: the hub
// kubeconfig file, loopback ports the test bed holds for it, and a webhook certificate
// directory of its own.
func localizeArgs(t *testing.T, args []string, hubKubeconfig string) []string {
	t.Helper()
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--hub-kubeconfig="):
			a = "--hub-kubeconfig=" + hubKubeconfig
		case strings.HasPrefix(a, "--webhook-cert-dir="):
			dir := t.TempDir()
			if _, err := testbed.WebhookCertDir(dir); err != nil {
				t.Fatal(err)
			}
			a = "--webhook-cert-dir=" + dir
		case strings.HasPrefix(a, "--health-probe-bind-address="), strings.HasPrefix(a, "--metrics-bind-address="), strings.HasPrefix(a, "--webhook-bind-address="):
			port, err := testbed.HoldPort() // held until the process binds it: no other program can take it meanwhile
			if err != nil {
				t.Fatal(err)
			}
			flag, _, _ := strings.Cut(a, "=")
			a = fmt.Sprintf("%s=127.0.0.1:%d", flag, port)
		}
		out = append(out, a)
	}
	return out
}

// runBinary starts bin/<name> with args, stops it (by its PID) when the test ends, and waits
// until its /readyz answers 200. It returns the log path.
func runBinary(t *testing.T, name string, args []string) string {
	t.Helper()
	bin, err := testbed.Binary(name)
	if err != nil {
		t.Fatal(err)
	}
	var readyz string
	for _, a := range args {
		if addr, ok := strings.CutPrefix(a, "--health-probe-bind-address="); ok {
			readyz = "http://" + addr + "/readyz"
		}
	}
	logPath := filepath.Join(env.Cluster(clusterName).LogDir(), name+"-chart.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s (pid %d, log %s)", name, strings.Join(args, " "), cmd.Process.Pid, logPath)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
	})
	err = wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("%s exited", name)
		default:
		}
		resp, err := http.Get(readyz)
		if err != nil {
			return false, nil //nolint:nilerr // not listening yet
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("%s never became ready: %v (log %s)", name, err, logPath)
	}
	return logPath
}

func deploymentArgs(t *testing.T, r *charts.Rendered, name string) []string {
	t.Helper()
	dep := r.Find("Deployment", name)
	if dep == nil {
		t.Fatalf("no Deployment %s", name)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	return args
}

func ptrTo[T any](v T) *T { return &v }
