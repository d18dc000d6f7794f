package charts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const hubKubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n"

// agentValueSets are the values sets every agent test renders: the ways the chart is meant to
// be installed.
var agentValueSets = map[string]map[string]any{
	"existing secret": {"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"}},
	"inline kubeconfig, per shard, examples, monitor": {
		"clusterName": "west", "endpointSlice": "workspaces.atrium.dev-shard-1", "region": "eu",
		"labels": map[string]any{"gpu": "a100", "zone": "b"}, "defaultAccessStrategy": "traefik",
		"hubKubeconfig":    map[string]any{"kubeconfig": hubKubeconfig},
		"accessStrategies": map[string]any{"examples": true, "host": "ide.example.org"},
		"metrics":          map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
		"args":             []any{"--resync-period=30s"},
	},
	"baseline, no network policy, no quota, own limits": {
		"clusterName": "gpu", "hubKubeconfig": map[string]any{"existingSecret": "hub"},
		"podSecurity":   map[string]any{"level": "baseline", "version": "v1.34"},
		"networkPolicy": map[string]any{"enabled": false},
		"resourceQuota": map[string]any{"enabled": false},
		"limitRange":    map[string]any{"max": map[string]any{"cpu": "64", "memory": "1Ti", "ephemeral-storage": "500Gi"}},
	},
	"single replica": {
		"clusterName": "solo", "replicaCount": 1, "leaderElection": map[string]any{"enabled": false},
		"hubKubeconfig": map[string]any{"existingSecret": "hub"}, "metrics": map[string]any{"service": map[string]any{"enabled": false}},
	},
}

var webhookTLS = map[string]any{"tls": map[string]any{"existingSecret": "hub-webhook-tls"}}

var hubValueSets = map[string]map[string]any{
	"existing secret": {"hubKubeconfig": map[string]any{"existingSecret": "hub"}, "webhook": webhookTLS},
	"inline kubeconfig, monitor": {
		"hubKubeconfig": map[string]any{"kubeconfig": hubKubeconfig}, "heartbeatGrace": "1m", "endpointSlice": "shard-1",
		"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}}, "webhook": webhookTLS,
	},
	"no webhook": {"hubKubeconfig": map[string]any{"existingSecret": "hub"}, "webhook": map[string]any{"enabled": false}},
	"plain metrics": {
		"hubKubeconfig": map[string]any{"existingSecret": "hub"}, "webhook": webhookTLS,
		"metrics": map[string]any{"secure": false, "serviceMonitor": map[string]any{"enabled": true}},
	},
}

var consoleValueSets = map[string]map[string]any{
	"oidc behind an ingress": {
		"hub": map[string]any{"url": "https://kcp.example.com:6443", "caConfigMap": "hub-ca"}, "publicURL": "https://console.example.com",
		"oidc":    map[string]any{"issuerURL": "https://login.example.com", "clientID": "atrium-console", "clientSecret": map[string]any{"existingSecret": "oidc"}},
		"ingress": map[string]any{"enabled": true, "tlsSecret": "console-tls"},
	},
	"authenticating proxy, own TLS": {
		"hub": map[string]any{"url": "https://kcp:6443"}, "publicURL": "https://console.example.com", "auth": "proxy",
		"proxyTokenHeader": "Authorization", "tls": map[string]any{"existingSecret": "console-tls"},
	},
}

// TestChartCRDsAreTheExports keeps one source of truth: the agent chart's crds/ are copies of
// the generated compute CRDs in exports/crds (`make chart-crds` copies them).
func TestChartCRDsAreTheExports(t *testing.T) {
	exported, _ := filepath.Glob(filepath.Join("..", "..", "exports", "crds", "compute.atrium.dev_*.yaml"))
	inChart, _ := filepath.Glob(filepath.Join(Dir(Agent), "crds", "*.yaml"))
	if len(exported) == 0 {
		t.Fatal("no compute CRDs in exports/crds")
	}
	sameFiles(t, exported, inChart, "run `make chart-crds`")
}

// TestChartStrategiesAreTheExamples keeps the example access strategies identical to
// deploy/strategies.
func TestChartStrategiesAreTheExamples(t *testing.T) {
	examples, _ := filepath.Glob(filepath.Join("..", "strategies", "*.yaml"))
	inChart, _ := filepath.Glob(filepath.Join(Dir(Agent), "files", "strategies", "*.yaml"))
	sameFiles(t, examples, inChart, "run `make chart-crds`")
}

