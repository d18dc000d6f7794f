package charts

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPodNetworkPolicyAndDisruptionBudget: every chart confines its own pods by default
// (ingress only on the ports they serve, egress only to DNS and the hub/API server ports) and
// keeps two or more replicas through a drain; both can be turned off.
func TestPodNetworkPolicyAndDisruptionBudget(t *testing.T) {
	type chartCase struct {
		chart, release string
		sets           map[string]map[string]any
		ingressPorts   []int64 // the ports the pods serve
		extraEgress    bool    // egress to the workspace namespaces (the agent)
	}
	for _, c := range []chartCase{
		{chart: Hub, release: "hub", sets: hubValueSets, ingressPorts: []int64{8080, 8081, 9443}},
		{chart: Agent, release: "agent", sets: agentValueSets, ingressPorts: []int64{8080, 8081}, extraEgress: true},
		{chart: Console, release: "console", sets: consoleValueSets, ingressPorts: []int64{8443, 8080}},
	} {
		for name, values := range c.sets {
			t.Run(c.chart+"/"+name, func(t *testing.T) {
				r, err := Render(c.chart, c.release, "atrium-system", values)
				if err != nil {
					t.Fatal(err)
				}
				full := c.release + "-" + c.chart
				np := r.Find("NetworkPolicy", full)
				if np == nil {
					t.Fatalf("no NetworkPolicy %s for the chart's own pods", full)
				}
				types, _, _ := unstructured.NestedStringSlice(np.Object, "spec", "policyTypes")
				if !slices.Equal(types, []string{"Ingress", "Egress"}) {
					t.Errorf("policyTypes %v: want both", types)
				}
				sel, _, _ := unstructured.NestedStringMap(np.Object, "spec", "podSelector", "matchLabels")
				if sel["app.kubernetes.io/instance"] != c.release {
					t.Errorf("podSelector %v does not select the release's pods", sel)
				}
				var ports []int64
				ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
				for _, rule := range ingress {
					for _, p := range rule.(map[string]any)["ports"].([]any) {
						ports = append(ports, num(p.(map[string]any)["port"]))
					}
				}
				want := c.ingressPorts
				if c.chart == Hub && !strings.Contains(fmt.Sprint(containerArgs(t, r.Kinds("Deployment")[0])), "--webhook-bind-address") {
					want = want[:2] // no webhook served, no webhook port open
				}
				if !sameInts(ports, want) {
					t.Errorf("ingress ports %v, want exactly %v", ports, want)
				}
				egress, _, _ := unstructured.NestedSlice(np.Object, "spec", "egress")
				wantRules := 2
				if c.extraEgress {
					wantRules = 3
				}
				if len(egress) != wantRules {
					t.Fatalf("%d egress rules, want %d (DNS, hub ports%s)", len(egress), wantRules, map[bool]string{true: ", workspaces"}[c.extraEgress])
				}
				dns := egress[0].(map[string]any)
				if _, ok := dns["to"]; !ok {
					t.Error("DNS egress must name the DNS pods, not everyone")
				}
				var egressPorts []int64
				for _, p := range egress[1].(map[string]any)["ports"].([]any) {
					egressPorts = append(egressPorts, num(p.(map[string]any)["port"]))
				}
				if !sameInts(egressPorts, []int64{443, 6443}) {
					t.Errorf("egress ports %v, want 443 and 6443", egressPorts)
				}

				replicas := int64(1)
				if dep := r.Kinds("Deployment"); len(dep) == 1 {
					v, _, _ := unstructured.NestedFieldNoCopy(dep[0].Object, "spec", "replicas")
					replicas = num(v)
				}
				pdb := r.Find("PodDisruptionBudget", full)
				switch {
				case replicas >= 2 && pdb == nil:
					t.Errorf("%d replicas and no PodDisruptionBudget", replicas)
				case replicas < 2 && pdb != nil:
					t.Errorf("a PodDisruptionBudget for %d replica would block every drain", replicas)
				case pdb != nil:
					if mu, _, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "maxUnavailable"); num(mu) != 1 {
						t.Errorf("maxUnavailable %d, want 1", mu)
					}
				}
			})
		}
		t.Run(c.chart+"/turned off", func(t *testing.T) {
			var values map[string]any
			for _, v := range c.sets {
				values = map[string]any{}
				for k, x := range v {
					values[k] = x
				}
				break
			}
			values["podNetworkPolicy"] = map[string]any{"enabled": false}
			values["podDisruptionBudget"] = map[string]any{"enabled": false}
			values["replicaCount"] = 3
			if c.chart != Console {
				values["leaderElection"] = map[string]any{"enabled": true}
			}
			r, err := Render(c.chart, c.release, "atrium-system", values)
			if err != nil {
				t.Fatal(err)
			}
			if r.Find("NetworkPolicy", c.release+"-"+c.chart) != nil || len(r.Kinds("PodDisruptionBudget")) != 0 {
				t.Error("turned off, yet rendered")
			}
		})
	}
}

// num reads a rendered number, an int64 or a float64 depending on the decoder.
func num(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return -1
}

func sameInts(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestAgentMetricsSecureByDefault: the agent chart serves metrics only to authenticated and
// authorized scrapers unless told otherwise, with exactly the rights that takes.
func TestAgentMetricsSecureByDefault(t *testing.T) {
	for _, secure := range []bool{true, false} {
		values := map[string]any{"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"},
			"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}}}
		if !secure {
			values["metrics"].(map[string]any)["secure"] = false
		}
		r, err := Render(Agent, "agent", "atrium-system", values)
		if err != nil {
			t.Fatal(err)
		}
		args := containerArgs(t, r.Find("Deployment", "agent-atrium-agent"))
		auth := r.Find("ClusterRole", "atrium-agent:atrium-system:agent-atrium-agent:metrics-auth")
		sm := r.Kinds("ServiceMonitor")[0]
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		scheme := endpoints[0].(map[string]any)["scheme"]
		if !secure {
			if slices.Contains(args, "--metrics-secure") || auth != nil || scheme != nil {
				t.Errorf("metrics.secure=false still renders the secure setup: args %v", args)
			}
			continue
		}
		if !slices.Contains(args, "--metrics-secure") {
			t.Errorf("args %v lack --metrics-secure", args)
		}
		if auth == nil {
			t.Fatal("no ClusterRole for the metrics' TokenReviews and SubjectAccessReviews")
		}
		rules, _, _ := unstructured.NestedSlice(auth.Object, "rules")
		if len(rules) != 2 {
			t.Errorf("metrics-auth rules %v: want tokenreviews and subjectaccessreviews create only", rules)
		}
		for _, rule := range rules {
			verbs, _, _ := unstructured.NestedStringSlice(rule.(map[string]any), "verbs")
			if !slices.Equal(verbs, []string{"create"}) {
				t.Errorf("metrics-auth verbs %v", verbs)
			}
		}
		if r.Find("ClusterRoleBinding", "atrium-agent:atrium-system:agent-atrium-agent:metrics-auth") == nil {
			t.Error("metrics-auth is not bound to the agent")
		}
		if r.Find("ClusterRole", "atrium-agent:atrium-system:agent-atrium-agent:metrics-reader") == nil {
			t.Error("no metrics-reader ClusterRole for scrapers")
		}
		if scheme != "https" {
			t.Errorf("the ServiceMonitor scrapes %v, want https with a token", scheme)
		}
	}
}
