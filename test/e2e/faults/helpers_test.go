package faults

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/test/testbed"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

var scheme = testbed.Scheme

func orgClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath(org)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func tenantClient(t *testing.T) client.Client {
	t.Helper()
	cfg, err := env.Hub.UserConfig(tenant, bootstrap.OrgPath(org))
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func localClient(t *testing.T, cluster string) client.Client {
	t.Helper()
	c, err := client.New(env.Cluster(cluster).Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// checker walks the organization and both compute clusters. Clients are made fresh, so they
// follow a restarted hub.
func checker(t *testing.T) *Checker {
	t.Helper()
	return &Checker{
		Orgs:             []Org{{LogicalCluster: orgCluster, Client: orgClient(t)}},
		Clusters:         map[string]client.Client{"east": localClient(t, "east"), "west": localClient(t, "west")},
		FinalizerTimeout: 3 * time.Minute,
	}
}

// newWorkspace is a small workspace of the tenant, with its owner annotation.
func newWorkspace(name string) *workspacesv1alpha1.Workspace {
	return &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: tenant}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			Image: "quay.io/jupyter/base-notebook:2025-06-01",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
		},
	}
}

// clusterLabel is set on every ComputeCluster of the suite (the agents' --labels), so a fault
// can put its workspaces on one cluster with a cluster selector.
const clusterLabel = "faults.atrium.dev/cluster"

// onCluster restricts a workspace to the named compute cluster.
func onCluster(cluster string) func(*workspacesv1alpha1.Workspace) {
	return func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.ClusterSelector = &metav1.LabelSelector{MatchLabels: map[string]string{clusterLabel: cluster}}
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// parallel runs f for every name at once and returns the first error.
func parallel(wsNames []string, f func(name string) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(wsNames))
	for i, n := range wsNames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(n)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// createAll creates the workspaces at once, each changed by the mutators (e.g. onCluster).
func createAll(ctx context.Context, c client.Client, wsNames []string, mutate ...func(*workspacesv1alpha1.Workspace)) error {
	return parallel(wsNames, func(n string) error {
		ws := newWorkspace(n)
		for _, m := range mutate {
			m(ws)
		}
		return retryTransient(ctx, func() error { return client.IgnoreAlreadyExists(c.Create(ctx, ws.DeepCopy())) })
	})
}

// waitAvailable waits until every named workspace is Available on the hub.
func waitAvailable(t *testing.T, ctx context.Context, c client.Client, wsNames []string, timeout time.Duration) {
	t.Helper()
	waitUntil(t, ctx, timeout, fmt.Sprintf("workspaces %v are Available", wsNames), func(ctx context.Context) bool {
		for _, n := range wsNames {
			ws := &workspacesv1alpha1.Workspace{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: n}, ws); err != nil || !ws.IsAvailable() {
				return false
			}
		}
		return true
	})
}

// setDesired sets spec.desiredStatus with a merge patch, retried on transient errors (a
// restarting hub).
func setDesired(ctx context.Context, c client.Client, name string, d workspacesv1alpha1.DesiredStatus) error {
	return retryTransient(ctx, func() error {
		ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		patch := client.RawPatch("application/merge-patch+json", []byte(fmt.Sprintf(`{"spec":{"desiredStatus":%q}}`, d)))
		return c.Patch(ctx, ws, patch)
	})
}

func deleteAll(ctx context.Context, c client.Client, wsNames []string) error {
	return parallel(wsNames, func(n string) error {
		return retryTransient(ctx, func() error {
			return client.IgnoreNotFound(c.Delete(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: n}}))
		})
	})
}

// retryTransient retries f while the hub answers with connection errors or server errors, for
// up to a minute.
func retryTransient(ctx context.Context, f func() error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		last = f()
		if last == nil {
			return true, nil
		}
		if apierrors.IsConflict(last) || apierrors.IsServerTimeout(last) || apierrors.IsTooManyRequests(last) ||
			apierrors.IsInternalError(last) || apierrors.IsServiceUnavailable(last) || isConnError(last) {
			return false, nil
		}
		return false, last
	})
	if err != nil && last != nil {
		return last
	}
	return err
}

func isConnError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "EOF") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "no such host") || strings.Contains(s, "i/o timeout") || strings.Contains(s, "the server is currently unable")
}

// waitGone waits until none of the workspaces exists on the hub.
func waitGone(ctx context.Context, c client.Client, wsNames []string, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, n := range wsNames {
			err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: n}, &workspacesv1alpha1.Workspace{})
			if !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	})
}

// alive reports whether the process with pid runs.
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// retryConflict retries a read-modify-write on conflicts for up to two minutes: several
// editors, a flipper, the hub and an agent all write the same object, and an editor that lost the
// race reads again and retries, as kubectl edit's user would. (A capped wait.Backoff gives up as
// soon as it reaches its cap, after about 3 s, which a 100-flip burst outlasts.)
func retryConflict(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := f()
		if !apierrors.IsConflict(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait.Jitter(20*time.Millisecond, 2)):
		}
	}
}
