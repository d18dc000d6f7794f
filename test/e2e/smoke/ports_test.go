package smoke

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/atrium-dev/atrium/test/testbed"
)

// TestComputeClusterStartsThroughPortCollisions: the ports the test bed hands out first for a
// compute cluster's etcd peer and kube-apiserver are taken by another program (listeners of
// this test), as they were when a kcp cache server died with "bind: address already in use"
// (issue #17). etcd and then the API server fail to bind; the cluster is started again on
// fresh ports each time, and then runs a pod.
func TestComputeClusterStartsThroughPortCollisions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	taken := map[int]bool{}
	picks := 0
	pick := func() (int, error) {
		picks++
		// The ports are picked in ports.json order: etcd client, etcd peer, API server, ...
		if picks == 2 || picks == 3 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return 0, err
			}
			t.Cleanup(func() { _ = l.Close() })
			port := l.Addr().(*net.TCPAddr).Port
			taken[port] = true
			return port, nil
		}
		return testbed.HoldPort()
	}
	dir := t.TempDir()
	c, err := testbed.StartComputeCluster(ctx, "collide", testbed.ComputeClusterOptions{Dir: dir, Nodes: 1, PickPort: pick})
	require.NoError(t, err, "the cluster starts although two of its ports were taken")
	defer func() { require.NoError(t, c.Stop()) }()

	u, err := url.Parse(c.Config.Host)
	require.NoError(t, err)
	apiPort, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	require.False(t, taken[apiPort], "the API server moved off its taken port")
	require.Equal(t, 8, picks, "six ports, two of them replaced")

	for _, log := range []string{"collide-etcd.log", "collide-kube-apiserver.log"} {
		data, err := os.ReadFile(filepath.Join(c.LogDir(), log))
		require.NoError(t, err)
		require.Contains(t, string(data), "address already in use", "%s shows the collision", log)
	}

	// It works: a pod is scheduled onto the kwok node and runs.
	cs, err := kubernetes.NewForConfig(c.Config)
	require.NoError(t, err)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "after-collisions", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "ide", Image: "quay.io/jupyter/base-notebook:latest"}}},
	}
	_, err = cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.CoreV1().Pods("default").Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		pod = got
		return got.Status.Phase == corev1.PodRunning, nil
	})
	require.NoError(t, err, "the pod did not run: %s", describePods([]corev1.Pod{*pod}))
}