func sameFiles(t *testing.T, want, got []string, fix string) {
	t.Helper()
	base := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		sort.Strings(out)
		return out
	}
	if !slices.Equal(base(want), base(got)) {
		t.Fatalf("files differ: want %v, have %v: %s", base(want), base(got), fix)
	}
	for i := range want {
		w, _ := os.ReadFile(want[i])
		g, _ := os.ReadFile(got[i])
		if !bytes.Equal(w, g) {
			t.Errorf("%s differs from %s: %s", got[i], want[i], fix)
		}
	}
}

func TestLint(t *testing.T) {
	// The values files documented for `helm lint -f` and chart-testing.
	for _, chart := range []string{Agent, Hub, Console} {
		raw, err := os.ReadFile(filepath.Join(Dir(chart), "ci", "lint-values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var values map[string]any
		if err := yaml.Unmarshal(raw, &values); err != nil {
			t.Fatal(err)
		}
		if problems := Lint(chart, values); len(problems) > 0 {
			t.Errorf("helm lint %s -f ci/lint-values.yaml:\n%s", chart, strings.Join(problems, "\n"))
		}
	}
	for chart, sets := range map[string]map[string]map[string]any{Agent: agentValueSets, Hub: hubValueSets, Console: consoleValueSets} {
		for name, values := range sets {
			t.Run(chart+"/"+name, func(t *testing.T) {
				if problems := Lint(chart, values); len(problems) > 0 {
					t.Errorf("helm lint:\n%s", strings.Join(problems, "\n"))
				}
			})
		}
	}
}

func TestAgentRender(t *testing.T) {
	for name, values := range agentValueSets {
		t.Run(name, func(t *testing.T) {
			r, err := Render(Agent, "agent", "atrium-system", values)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.CRDs) != 2 {
				t.Errorf("got %d CRDs, want the 2 compute CRDs", len(r.CRDs))
			}
			dep := r.Find("Deployment", "agent-atrium-agent")
			if dep == nil {
				t.Fatal("no Deployment agent-atrium-agent")
			}
			checkHardened(t, dep)
			args := containerArgs(t, dep)
			want := []string{"--cluster-name=" + values["clusterName"].(string), "--hub-kubeconfig=/etc/atrium/hub/kubeconfig",
				"--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"}
			if values["leaderElection"] == nil {
				want = append(want, "--leader-elect", "--leader-election-namespace=atrium-system")
			}
			for _, a := range want {
				if !slices.Contains(args, a) {
					t.Errorf("args %v lack %s", args, a)
				}
			}
			if values["region"] != nil {
				for _, a := range []string{"--labels=gpu=a100,zone=b", "--region=eu", "--endpoint-slice=workspaces.atrium.dev-shard-1",
					"--default-access-strategy=traefik", "--resync-period=30s"} {
					if !slices.Contains(args, a) {
						t.Errorf("args %v lack %s", args, a)
					}
				}
				if r.Find("Secret", "agent-atrium-agent-hub-kubeconfig") == nil {
					t.Error("an inline kubeconfig must create a Secret")
				}
				if len(r.Kinds("ServiceMonitor")) != 1 {
					t.Error("no ServiceMonitor")
				}
				strategies := r.Kinds("WorkspaceAccessStrategy")
				if len(strategies) != 2 {
					t.Fatalf("got %d example strategies, want 2", len(strategies))
				}
				url, _, _ := unstructured.NestedString(strategies[0].Object, "spec", "accessURLTemplate")
				if url != "https://{{ .Workspace.HostLabel }}.ide.example.org/" {
					t.Errorf("example strategy URL %q: want a host per workspace under the domain, the agent's template kept", url)
				}
				for _, s := range strategies {
					if data, _ := yaml.Marshal(s.Object); !strings.Contains(string(data), "https://console.example.com/access/check/") {
						t.Errorf("example strategy %s does not pass every request through the access check", s.GetName())
					}
				}
			} else {
				for _, kind := range []string{"Secret", "ServiceMonitor", "WorkspaceAccessStrategy"} {
					if len(r.Kinds(kind)) != 0 {
						t.Errorf("unexpected %s", kind)
					}
				}
			}
			for _, role := range r.Kinds("Role") {
				if values["leaderElection"] != nil && role.GetNamespace() == "atrium-system" {
					t.Error("no leader-election Role without leader election")
				}
			}
			if values["podSecurity"] != nil {
				for _, a := range []string{"--pod-security-level=baseline", "--pod-security-version=v1.34", "--network-policy=false",
					"--resource-quota=", "--limit-range-max=cpu=64,ephemeral-storage=500Gi,memory=1Ti",
					"--limit-range-default-request=cpu=100m,ephemeral-storage=1Gi,memory=256Mi"} {
					if !slices.Contains(args, a) {
						t.Errorf("args %v lack %s", args, a)
					}
				}
				for _, role := range r.Kinds("Role") {
					if role.GetNamespace() == "default" {
						t.Error("no Role for the API server's endpoints without network policies")
					}
				}
				return
			}
			// Confinement of workspace namespaces, from the defaults.
			for _, a := range []string{"--pod-security-level=restricted", "--network-policy=true",
				"--network-policy-ingress-namespaces=ingress-nginx", "--network-policy-agent-namespace=atrium-system",
				"--network-policy-agent-pod-labels=app.kubernetes.io/instance=agent,app.kubernetes.io/name=atrium-agent",
				"--network-policy-dns-namespace=kube-system", "--network-policy-dns-pod-labels=k8s-app=kube-dns",
				"--network-policy-egress-deny-cidrs=169.254.0.0/16,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fe80::/10,fc00::/7",
				"--resource-quota=persistentvolumeclaims=100,pods=50,requests.cpu=128,requests.ephemeral-storage=500Gi,requests.memory=512Gi,requests.storage=5Ti,services=50",
				"--limit-range-max=cpu=32,ephemeral-storage=100Gi,memory=256Gi",
				"--limit-range-default-request=cpu=100m,ephemeral-storage=1Gi,memory=256Mi"} {
				if !slices.Contains(args, a) {
					t.Errorf("args %v lack %s", args, a)
				}
			}
		})
	}
}

func TestAgentRBACRules(t *testing.T) {
	r, err := Render(Agent, "agent", "atrium-system", agentValueSets["existing secret"])
	if err != nil {
		t.Fatal(err)
	}
	// Besides its own, the agent's release holds only metricsauth.yaml's two (metrics.secure).
	roles := slices.DeleteFunc(r.Kinds("ClusterRole"), func(o *unstructured.Unstructured) bool {
		return strings.HasSuffix(o.GetName(), ":metrics-auth") || strings.HasSuffix(o.GetName(), ":metrics-reader")
	})
	if len(roles) != 1 || roles[0].GetName() != "atrium-agent:atrium-system:agent-atrium-agent" {
		t.Fatalf("want one ClusterRole named after namespace and release, got %v", names(roles))
	}
	rules, _, _ := unstructured.NestedSlice(roles[0].Object, "rules")
	for _, rule := range rules {
		m := rule.(map[string]any)
		resources, _, _ := unstructured.NestedStringSlice(m, "resources")
		verbs, _, _ := unstructured.NestedStringSlice(m, "verbs")
		for _, res := range resources {
			if res == "*" || res == "secrets" || res == "configmaps" {
				t.Errorf("the agent must not be granted %s", res)
			}
			if res == "customresourcedefinitions" {
				if rn, _, _ := unstructured.NestedStringSlice(m, "resourceNames"); len(rn) != 2 {
					t.Errorf("CRD rights must be limited to the compute CRDs, got %v", rn)
				}
			}
			if res == "namespaces" && slices.Contains(verbs, "delete") {
				t.Error("the agent never deletes namespaces")
			}
		}
		if slices.Contains(verbs, "*") {
			t.Errorf("wildcard verbs in %v", m)
		}
	}
}

func TestHubRender(t *testing.T) {
	for name, values := range hubValueSets {
		t.Run(name, func(t *testing.T) {
			r, err := Render(Hub, "hub", "atrium-system", values)
			if err != nil {
				t.Fatal(err)
			}
			dep := r.Find("Deployment", "hub-atrium-hub")
			if dep == nil {
				t.Fatal("no Deployment hub-atrium-hub")
			}
			checkHardened(t, dep)
			// With secure metrics (the default) the hub asks this cluster who scrapes them: a
			// token, and the right to create token and access reviews, nothing else.
			metrics, _ := values["metrics"].(map[string]any)
			secure := metrics["secure"] != false
			if mount, _, _ := unstructured.NestedBool(dep.Object, "spec", "template", "spec", "automountServiceAccountToken"); mount != secure {
				t.Errorf("the pods mount a token of this cluster: %v, want %v (only to judge metrics scrapes)", mount, secure)
			}
			args := containerArgs(t, dep)
			for _, a := range []string{"--hub-kubeconfig=/etc/atrium/hub/kubeconfig", "--leader-elect", "--leader-election-namespace=default"} {
				if !slices.Contains(args, a) {
					t.Errorf("args %v lack %s", args, a)
				}
			}
			if slices.Contains(args, "--metrics-secure") != secure {
				t.Errorf("args %v: --metrics-secure present %v, want %v", args, !secure, secure)
			}
			for _, kind := range []string{"Role", "RoleBinding"} {
				if len(r.Kinds(kind)) != 0 {
					t.Errorf("the hub chart needs no %s on its cluster", kind)
				}
			}
			var rules []string
			for _, role := range r.Kinds("ClusterRole") {
				list, _, _ := unstructured.NestedSlice(role.Object, "rules")
				for _, rule := range list {
					rules = append(rules, fmt.Sprint(rule))
				}
			}
			slices.Sort(rules)
			want := []string{}
			if secure {
				want = []string{
					"map[apiGroups:[authentication.k8s.io] resources:[tokenreviews] verbs:[create]]",
					"map[apiGroups:[authorization.k8s.io] resources:[subjectaccessreviews] verbs:[create]]",
					"map[nonResourceURLs:[/metrics] verbs:[get]]",
				}
			}
			if !slices.Equal(rules, want) {
				t.Errorf("the hub chart's ClusterRoles grant %v, want %v", rules, want)
			}
			if got := len(r.Kinds("ClusterRoleBinding")); got != map[bool]int{true: 1, false: 0}[secure] {
				t.Errorf("%d ClusterRoleBindings, want one (metrics-auth) with secure metrics and none without", got)
			}
			webhook := values["webhook"].(map[string]any)["enabled"] != false
			svc := r.Find("Service", "hub-atrium-hub-webhook")
			hasArgs := slices.Contains(args, "--webhook-bind-address=:9443") && slices.Contains(args, "--webhook-cert-dir=/etc/atrium/webhook")
			switch {
			case webhook && (svc == nil || !hasArgs):
				t.Errorf("the webhook needs its Service and flags: service %v, args %v", svc != nil, args)
			case !webhook && (svc != nil || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--webhook-") })):
				t.Errorf("webhook.enabled=false renders no webhook: service %v, args %v", svc != nil, args)
			}
		})
	}
}

// TestRenderRefusesBadValues: every mistake gets a message that says what to set.
func TestRenderRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		chart  string
		values map[string]any
		want   string
	}{
		{Agent, map[string]any{"hubKubeconfig": map[string]any{"existingSecret": "hub"}}, "clusterName is required"},
		{Agent, map[string]any{"clusterName": "East_1", "hubKubeconfig": map[string]any{"existingSecret": "hub"}}, "must be a DNS label"},
		{Agent, map[string]any{"clusterName": "east"}, "set hubKubeconfig.existingSecret"},
		{Agent, map[string]any{"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"}, "leaderElection": map[string]any{"enabled": false}}, "needs leaderElection.enabled"},
		{Agent, map[string]any{"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"}, "podSecurity": map[string]any{"level": "privileged"}}, "podSecurity.level \"privileged\" must be restricted or baseline"},
		{Hub, map[string]any{"webhook": webhookTLS}, "set hubKubeconfig.existingSecret"},
		{Hub, map[string]any{"hubKubeconfig": map[string]any{"existingSecret": "hub"}}, "webhook.tls.existingSecret is required"},
	} {
		_, err := Render(tc.chart, "x", "atrium-system", tc.values)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s with %v: got %v, want an error containing %q", tc.chart, tc.values, err, tc.want)
		}
	}
}

