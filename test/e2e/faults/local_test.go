package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/materialize"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// localObject is what a fault compares of one object a workspace has on its compute cluster:
// the same UID means the very object survived (not lost and recreated), the same generation
// that its spec was not touched.
type localObject struct {
	UID        types.UID
	Generation int64
	// Replicas of a Deployment; nil for other kinds.
	Replicas *int32
}

// localObjects returns the LocalWorkspace, Deployment, Service and PVC of each named workspace
// of the tenant on the compute cluster, keyed "<cluster> <Kind> <namespace>/<name>".
func localObjects(t *testing.T, ctx context.Context, cluster string, wsNames []string) map[string]localObject {
	t.Helper()
	c := localClient(t, cluster)
	want := map[string]bool{}
	for _, n := range wsNames {
		want[n] = true
	}
	mirrors := &computev1alpha1.LocalWorkspaceList{}
	require.NoError(t, c.List(ctx, mirrors), "list LocalWorkspaces on %s", cluster)
	out := map[string]localObject{}
	for i := range mirrors.Items {
		lw := &mirrors.Items[i]
		o := lw.Spec.Origin
		if o.LogicalCluster != orgCluster || o.Namespace != "default" || !want[o.Name] || lw.DeletionTimestamp != nil {
			continue
		}
		out[fmt.Sprintf("%s LocalWorkspace %s/%s", cluster, lw.Namespace, lw.Name)] = localObject{UID: lw.UID, Generation: lw.Generation}
		mine := []client.ListOption{client.InNamespace(lw.Namespace), client.MatchingLabels{materialize.WorkspaceLabel: lw.Name}}
		deployments := &appsv1.DeploymentList{}
		require.NoError(t, c.List(ctx, deployments, mine...))
		for _, d := range deployments.Items {
			out[fmt.Sprintf("%s Deployment %s/%s", cluster, d.Namespace, d.Name)] = localObject{UID: d.UID, Generation: d.Generation, Replicas: d.Spec.Replicas}
		}
		services := &corev1.ServiceList{}
		require.NoError(t, c.List(ctx, services, mine...))
		for _, s := range services.Items {
			out[fmt.Sprintf("%s Service %s/%s", cluster, s.Namespace, s.Name)] = localObject{UID: s.UID, Generation: s.Generation}
		}
		pvcs := &corev1.PersistentVolumeClaimList{}
		require.NoError(t, c.List(ctx, pvcs, mine...))
		for _, p := range pvcs.Items {
			out[fmt.Sprintf("%s PersistentVolumeClaim %s/%s", cluster, p.Namespace, p.Name)] = localObject{UID: p.UID}
		}
	}
	return out
}

// requireSameObjects fails unless every object of before is still there as the same object
// (same UID). With sameSpec, their generations must not have moved either.
func requireSameObjects(t *testing.T, before, after map[string]localObject, sameSpec bool) {
	t.Helper()
	for k, b := range before {
		a, ok := after[k]
		if !ok {
			t.Errorf("%s is gone", k)
			continue
		}
		if a.UID != b.UID {
			t.Errorf("%s was recreated (uid %s, was %s)", k, a.UID, b.UID)
		}
		if sameSpec && a.Generation != b.Generation {
			t.Errorf("%s was changed (generation %d, was %d)", k, a.Generation, b.Generation)
		}
	}
}

// hasKind reports whether the snapshot holds an object of the kind (a non-vacuous snapshot).
func hasKind(objs map[string]localObject, kind string) int {
	n := 0
	for k := range objs {
		if strings.Contains(k, " "+kind+" ") {
			n++
		}
	}
	return n
}

// runningPods counts the pods of a workspace's mirror that run and are not being deleted.
func runningPods(ctx context.Context, c client.Client, namespace, mirror string) (int, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{materialize.WorkspaceLabel: mirror}); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n, nil
}

// destructiveWrites returns the deletes that the agent, the garbage collector and the
// ReplicaSet controller (who removes pods on a scale-down) made on the compute cluster since
// mark to the objects of the mirrors in objs (a localObjects snapshot): the mirrors, their
// Deployments, ReplicaSets, pods, Services, PVCs and access resources; and every write of the
// agent to a Deployment's scale. What a partition must never cause.
func destructiveWrites(t *testing.T, cluster string, mark int, objs map[string]localObject) []testbed.AuditEvent {
	t.Helper()
	mirrors := map[string][]string{} // namespace -> mirror names
	for k := range objs {
		if f := strings.Fields(k); len(f) == 3 && f[1] == "LocalWorkspace" {
			ns, name, _ := strings.Cut(f[2], "/")
			mirrors[ns] = append(mirrors[ns], name)
		}
	}
	belongs := func(e testbed.AuditEvent) bool {
		if e.ObjectRef == nil {
			return false
		}
		names, ok := mirrors[e.ObjectRef.Namespace]
		if !ok {
			return false
		}
		if e.ObjectRef.Name == "" { // deletecollection
			return true
		}
		for _, m := range names {
			n := e.ObjectRef.Name
			if n == m || strings.HasPrefix(n, m+"-") || strings.HasSuffix(n, "-"+m) {
				return true
			}
		}
		return false
	}
	path := env.Cluster(cluster).AuditLogPath()
	var bad []testbed.AuditEvent
	for _, user := range []string{
		testbed.ComputeAgentUser,
		"system:serviceaccount:kube-system:generic-garbage-collector",
		"system:serviceaccount:kube-system:replicaset-controller",
	} {
		writes, err := testbed.Writes(path, user, mark)
		require.NoError(t, err)
		for _, w := range writes {
			scale := w.ObjectRef != nil && w.ObjectRef.Resource == "deployments" && w.ObjectRef.Subresource == "scale"
			if (w.Verb == "delete" || w.Verb == "deletecollection") && belongs(w) || scale && user == testbed.ComputeAgentUser {
				bad = append(bad, w)
			}
		}
	}
	return bad
}

// leads reports whether the agent replica holds its cluster's leader-election Lease, from
// controller-runtime's leader_election_master_status metric.
func leads(ctx context.Context, a *testbed.Agent, cluster string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.MetricsURL(), nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	// The Lease is named for the cluster (and the endpoint slice the agent follows).
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, `leader_election_master_status{name="atrium-agent-`+cluster) && strings.HasSuffix(line, "} 1") {
			return true, nil
		}
	}
	return false, nil
}

// agentReady reports whether the agent answers its /readyz with 200 (it is not ready while its
// heartbeats to the hub fail).
func agentReady(ctx context.Context, a *testbed.Agent) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.ReadyURL(), nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
