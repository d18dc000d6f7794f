package exports

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/atrium-dev/atrium/internal/policyvars/celcheck"
)

// TestProviderAdmissionPolicies: the owner policies live in root:atrium (since kcp v0.30 the only
// place that admits bound resources), each with its binding, and none is left in organizations;
// none declares variables or takes parameters (either can crash kcp v0.31.2), and each compiles.
func TestProviderAdmissionPolicies(t *testing.T) {
	objs, err := ProviderObjects()
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
	org, err := OrgObjects()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range org {
		if o.GetKind() == "ValidatingAdmissionPolicy" || o.GetKind() == "ValidatingAdmissionPolicyBinding" {
			t.Errorf("%s %s in the organization objects: kcp ignores it on bound resources", o.GetKind(), o.GetName())
		}
	}
	for _, o := range objs {
		if o.GetKind() != "ValidatingAdmissionPolicy" {
			continue
		}
		if _, found, _ := unstructured.NestedMap(o.Object, "spec", "paramKind"); found {
			t.Errorf("policy %s has a paramKind: it crashes kcp v0.31.2", o.GetName())
		}
		// Variables are written into the expressions (package policyvars); what remains must
		// still compile.
		policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, policy); err != nil {
			t.Fatal(err)
		}
		if err := celcheck.Policy(&policy.Spec); err != nil {
			t.Errorf("policy %s: %v", o.GetName(), err)
		}
	}
}
