package placement

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/hub/roster"
)

// Concurrent decisions must each see the requests the ones before reserved: two clusters
// with room for 4 workspaces each take exactly 8 of 12 asking at once, 4 each.
func TestChooseReservesConcurrently(t *testing.T) {
	s := runtime.NewScheme()
	if err := platformv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	platform := fake.NewClientBuilder().WithScheme(s).WithObjects(cluster("east"), cluster("west")).Build()
	r := &Reconciler{Platform: platform, Roster: roster.New(), Grace: time.Minute}
	need := Need{Shard: shard, Requests: rl("1", "1Gi")}

	var wg sync.WaitGroup
	chosen := make([]string, 12)
	for i := range chosen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := mcreconcile.Request{ClusterName: "org", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: fmt.Sprintf("ws-%d", i)}}}
			c, region, _, err := r.choose(context.Background(), &scope{req: req, now: now}, need)
			if err != nil {
				t.Error(err)
			}
			if region != c {
				t.Errorf("placed on %q in region %q, want the cluster's region label %q", c, region, c)
			}
			chosen[i] = c
		}()
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range chosen {
		count[c]++
	}
	if count["east"] != 4 || count["west"] != 4 || count[""] != 4 {
		t.Errorf("placed %v, want 4 on east, 4 on west, 4 nowhere", count)
	}
	if got := len(r.Roster.On("east")) + len(r.Roster.On("west")); got != 8 {
		t.Errorf("roster holds %d reservations, want 8", got)
	}
}