// TestValuesDocumented: every value of values.yaml has a row in the chart's README.
func TestValuesDocumented(t *testing.T) {
	for _, chart := range []string{Agent, Hub, Console} {
		raw, err := os.ReadFile(filepath.Join(Dir(chart), "values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		readme, err := os.ReadFile(filepath.Join(Dir(chart), "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		var values map[string]any
		if err := yaml.Unmarshal(raw, &values); err != nil {
			t.Fatal(err)
		}
		for _, key := range leafKeys("", values) {
			if !strings.Contains(string(readme), "| `"+key+"` |") {
				t.Errorf("%s/README.md has no row for `%s`", chart, key)
			}
		}
	}
}

// leafKeys lists dotted value paths, stopping at values meant to be replaced whole (probes,
// resources, security contexts: maps whose keys are Kubernetes fields).
func leafKeys(prefix string, m map[string]any) []string {
	var out []string
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		sub, ok := v.(map[string]any)
		if !ok || len(sub) == 0 || wholeValues[path] {
			out = append(out, path)
			continue
		}
		out = append(out, leafKeys(path, sub)...)
	}
	sort.Strings(out)
	return out
}

var wholeValues = map[string]bool{
	"livenessProbe": true, "readinessProbe": true, "resources": true, "podSecurityContext": true, "securityContext": true,
	"networkPolicy.dnsPodLabels": true, "resourceQuota.hard": true, "limitRange.max": true, "limitRange.defaultRequest": true,
}

func checkHardened(t *testing.T, dep *unstructured.Unstructured) {
	t.Helper()
	pod, _, _ := unstructured.NestedMap(dep.Object, "spec", "template", "spec")
	if v, _, _ := unstructured.NestedBool(pod, "securityContext", "runAsNonRoot"); !v {
		t.Error("pods must run as non-root")
	}
	if v, _, _ := unstructured.NestedString(pod, "securityContext", "seccompProfile", "type"); v != "RuntimeDefault" {
		t.Errorf("seccomp profile %q, want RuntimeDefault", v)
	}
	containers, _, _ := unstructured.NestedSlice(pod, "containers")
	for _, c := range containers {
		sc, _, _ := unstructured.NestedMap(c.(map[string]any), "securityContext")
		if v, _, _ := unstructured.NestedBool(sc, "readOnlyRootFilesystem"); !v {
			t.Error("the root file system must be read-only")
		}
		if v, found, _ := unstructured.NestedBool(sc, "allowPrivilegeEscalation"); !found || v {
			t.Error("privilege escalation must be off")
		}
		if drop, _, _ := unstructured.NestedStringSlice(sc, "capabilities", "drop"); !slices.Equal(drop, []string{"ALL"}) {
			t.Errorf("capabilities dropped %v, want ALL", drop)
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			if path, _, _ := unstructured.NestedString(c.(map[string]any), probe, "httpGet", "path"); path == "" {
				t.Errorf("no %s", probe)
			}
		}
	}
}

func containerArgs(t *testing.T, dep *unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("want one container, got %d", len(containers))
	}
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	return args
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

// TestConsoleRender: the console gets the hub's URL and CA, never a credential of its own (no
// Secret but the OIDC client's, no ServiceAccount token), and the sign-in flags of its mode.
func TestConsoleRender(t *testing.T) {
	for name, values := range consoleValueSets {
		t.Run(name, func(t *testing.T) {
			r, err := Render(Console, "console", "atrium-system", values)
			if err != nil {
				t.Fatal(err)
			}
			var args []string
			kinds := map[string]bool{}
			for _, o := range r.Objects {
				kinds[o.GetKind()] = true
				if o.GetKind() != "Deployment" {
					continue
				}
				if v, _, _ := unstructured.NestedBool(o.Object, "spec", "template", "spec", "automountServiceAccountToken"); v {
					t.Error("the console must not mount a ServiceAccount token")
				}
				containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
				for _, a := range containers[0].(map[string]any)["args"].([]any) {
					args = append(args, a.(string))
				}
			}
			for _, k := range []string{"Secret", "ServiceAccount", "ClusterRole", "Role"} {
				if kinds[k] {
					t.Errorf("the chart renders a %s: the console has no identity or credentials of its own", k)
				}
			}
			joined := strings.Join(args, " ")
			for _, want := range []string{"--hub-url=", "--public-url=https://console.example.com", "--auth="} {
				if !strings.Contains(joined, want) {
					t.Errorf("args %v lack %s", args, want)
				}
			}
			if strings.Contains(joined, "--insecure-cookies") {
				t.Error("the chart must never drop Secure cookies")
			}
		})
	}
	if _, err := Render(Console, "console", "atrium-system", map[string]any{"hub": map[string]any{"url": "https://kcp"}, "publicURL": "https://c"}); err == nil || !strings.Contains(err.Error(), "oidc.issuerURL is required") {
		t.Errorf("oidc without an issuer: got %v, want the chart to refuse", err)
	}
}
