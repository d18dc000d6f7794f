package roster

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"
)

func TestUnplacedAsksToRun(t *testing.T) {
	r := New()
	req := func(name string) mcreconcile.Request {
		return mcreconcile.Request{ClusterName: "org", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}}}
	}
	r.Observe(req("waiting"), Entry{Running: true})
	r.Observe(req("stopped"), Entry{Running: false})
	r.Observe(req("placed"), Entry{Cluster: "east", Running: true})
	got := r.Unplaced()
	if len(got) != 1 || got[0] != req("waiting") {
		t.Errorf("Unplaced() = %v, want only the running unplaced workspace", got)
	}
	if on := r.On("east"); len(on) != 1 || on[0] != req("placed") {
		t.Errorf("On(east) = %v", on)
	}
}
