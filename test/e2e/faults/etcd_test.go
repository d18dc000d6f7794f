package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// restartComputeEtcd kills the etcd of both compute clusters (SIGKILL, by PID) while the agents
// materialize a second wave of workspaces and one of the first wave is being stopped, and
// starts it again on the same data directory. Nothing that existed may be lost: every object
// of the first wave is still the same object afterwards (same UID), and the checker then finds
// both sides in agreement.
func restartComputeEtcd(t *testing.T, ctx context.Context) int {
	c := tenantClient(t)
	first := names("etcd", count(2, 4))
	require.NoError(t, createAll(ctx, c, first))
	waitAvailable(t, ctx, c, first, 3*time.Minute)
	before := map[string]localObject{}
	for _, cl := range []string{"east", "west"} {
		for k, o := range localObjects(t, ctx, cl, first) {
			before[k] = o
		}
	}
	require.Equal(t, len(first), hasKind(before, "PersistentVolumeClaim"), "every workspace of the first wave has its PVC: %v", before)

	second := names("etcd-late", count(2, 4))
	done := make(chan error, 1)
	go func() { done <- createAll(ctx, c, second) }()
	waitUntil(t, ctx, time.Minute, "a first mirror of the second wave appears", func(ctx context.Context) bool { return anyMirror(t, ctx, second) })
	require.NoError(t, <-done)

	for _, name := range []string{"east", "west"} {
		pid := env.Cluster(name).EtcdPID()
		require.NotZero(t, pid, "etcd of %s runs", name)
		require.NoError(t, env.Cluster(name).KillEtcd(), "kill etcd of %s", name)
		require.False(t, alive(pid), "etcd of %s (pid %d) is gone", name, pid)
	}
	// A change the agents cannot write until etcd is back.
	require.NoError(t, setDesired(ctx, c, first[0], workspacesv1alpha1.DesiredStatusStopped))
	// The API servers notice: they answer, but are not ready without their storage.
	for _, name := range []string{"east", "west"} {
		waitUntil(t, ctx, time.Minute, "kube-apiserver of "+name+" is not ready without etcd", func(ctx context.Context) bool {
			return !apiServerReady(t, ctx, name)
		})
	}
	for _, name := range []string{"east", "west"} {
		require.NoError(t, env.Cluster(name).StartEtcd(ctx), "start etcd of %s", name)
	}
	for _, name := range []string{"east", "west"} {
		waitUntil(t, ctx, 2*time.Minute, "kube-apiserver of "+name+" is ready again", func(ctx context.Context) bool {
			return apiServerReady(t, ctx, name)
		})
	}

	after := map[string]localObject{}
	for _, cl := range []string{"east", "west"} {
		for k, o := range localObjects(t, ctx, cl, first) {
			after[k] = o
		}
	}
	requireSameObjects(t, before, after, false)
	return len(first) + len(second)
}

// apiServerReady asks the compute cluster's kube-apiserver for /readyz.
func apiServerReady(t *testing.T, ctx context.Context, cluster string) bool {
	cs, err := kubernetes.NewForConfig(env.Cluster(cluster).Config)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err == nil && string(body) == "ok"
}
