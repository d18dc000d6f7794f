package placement

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

const shard = "https://kcp:6443/services/apiexport/root:atrium/workspaces.atrium.dev"

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func rl(cpu, mem string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
}

func cluster(name string, mutate ...func(*platformv1alpha1.ComputeCluster)) *platformv1alpha1.ComputeCluster {
	cc := &platformv1alpha1.ComputeCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"region": name}},
		Status: platformv1alpha1.ComputeClusterStatus{
			HeartbeatTime: &metav1.Time{Time: now.Add(-time.Second)}, Shards: []string{shard},
			Allocatable: rl("4", "16Gi"), Allocated: rl("0", "0"),
			AccessStrategies: []string{"loopback"}, DefaultAccessStrategy: "loopback",
			PodSecurity: &platformv1alpha1.PodSecurityStatus{Level: "restricted", Version: "v1.35"},
		},
	}
	for _, m := range mutate {
		m(cc)
	}
	return cc
}

func TestChoose(t *testing.T) {
	need := Need{Shard: shard, Requests: rl("1", "1Gi")}
	cases := []struct {
		name       string
		need       Need
		candidates []Candidate
		want       string
		message    string
	}{
		{"no clusters", need, nil, "", "no compute cluster is registered"},
		{"least allocated wins", need, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Status.Allocated = rl("2", "8Gi") })},
			{Cluster: cluster("west")},
		}, "west", ""},
		{"hub commitments count before the heartbeat does", need, []Candidate{
			{Cluster: cluster("east")},
			{Cluster: cluster("west"), Committed: rl("3", "1Gi")},
		}, "east", ""},
		{"full cluster is skipped", need, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Status.Allocated = rl("3500m", "1Gi") })},
			{Cluster: cluster("west", func(c *platformv1alpha1.ComputeCluster) { c.Status.Allocated = rl("2", "1Gi") })},
		}, "west", ""},
		{"per-cluster reasons", Need{Shard: shard, AccessStrategy: "traefik", Requests: rl("1", "1Gi")}, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) {
				c.Status.HeartbeatTime = &metav1.Time{Time: now.Add(-time.Minute)}
			})},
			{Cluster: cluster("west")},
		}, "", "2 clusters: east not ready, west lacks access strategy traefik"},
		{"selector, shard, drain and capacity", Need{Shard: shard, Selectors: []labels.Selector{labels.SelectorFromSet(labels.Set{"region": "north"})}, Requests: rl("1", "1Gi")}, []Candidate{
			{Cluster: cluster("a", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Unschedulable = true })},
			{Cluster: cluster("b", func(c *platformv1alpha1.ComputeCluster) { c.Status.Shards = nil })},
			{Cluster: cluster("c")},
			{Cluster: cluster("north", func(c *platformv1alpha1.ComputeCluster) { c.Status.Allocated = rl("3500m", "1Gi") })},
		}, "", "4 clusters: a is unschedulable, b does not serve the workspace's shard, c does not match cluster selector region=north, north lacks capacity: cpu 1 requested, 500m free"},
		{"extended resources", Need{Shard: shard, Requests: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}, []Candidate{
			{Cluster: cluster("cpu-only")},
			{Cluster: cluster("gpu", func(c *platformv1alpha1.ComputeCluster) {
				c.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("2")
			})},
		}, "gpu", ""},
		{"spec.shards restricts", need, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Shards = []string{"https://other"} })},
		}, "", "1 cluster: east does not serve the workspace's shard"},
		{"default strategy needed", Need{Shard: shard, Requests: rl("1", "1Gi")}, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Status.DefaultAccessStrategy = "" })},
		}, "", "1 cluster: east has no default access strategy"},
		{"restricted workspaces fit restricted and baseline clusters", need, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Status.PodSecurity.Level = "baseline" })},
		}, "east", ""},
		{"baseline workspaces fit baseline clusters only", Need{Shard: shard, Requests: rl("1", "1Gi"), PodSecurityLevel: workspacesv1alpha1.PodSecurityLevelBaseline}, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Status.PodSecurity.Level = "baseline" })},
			{Cluster: cluster("west")},
		}, "east", ""},
		{"no cluster enforces baseline", Need{Shard: shard, Requests: rl("1", "1Gi"), PodSecurityLevel: workspacesv1alpha1.PodSecurityLevelBaseline}, []Candidate{
			{Cluster: cluster("west")},
		}, "", "1 cluster: west enforces Pod Security restricted, and the workspace's template needs baseline"},
		{"a cluster without Pod Security takes nothing", need, []Candidate{
			{Cluster: cluster("old", func(c *platformv1alpha1.ComputeCluster) { c.Status.PodSecurity = nil })},
		}, "", "1 cluster: old reports no Pod Security level (its agent does not enforce Pod Security on workspace namespaces: upgrade it)"},
		{"clusters open to some organizations", Need{Shard: shard, Requests: rl("1", "1Gi"), Organization: "acme", Organizations: []string{"acme", "1x2y"}}, []Candidate{
			{Cluster: cluster("beta-only", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Organizations = []string{"beta"} })},
			{Cluster: cluster("by-logical-cluster", func(c *platformv1alpha1.ComputeCluster) {
				c.Spec.Organizations = []string{"1x2y"}
				c.Status.Allocated = rl("1", "1Gi")
			})},
			{Cluster: cluster("open-full", func(c *platformv1alpha1.ComputeCluster) { c.Status.Allocated = rl("3500m", "1Gi") })},
		}, "by-logical-cluster", ""},
		{"an organization closed out of some clusters hears each reason", Need{Shard: shard, Requests: rl("1", "1Gi"), Organization: "acme", Organizations: []string{"acme"}}, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Organizations = []string{"beta"} })},
			{Cluster: cluster("west", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Unschedulable = true })},
		}, "", "2 clusters: east is not open to organization acme, west is unschedulable"},
		{"an organization no cluster is open to is told so", Need{Shard: shard, Requests: rl("1", "1Gi"), Organization: "acme", Organizations: []string{"acme"}}, []Candidate{
			{Cluster: cluster("east", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Organizations = []string{"beta"} })},
			{Cluster: cluster("west", func(c *platformv1alpha1.ComputeCluster) { c.Spec.Organizations = []string{"beta", "gamma"} })},
		}, "", "organization acme may use no compute cluster: ask the platform team to add it to the spec.organizations of a ComputeCluster"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := Choose(tc.need, tc.candidates, now, 40*time.Second)
			if got != tc.want || msg != tc.message {
				t.Errorf("got %q %q, want %q %q", got, msg, tc.want, tc.message)
			}
		})
	}
}

