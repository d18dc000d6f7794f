package placement

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/clusterhealth"
)

// Need is what a workspace needs of a cluster.
type Need struct {
	// Shard is the virtual-workspace URL the workspace is seen through.
	Shard string
	// Selectors must all match the cluster's labels.
	Selectors []labels.Selector
	// AccessStrategy must be offered; "" needs the cluster's default strategy.
	AccessStrategy string
	// Requests must fit into the cluster's free capacity: the pod's, init containers included.
	Requests corev1.ResourceList
	// PodSecurityLevel is the Pod Security level the workspace's pod was checked against
	// (status.effective.podSecurityLevel). A baseline workspace fits only clusters whose
	// agents enforce baseline; a restricted one (or "", read as restricted) fits clusters
	// enforcing restricted or baseline. A cluster reporting no level fits nothing.
	PodSecurityLevel workspacesv1alpha1.PodSecurityLevel
	// Organization names the workspace's organization in messages (its name, else its
	// logical cluster); Organizations are every name a cluster's spec.organizations may give
	// it by (its name, when known, and its logical cluster).
	Organization  string
	Organizations []string
}

// OpenTo reports whether cc takes workspaces of an organization known by names.
func OpenTo(cc *platformv1alpha1.ComputeCluster, names []string) bool {
	if len(cc.Spec.Organizations) == 0 {
		return true
	}
	for _, n := range names {
		if n != "" && slices.Contains(cc.Spec.Organizations, n) {
			return true
		}
	}
	return false
}

// Candidate is a cluster with what the hub has committed to it.
type Candidate struct {
	Cluster *platformv1alpha1.ComputeCluster
	// Committed is the sum of the requests of running workspaces placed there by the hub.
	Committed corev1.ResourceList
}

// Choose returns the best fitting cluster, or "" and a message giving each cluster's reason.
func Choose(need Need, candidates []Candidate, now time.Time, grace time.Duration) (string, string) {
	if len(candidates) == 0 {
		return "", "no compute cluster is registered"
	}
	sorted := slices.Clone(candidates)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Cluster.Name < sorted[j].Cluster.Name })
	best, bestScore := "", 0.0
	var reasons []string
	closed := 0
	for _, c := range sorted {
		if !OpenTo(c.Cluster, need.Organizations) {
			closed++
			reasons = append(reasons, c.Cluster.Name+" is not open to organization "+need.Organization)
			continue
		}
		if why := misfit(need, c, now, grace); why != "" {
			reasons = append(reasons, c.Cluster.Name+" "+why)
			continue
		}
		if s := score(need, c); best == "" || s < bestScore {
			best, bestScore = c.Cluster.Name, s
		}
	}
	if best != "" {
		return best, ""
	}
	if closed == len(sorted) {
		return "", fmt.Sprintf("organization %s may use no compute cluster: ask the platform team to add it to the spec.organizations of a ComputeCluster", need.Organization)
	}
	noun := "clusters"
	if len(sorted) == 1 {
		noun = "cluster"
	}
	return "", fmt.Sprintf("%d %s: %s", len(sorted), noun, strings.Join(reasons, ", "))
}

// misfit returns why c does not fit need, or "".
func misfit(need Need, c Candidate, now time.Time, grace time.Duration) string {
	cc := c.Cluster
	if !cc.DeletionTimestamp.IsZero() {
		return "is being deleted"
	}
	if !clusterhealth.Health(cc, now, grace).Ready {
		return "not ready"
	}
	if cc.Spec.Unschedulable {
		return "is unschedulable"
	}
	if !cc.ServesShard(need.Shard) || !slices.Contains(cc.Status.Shards, need.Shard) {
		return "does not serve the workspace's shard"
	}
	if why := podSecurityMisfit(need.PodSecurityLevel, cc.Status.PodSecurity); why != "" {
		return why
	}
	set := labels.Set(cc.Labels)
	for _, s := range need.Selectors {
		if !s.Matches(set) {
			return fmt.Sprintf("does not match cluster selector %s", s.String())
		}
	}
	switch {
	case need.AccessStrategy == "" && cc.Status.DefaultAccessStrategy == "":
		return "has no default access strategy"
	case need.AccessStrategy == "" && !cc.OffersAccessStrategy(cc.Status.DefaultAccessStrategy):
		return "lacks its default access strategy " + cc.Status.DefaultAccessStrategy
	case need.AccessStrategy != "" && !cc.OffersAccessStrategy(need.AccessStrategy):
		return "lacks access strategy " + need.AccessStrategy
	}
	free := Free(c)
	for _, name := range sortedNames(need.Requests) {
		want := need.Requests[name]
		if want.IsZero() {
			continue
		}
		have, ok := free[name]
		if !ok {
			return fmt.Sprintf("lacks %s", name)
		}
		if have.Cmp(want) < 0 {
			return fmt.Sprintf("lacks capacity: %s %s requested, %s free", name, want.String(), have.String())
		}
	}
	return ""
}

// podSecurityMisfit says why a cluster whose agents enforce have cannot run a workspace checked
// against want, or "". A cluster that reports no level runs agents that do not label workspace
// namespaces for Pod Security: it offers no isolation, and nothing is placed there.
func podSecurityMisfit(want workspacesv1alpha1.PodSecurityLevel, have *platformv1alpha1.PodSecurityStatus) string {
	if want == "" {
		want = workspacesv1alpha1.PodSecurityLevelRestricted
	}
	if have == nil || have.Level == "" {
		return "reports no Pod Security level (its agent does not enforce Pod Security on workspace namespaces: upgrade it)"
	}
	switch {
	case have.Level == string(workspacesv1alpha1.PodSecurityLevelBaseline):
		return "" // runs restricted and baseline pods
	case have.Level == string(workspacesv1alpha1.PodSecurityLevelRestricted) && want == workspacesv1alpha1.PodSecurityLevelRestricted:
		return ""
	case have.Level == string(workspacesv1alpha1.PodSecurityLevelRestricted):
		return fmt.Sprintf("enforces Pod Security restricted, and the workspace's template needs %s", want)
	default:
		return fmt.Sprintf("enforces an unknown Pod Security level %q", have.Level)
	}
}

// Free is allocatable minus the larger of what the agent counts and what the hub committed.
func Free(c Candidate) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, alloc := range c.Cluster.Status.Allocatable {
		used := used(c, name)
		f := alloc.DeepCopy()
		f.Sub(used)
		if f.Sign() < 0 {
			f = resource.Quantity{Format: alloc.Format}
		}
		out[name] = f
	}
	return out
}

func used(c Candidate, name corev1.ResourceName) resource.Quantity {
	counted := c.Cluster.Status.Allocated[name]
	committed := c.Committed[name]
	if committed.Cmp(counted) > 0 {
		return committed.DeepCopy()
	}
	return counted.DeepCopy()
}

// score is the mean fraction of cpu and memory allocated after placing need; lower is better.
func score(need Need, c Candidate) float64 {
	sum, n := 0.0, 0
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		alloc, ok := c.Cluster.Status.Allocatable[name]
		if !ok || alloc.IsZero() {
			continue
		}
		u := used(c, name)
		u.Add(need.Requests[name])
		sum += float64(u.MilliValue()) / float64(alloc.MilliValue())
		n++
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
