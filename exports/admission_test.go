package exports

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestOrgAdmissionPolicies(t *testing.T) {
	objs, err := OrgObjects()
	if err != nil {
		t.Fatal(err)
	}
	policies, bindings := map[string]bool{}, map[string]string{}
	for _, o := range objs {
		switch o.GetKind() {
		case "ValidatingAdmissionPolicy":
			policies[o.GetName()] = true
		case "ValidatingAdmissionPolicyBinding":
			name, _, _ := unstructured.NestedString(o.Object, "spec", "policyName")
			bindings[o.GetName()] = name
		}
	}
	for _, p := range []string{OwnerPolicy, OwnerRequiredPolicy} {
		if !policies[p] {
			t.Errorf("policy %s missing", p)
		}
		if bindings[p] != p {
			t.Errorf("binding %s must bind policy %s, binds %q", p, p, bindings[p])
		}
	}
}