func TestEvictionDue(t *testing.T) {
	lost := func(age time.Duration, mode platformv1alpha1.EvictionMode) *platformv1alpha1.ComputeCluster {
		return cluster("east", func(c *platformv1alpha1.ComputeCluster) {
			c.Status.HeartbeatTime = &metav1.Time{Time: now.Add(-age)}
			c.Spec.EvictionPolicy = &platformv1alpha1.EvictionPolicy{Mode: mode, GracePeriodMinutes: ptr.To(int32(5))}
		})
	}
	stopped := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{DesiredStatus: workspacesv1alpha1.DesiredStatusStopped}}
	running := &workspacesv1alpha1.Workspace{}
	grace := 40 * time.Second
	cases := []struct {
		name     string
		cc       *platformv1alpha1.ComputeCluster
		ws       *workspacesv1alpha1.Workspace
		override time.Duration
		evict    bool
		wait     time.Duration
	}{
		{"no policy", cluster("east"), stopped, 0, false, 0},
		{"never", lost(time.Hour, platformv1alpha1.EvictionModeNever), stopped, 0, false, 0},
		{"stopped after grace", lost(grace+5*time.Minute, platformv1alpha1.EvictionModeReschedule), stopped, 0, true, 0},
		{"running never", lost(time.Hour, platformv1alpha1.EvictionModeReschedule), running, 0, false, 0},
		{"before grace", lost(grace+time.Minute, platformv1alpha1.EvictionModeReschedule), stopped, 0, false, 4 * time.Minute},
		{"override", lost(grace+10*time.Second, platformv1alpha1.EvictionModeReschedule), stopped, 5 * time.Second, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evict, wait := EvictionDue(tc.cc, tc.ws, now, grace, tc.override)
			if evict != tc.evict || wait != tc.wait {
				t.Errorf("got %v %s, want %v %s", evict, wait, tc.evict, tc.wait)
			}
		})
	}
}
