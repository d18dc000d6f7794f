package workspace

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// capacity is the placement phase's view of the hub Workspaces of every logical cluster: where
// each is placed and what it asks for, with a running sum per compute cluster, so a decision
// reads what the hub committed to a cluster in constant time. ComputeClusters live in
// root:atrium and Workspaces in the organizations' logical clusters, so a ComputeCluster event
// cannot name its workspaces through a cache: the index lets it requeue exactly the workspaces
// a cluster change concerns (those placed on it, and the unplaced ones asking to run).
//
// Every reconcile records the workspace as read; a placement decided but not yet in the cache
// is recorded by reserve and stays until the status write fails (giveBack) or the cache shows
// a newer version.
type capacity struct {
	mu      sync.Mutex
	entries map[mcreconcile.Request]capacityEntry
	// committed sums the requests of the running workspaces placed on each cluster.
	committed map[string]corev1.ResourceList
	// on holds the workspaces placed on each cluster; unplaced those placed nowhere that ask
	// to run.
	on       map[string]map[mcreconcile.Request]struct{}
	unplaced map[mcreconcile.Request]struct{}
}

// capacityEntry is what capacity knows about one workspace.
type capacityEntry struct {
	// cluster is the compute cluster it is placed on; "" when unplaced.
	cluster string
	// requests are the resources it asks for while running.
	requests corev1.ResourceList
	// running is false when it is stopped or deleting (and so holds no compute resources).
	running bool
}

// reservation is a placement decided and not yet confirmed by the status write.
type reservation struct {
	key mcreconcile.Request
	// previous is the entry before the reservation, restored by giveBack.
	previous capacityEntry
	had      bool
}

func newCapacity() *capacity {
	return &capacity{
		entries:   map[mcreconcile.Request]capacityEntry{},
		committed: map[string]corev1.ResourceList{},
		on:        map[string]map[mcreconcile.Request]struct{}{},
		unplaced:  map[mcreconcile.Request]struct{}{},
	}
}

// entryOf is the entry of ws as it is now.
func entryOf(ws *workspacesv1alpha1.Workspace) capacityEntry {
	return capacityEntry{cluster: ws.PlacedCluster(), requests: requestsOf(ws), running: !ws.IsStopped() && !ws.IsDeleting()}
}

// requestsOf returns what a running ws requests of its cluster: the requests of the pod its
// effective spec builds, init containers included (EffectiveWorkspaceSpec.PodRequests). A
// workspace never valid has no effective spec, is never placed and requests nothing.
func requestsOf(ws *workspacesv1alpha1.Workspace) corev1.ResourceList {
	if ws.Status.Effective == nil {
		return corev1.ResourceList{}
	}
	return ws.Status.Effective.PodRequests()
}

// observe records ws as read.
func (c *capacity) observe(key mcreconcile.Request, ws *workspacesv1alpha1.Workspace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(key, entryOf(ws))
}

// forget drops a workspace that no longer exists.
func (c *capacity) forget(key mcreconcile.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unset(key)
}

// reserve records key as running on cluster with requests; call it under the decision lock
// that chose cluster.
func (c *capacity) reserve(key mcreconcile.Request, cluster string, requests corev1.ResourceList) *reservation {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, had := c.entries[key]
	c.set(key, capacityEntry{cluster: cluster, requests: requests, running: true})
	return &reservation{key: key, previous: prev, had: had}
}

// giveBack undoes a reservation whose placement was not written.
func (c *capacity) giveBack(res *reservation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res.had {
		c.set(res.key, res.previous)
	} else {
		c.unset(res.key)
	}
}

// placedOn returns the workspaces placed on cluster.
func (c *capacity) placedOn(cluster string) []mcreconcile.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]mcreconcile.Request, 0, len(c.on[cluster]))
	for k := range c.on[cluster] {
		out = append(out, k)
	}
	return out
}

// waiting returns the workspaces placed nowhere that ask to run (stopped ones are placed when
// they start, whatever the clusters do meanwhile).
func (c *capacity) waiting() []mcreconcile.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]mcreconcile.Request, 0, len(c.unplaced))
	for k := range c.unplaced {
		out = append(out, k)
	}
	return out
}

// committedTo returns the sum of the requests of the running workspaces placed on cluster,
// except the one called except (whose own placement is being decided).
func (c *capacity) committedTo(cluster string, except mcreconcile.Request) corev1.ResourceList {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := corev1.ResourceList{}
	for name, q := range c.committed[cluster] {
		total[name] = q.DeepCopy()
	}
	if e, ok := c.entries[except]; ok && e.cluster == cluster && e.running {
		subtract(total, e.requests)
	}
	return total
}

func (c *capacity) set(key mcreconcile.Request, e capacityEntry) {
	c.unset(key)
	c.entries[key] = e
	switch {
	case e.cluster == "" && e.running:
		c.unplaced[key] = struct{}{}
	case e.cluster != "":
		if c.on[e.cluster] == nil {
			c.on[e.cluster] = map[mcreconcile.Request]struct{}{}
		}
		c.on[e.cluster][key] = struct{}{}
		if e.running {
			sum := c.committed[e.cluster]
			if sum == nil {
				sum = corev1.ResourceList{}
				c.committed[e.cluster] = sum
			}
			add(sum, e.requests)
		}
	}
}

func (c *capacity) unset(key mcreconcile.Request) {
	e, ok := c.entries[key]
	if !ok {
		return
	}
	delete(c.entries, key)
	delete(c.unplaced, key)
	if e.cluster == "" {
		return
	}
	delete(c.on[e.cluster], key)
	if len(c.on[e.cluster]) == 0 {
		delete(c.on, e.cluster)
	}
	if e.running {
		subtract(c.committed[e.cluster], e.requests)
	}
}

func add(sum, l corev1.ResourceList) {
	for name, q := range l {
		s, ok := sum[name]
		if !ok {
			s = resource.Quantity{Format: q.Format}
		}
		s.Add(q)
		sum[name] = s
	}
}

func subtract(sum, l corev1.ResourceList) {
	for name, q := range l {
		if s, ok := sum[name]; ok {
			s.Sub(q)
			sum[name] = s
		}
	}
}
