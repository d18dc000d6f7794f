package workspace

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"
)

func capacityKey(name string) mcreconcile.Request {
	return mcreconcile.Request{ClusterName: "org", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}}}
}

func TestCapacityIndexes(t *testing.T) {
	c := newCapacity()
	c.set(capacityKey("waiting"), capacityEntry{running: true})
	c.set(capacityKey("stopped"), capacityEntry{running: false})
	c.set(capacityKey("placed"), capacityEntry{cluster: "east", running: true})
	if got := c.waiting(); len(got) != 1 || got[0] != capacityKey("waiting") {
		t.Errorf("waiting() = %v, want only the running unplaced workspace", got)
	}
	if on := c.placedOn("east"); len(on) != 1 || on[0] != capacityKey("placed") {
		t.Errorf("placedOn(east) = %v", on)
	}
	c.set(capacityKey("placed"), capacityEntry{running: true})
	if on := c.placedOn("east"); len(on) != 0 {
		t.Errorf("placedOn(east) after eviction = %v, want none", on)
	}
}

// The running sums follow every change of an entry, and a decision excludes its own workspace.
func TestCapacityCommitted(t *testing.T) {
	c := newCapacity()
	one := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	cpu := func(l corev1.ResourceList) string { q := l[corev1.ResourceCPU]; return q.String() }
	c.set(capacityKey("a"), capacityEntry{cluster: "east", requests: one, running: true})
	c.set(capacityKey("b"), capacityEntry{cluster: "east", requests: one, running: true})
	c.set(capacityKey("c"), capacityEntry{cluster: "east", requests: one, running: false})
	c.set(capacityKey("d"), capacityEntry{cluster: "west", requests: one, running: true})
	if got := cpu(c.committedTo("east", capacityKey("x"))); got != "1" {
		t.Errorf("committed to east = %s, want 1 (a and b; c is stopped)", got)
	}
	if got := cpu(c.committedTo("east", capacityKey("a"))); got != "500m" {
		t.Errorf("committed to east except a = %s, want 500m", got)
	}
	c.set(capacityKey("a"), capacityEntry{cluster: "east", requests: one, running: false}) // stopped
	c.forget(capacityKey("b"))
	if got := cpu(c.committedTo("east", capacityKey("x"))); got != "0" {
		t.Errorf("committed to east after a stopped and b was deleted = %s, want 0", got)
	}

	res := c.reserve(capacityKey("e"), "west", one)
	if got := cpu(c.committedTo("west", capacityKey("x"))); got != "1" {
		t.Errorf("committed to west with a reservation = %s, want 1", got)
	}
	c.giveBack(res)
	if got := cpu(c.committedTo("west", capacityKey("x"))); got != "500m" {
		t.Errorf("committed to west after the reservation was given back = %s, want 500m", got)
	}
	if got := len(c.waiting()); got != 0 {
		t.Errorf("a reservation given back without a previous entry leaves %d waiting, want 0", got)
	}
}
