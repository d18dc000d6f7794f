package cluster

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func healthy() *platformv1alpha1.ComputeCluster {
	hb := metav1.NewTime(now.Add(-4 * time.Second))
	return &platformv1alpha1.ComputeCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "east"},
		Spec:       platformv1alpha1.ComputeClusterSpec{Region: "eu"},
		Status: platformv1alpha1.ComputeClusterStatus{
			HeartbeatTime: &hb, Shards: []string{"https://10.0.0.1:6443/services/apiexport/abc/workspaces.atrium.dev", "shard-2"}, WorkspaceCount: 3, AgentVersion: "v0.1.0",
			Allocatable:      corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("128Gi")},
			Allocated:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("750m"), corev1.ResourceMemory: resource.MustParse("1536Mi")},
			AccessStrategies: []string{"ingress", "traefik"}, DefaultAccessStrategy: "traefik",
			Conditions: []metav1.Condition{{Type: "Ready", Status: "True", Reason: "HeartbeatCurrent"}},
		},
	}
}

func TestRow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*platformv1alpha1.ComputeCluster)
		wide   bool
		want   []string
	}{{
		name: "healthy",
		want: []string{"east", "True", "eu", "4s ago", "3", "750m/32", "1536Mi/128Gi", "10.0.0.1:6443,shard-2"},
	}, {
		name: "wide",
		wide: true,
		want: []string{"east", "True", "eu", "4s ago", "3", "750m/32", "1536Mi/128Gi", "10.0.0.1:6443,shard-2", "ingress,traefik(default)", "v0.1.0", "HeartbeatCurrent"},
	}, {
		name: "registered, never heard from, region from a label",
		mutate: func(c *platformv1alpha1.ComputeCluster) {
			c.Spec = platformv1alpha1.ComputeClusterSpec{}
			c.Labels = map[string]string{"region": "us"}
			c.Status = platformv1alpha1.ComputeClusterStatus{}
		},
		want: []string{"east", "Unknown", "us", "<never>", "0", "<none>", "<none>", "<none>"},
	}, {
		name: "expired and cordoned, nothing allocated",
		mutate: func(c *platformv1alpha1.ComputeCluster) {
			c.Spec.Unschedulable = true
			c.Status.Allocated = nil
			c.Status.Conditions[0].Status, c.Status.Conditions[0].Reason = "False", "HeartbeatExpired"
			c.Status.HeartbeatTime = &metav1.Time{Time: now.Add(-10 * time.Minute)}
		},
		want: []string{"east", "False,SchedulingDisabled", "eu", "10m ago", "3", "0/32", "0/128Gi", "10.0.0.1:6443,shard-2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := healthy()
			if tc.mutate != nil {
				tc.mutate(c)
			}
			require.Equal(t, tc.want, row(c, tc.wide, now))
		})
	}
}

func TestWriteTable(t *testing.T) {
	west := healthy()
	west.Name = "west"
	var out bytes.Buffer
	require.NoError(t, writeTable(&out, []platformv1alpha1.ComputeCluster{*west, *healthy()}, false, now))
	require.Equal(t, `NAME   READY   REGION   HEARTBEAT   WORKSPACES   CPU       MEMORY         SHARDS
east   True    eu       4s ago      3            750m/32   1536Mi/128Gi   10.0.0.1:6443,shard-2
west   True    eu       4s ago      3            750m/32   1536Mi/128Gi   10.0.0.1:6443,shard-2
`, out.String())
}
