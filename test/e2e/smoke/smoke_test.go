package smoke

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/atrium-dev/atrium/internal/kcp"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestHubServesLogicalClusters creates two kcp workspaces and shows that an object written in
// one is read back there and is invisible in the other: only a real kcp does that.
func TestHubServesLogicalClusters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := logicalcluster.NewPath("root")

	one, err := env.Hub.CreateWorkspace(ctx, root, "smoke-one", kcp.WorkspaceOptions{})
	require.NoError(t, err)
	two, err := env.Hub.CreateWorkspace(ctx, root, "smoke-two", kcp.WorkspaceOptions{})
	require.NoError(t, err)

	csOne, err := kubernetes.NewForConfig(env.Hub.ClusterConfig(one))
	require.NoError(t, err)
	csTwo, err := kubernetes.NewForConfig(env.Hub.ClusterConfig(two))
	require.NoError(t, err)

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"}, Data: map[string]string{"greeting": "from " + one.String()}}
	_, err = csOne.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
	require.NoError(t, err)

	got, err := csOne.CoreV1().ConfigMaps("default").Get(ctx, "hello", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "from root:smoke-one", got.Data["greeting"])

	_, err = csTwo.CoreV1().ConfigMaps("default").Get(ctx, "hello", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "a ConfigMap of %s must not be visible in %s, got err=%v", one, two, err)
}

// TestHubAuthenticatesTenants shows the token file is live: a known user is authenticated
// (and, without grants, forbidden), an unknown token is rejected.
func TestHubAuthenticatesTenants(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := env.Hub.UserConfig("alice", logicalcluster.NewPath("root"))
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	_, err = cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "alice has no grants in root; want Forbidden, got %v", err)
	require.Contains(t, err.Error(), `"alice"`)

	cfg.BearerToken = "not-a-valid-token"
	cs, err = kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	_, err = cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsUnauthorized(err), "want Unauthorized for an unknown token, got %v", err)
}

// TestComputeClusterRunsPods creates a Deployment and waits until the scheduler has bound its
// pods to kwok nodes and kwok has made them Running.
func TestComputeClusterRunsPods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	east := env.Cluster("east")
	cs, err := kubernetes.NewForConfig(east.Config)
	require.NoError(t, err)

	labels := map[string]string{"app": "smoke"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "ide",
					Image: "quay.io/jupyter/base-notebook:latest",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: *resourceMust("500m"),
					}},
				}}},
			},
		},
	}
	_, err = cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{})
	require.NoError(t, err)

	var pods []corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=smoke"})
		if err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		running := 0
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		pods = list.Items
		return running == 2, nil
	})
	require.NoError(t, err, "pods did not become Running: %s", describePods(pods))

	for _, p := range pods {
		require.NotEmpty(t, p.Spec.NodeName, "pod %s has no node", p.Name)
		node, err := cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, "fake", node.Annotations[testbed.KwokNodeAnnotation], "pod %s runs on %s, which is not a kwok node", p.Name, node.Name)
		require.True(t, podCondition(&p, corev1.PodScheduled), "pod %s was not bound by the scheduler", p.Name)
		require.True(t, podCondition(&p, corev1.PodReady), "kwok did not make pod %s Ready", p.Name)
	}

	// The components really are our processes, by PID.
	for name, pid := range map[string]int{"kube-apiserver": east.APIServerPID(), "kube-scheduler": east.SchedulerPID(), "kwok": east.KwokPID(), "kcp": env.Hub.PID()} {
		require.NotZero(t, pid, "%s is not running", name)
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		require.NoError(t, err)
		require.Equal(t, name, filepath.Base(exe))
	}
}

// TestComputeClusterOutageIsVisible stops the kube-apiserver and shows clients see the outage,
// then starts it again and shows the data survived (etcd kept running).
func TestComputeClusterOutageIsVisible(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	east := env.Cluster("east")
	cs, err := kubernetes.NewForConfig(east.Config)
	require.NoError(t, err)
	_, err = cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, east.StopAPIServer())
	t.Cleanup(func() {
		if east.APIServerPID() == 0 {
			_ = east.StartAPIServer(context.Background())
		}
	})
	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	_, err = cs.CoreV1().ConfigMaps("default").Get(short, "survivor", metav1.GetOptions{})
	cancelShort()
	require.Error(t, err, "the API server is stopped; the request must fail")
	require.True(t, strings.Contains(err.Error(), "connection refused"), "want connection refused, got %v", err)

	require.NoError(t, east.StartAPIServer(ctx))
	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "survivor", got.Name)
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func describePods(pods []corev1.Pod) string {
	var parts []string
	for _, p := range pods {
		parts = append(parts, fmt.Sprintf("%s phase=%s node=%q", p.Name, p.Status.Phase, p.Spec.NodeName))
	}
	if len(parts) == 0 {
		return "no pods"
	}
	return strings.Join(parts, "; ")
}

func resourceMust(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}
