package roster

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Entry is what the roster knows about one workspace.
type Entry struct {
	// Cluster is the compute cluster it is placed on; "" when unplaced.
	Cluster string
	// Requests are the resources it asks for while running.
	Requests corev1.ResourceList
	// Running is false when it is stopped (and so holds no compute resources).
	Running bool
}

// Roster is a concurrency-safe index of workspaces; the zero value is not usable, use New.
type Roster struct {
	mu      sync.RWMutex
	entries map[mcreconcile.Request]Entry
}

// New returns an empty roster.
func New() *Roster {
	return &Roster{entries: map[mcreconcile.Request]Entry{}}
}

// Observe records the current state of a workspace.
func (r *Roster) Observe(key mcreconcile.Request, e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[key] = e
}

// Forget drops a workspace that no longer exists.
func (r *Roster) Forget(key mcreconcile.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, key)
}

// On returns the workspaces placed on cluster.
func (r *Roster) On(cluster string) []mcreconcile.Request {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []mcreconcile.Request
	for k, e := range r.entries {
		if e.Cluster == cluster {
			out = append(out, k)
		}
	}
	return out
}

// Unplaced returns the workspaces placed nowhere that ask to run (stopped ones are placed when
// they start, whatever the clusters do meanwhile).
func (r *Roster) Unplaced() []mcreconcile.Request {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []mcreconcile.Request
	for k, e := range r.entries {
		if e.Cluster == "" && e.Running {
			out = append(out, k)
		}
	}
	return out
}

// Committed returns the sum of the requests of the running workspaces placed on cluster,
// except the one called except (whose own placement is being decided).
func (r *Roster) Committed(cluster string, except mcreconcile.Request) corev1.ResourceList {
	r.mu.RLock()
	defer r.mu.RUnlock()
	total := corev1.ResourceList{}
	for k, e := range r.entries {
		if k == except || e.Cluster != cluster || !e.Running {
			continue
		}
		for name, q := range e.Requests {
			sum, ok := total[name]
			if !ok {
				sum = resource.Quantity{Format: q.Format}
			}
			sum.Add(q)
			total[name] = sum
		}
	}
	return total
}

// EntryOf returns the roster entry of ws as it is now.
func EntryOf(ws *workspacesv1alpha1.Workspace) Entry {
	return Entry{Cluster: ws.PlacedCluster(), Requests: Requests(ws), Running: !ws.IsStopped() && !ws.IsDeleting()}
}

// Requests returns what a running ws requests of its cluster: the requests of the pod its
// effective spec builds, init containers included (EffectiveWorkspaceSpec.PodRequests). A
// workspace never valid has no effective spec, is never placed and requests nothing.
func Requests(ws *workspacesv1alpha1.Workspace) corev1.ResourceList {
	if ws.Status.Effective == nil {
		return corev1.ResourceList{}
	}
	return ws.Status.Effective.PodRequests()
}
