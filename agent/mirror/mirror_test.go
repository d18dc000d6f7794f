package mirror

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestNamespace(t *testing.T) {
	// Neither logical-cluster names nor namespaces contain "/", so the separator is unambiguous.
	seen := map[string]string{}
	for _, tc := range []struct{ cluster, ns string }{
		{"2x8vbcp1mz7ewyku", "default"},
		{"2x8vbcp1mz7ewyku", "team-a"},
		{"3hq8d0y0rq5z3h3j", "default"},
		{"a", strings.Repeat("n", 63)},
	} {
		t.Run(tc.cluster+"/"+tc.ns, func(t *testing.T) {
			got := Namespace(tc.cluster, tc.ns)
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Fatalf("%q is not a DNS label: %v", got, errs)
			}
			if got != Namespace(tc.cluster, tc.ns) {
				t.Fatal("not deterministic")
			}
			if other, ok := seen[got]; ok {
				t.Fatalf("%s/%s collides with %s", tc.cluster, tc.ns, other)
			}
			seen[got] = tc.cluster + "/" + tc.ns
		})
	}
	if Namespace("c1", "default") == Namespace("c2", "default") {
		t.Fatal("different logical clusters must get different namespaces")
	}
	if Namespace("c1", "a") == Namespace("c1", "b") {
		t.Fatal("different namespaces must get different local namespaces")
	}
}

func TestNamespaceLabels(t *testing.T) {
	for _, lc := range []string{"2x8vbcp1mz7ewyku", strings.Repeat("x", 80), "Root:Orgs"} {
		for k, v := range NamespaceLabels(lc) {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Errorf("label %s=%q invalid: %v", k, v, errs)
			}
		}
	}
}
