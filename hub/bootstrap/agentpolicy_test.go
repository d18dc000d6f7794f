package bootstrap

import (
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/policyvars/celcheck"
)

// TestAgentPolicyCompiles: the agents' policy is installed without variables (package
// policyvars: they can crash kcp v0.31.2), and every expression still compiles.
func TestAgentPolicyCompiles(t *testing.T) {
	policy, binding := agentPolicyObjects()
	if err := celcheck.Policy(&policy.Spec); err != nil {
		t.Fatal(err)
	}
	for _, v := range policy.Spec.Validations {
		if strings.Contains(v.Expression+v.MessageExpression, "variables.") {
			t.Errorf("a variable is left in %q", v.Expression)
		}
	}
	if binding.Spec.PolicyName != policy.Name {
		t.Errorf("the binding binds %s, not %s", binding.Spec.PolicyName, policy.Name)
	}
}
