package computepolicy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/atrium-dev/atrium/deploy/charts"
	"github.com/atrium-dev/atrium/internal/policyvars/celcheck"
)

var update = flag.Bool("update", false, "rewrite the agent chart's policy template from Objects")

// TestChartTemplateIsGenerated: the chart's template is what ChartTemplate writes (go test
// ./agent/computepolicy -update rewrites it), and the policy declares no variables and compiles.
func TestChartTemplateIsGenerated(t *testing.T) {
	want, err := ChartTemplate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", ChartTemplatePath)
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not what agent/computepolicy writes: run go test ./agent/computepolicy -update", ChartTemplatePath)
	}
	policy, _, err := Objects(Options{AgentUsername: "system:serviceaccount:atrium-system:atrium-agent", AllowedServiceAccounts: []string{"default", "ml-runner"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := celcheck.Policy(&policy.Spec); err != nil {
		t.Error(err)
	}
	for _, v := range policy.Spec.Validations {
		if strings.Contains(v.Expression+v.MessageExpression, "variables.") {
			t.Errorf("a variable is left in %q", v.Expression)
		}
	}
}

func TestObjectsNeedTheAgent(t *testing.T) {
	if _, _, err := Objects(Options{}); err == nil {
		t.Fatal("a policy that matches no one was built")
	}
	policy, binding, err := Objects(Options{AgentUsername: "atrium-agent"})
	if err != nil {
		t.Fatal(err)
	}
	if binding.Spec.PolicyName != policy.Name || len(binding.Spec.ValidationActions) != 1 || binding.Spec.ValidationActions[0] != admissionregistrationv1.Deny {
		t.Errorf("the binding must deny with the policy: %+v", binding.Spec)
	}
	if got := policy.Spec.MatchConditions[0].Expression; got != `request.userInfo.username == "atrium-agent"` {
		t.Errorf("match condition %s", got)
	}
}

// TestChartIsThePolicy: the agent chart's templates/computepolicy.yaml renders the policy
// Objects builds for the chart's ServiceAccount, release namespace and allowed service
// accounts: the two copies cannot drift.
func TestChartIsThePolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		values  map[string]any
		allowed []string
	}{
		"defaults": {values: map[string]any{}, allowed: []string{"default"}},
		"profiles": {values: map[string]any{"computePolicy": map[string]any{"allowedServiceAccounts": []any{"default", "ml-runner"}}}, allowed: []string{"default", "ml-runner"}},
	} {
		t.Run(name, func(t *testing.T) {
			values := map[string]any{"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"}}
			for k, v := range tc.values {
				values[k] = v
			}
			r, err := charts.Render(charts.Agent, "agent", "atrium-system", values)
			if err != nil {
				t.Fatal(err)
			}
			want, wantBinding, err := Objects(Options{
				AgentUsername:           "system:serviceaccount:atrium-system:agent-atrium-agent",
				AllowedServiceAccounts:  tc.allowed,
				LeaderElectionNamespace: "atrium-system",
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				kind string
				into any
				want any
			}{
				{"ValidatingAdmissionPolicy", &admissionregistrationv1.ValidatingAdmissionPolicy{}, want},
				{"ValidatingAdmissionPolicyBinding", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, wantBinding},
			} {
				u := r.Find(c.kind, PolicyName)
				if u == nil {
					t.Fatalf("the chart renders no %s %s", c.kind, PolicyName)
				}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, c.into); err != nil {
					t.Fatal(err)
				}
				var got, exp any
				switch g := c.into.(type) {
				case *admissionregistrationv1.ValidatingAdmissionPolicy:
					got, exp = g.Spec, c.want.(*admissionregistrationv1.ValidatingAdmissionPolicy).Spec
				case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
					got, exp = g.Spec, c.want.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding).Spec
				}
				if !equality.Semantic.DeepEqual(got, exp) {
					t.Errorf("chart %s differs from computepolicy.Objects:\nchart: %+v\nGo:    %+v", c.kind, got, exp)
				}
			}
		})
	}

	r, err := charts.Render(charts.Agent, "agent", "atrium-system", map[string]any{
		"clusterName": "east", "hubKubeconfig": map[string]any{"existingSecret": "hub"}, "computePolicy": map[string]any{"enabled": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Find("ValidatingAdmissionPolicy", PolicyName) != nil {
		t.Error("computePolicy.enabled=false still renders the policy")
	}
}
