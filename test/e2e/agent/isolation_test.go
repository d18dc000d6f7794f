/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package agent

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/confine"
	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/statusapply"
	"github.com/atrium-dev/atrium/hub/templates"
	"github.com/atrium-dev/atrium/test/testbed"
)

// podSecurityVersion is what the agent pins Pod Security to on cluster: its minor version.
func podSecurityVersion(t *testing.T, cluster string) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Cluster(cluster).Config)
	require.NoError(t, err)
	info, err := cs.Discovery().ServerVersion()
	require.NoError(t, err)
	v, err := confine.PodSecurityVersion(info.GitVersion)
	require.NoError(t, err)
	return v
}

// confinedBy reports whether namespace ns on c carries the agent's default confinement.
func confinedBy(ctx context.Context, c client.Client, ns, version string) (bool, error) {
	n := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
		return false, err
	}
	if n.Labels[mirror.LabelManagedBy] != mirror.ManagedByAgent {
		return false, nil
	}
	for _, mode := range []string{"enforce", "warn", "audit"} {
		if n.Labels["pod-security.kubernetes.io/"+mode] != "restricted" || n.Labels["pod-security.kubernetes.io/"+mode+"-version"] != version {
			return false, nil
		}
	}
	for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &corev1.ResourceQuota{}, &corev1.LimitRange{}} {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: confine.ObjectName}, obj); err != nil {
			return false, client.IgnoreNotFound(err)
		}
	}
	return true, nil
}

// TestWorkspaceNamespacesConfined: the namespace the agent creates for a workspace is confined
// by the real agent with its default flags (Pod Security restricted pinned to the cluster's
// minor version, NetworkPolicy, ResourceQuota, LimitRange), drift is repaired, the cluster's
// own PodSecurity admission refuses a privileged pod there, the workspace's pod has no
// service-account token, and the ComputeCluster advertises the level.
//
// kwok runs no containers and the test bed has no network plugin: the NetworkPolicy is checked
// as the API server stores it; connection attempts between pods cannot be made here.
func TestWorkspaceNamespacesConfined(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	createWorkspace(t, "bob", "beta", newWorkspace("confined-nb"), "west")
	waitHub(t, "beta", "confined-nb", 2*time.Minute, "becomes Available", available)
	lc, ns, version := localClient(t, "west"), localNamespace(t, "beta"), podSecurityVersion(t, "west")
	require.Equal(t, "v1.35", version, "the test bed runs Kubernetes v1.35")

	ok, err := confinedBy(ctx, lc, ns, version)
	require.NoError(t, err)
	require.True(t, ok, "the workspace namespace %s is confined", ns)

	np := &networkingv1.NetworkPolicy{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: confine.ObjectName}, np))
	require.Equal(t, "ingress-nginx", np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
	require.Equal(t, "atrium-system", np.Spec.Ingress[0].From[1].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
	require.Contains(t, np.Spec.Egress[1].To[0].IPBlock.Except, "169.254.0.0/16")

	pods := &corev1.PodList{}
	require.NoError(t, lc.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"atrium.dev/workspace": "confined-nb"}))
	require.Len(t, pods.Items, 1)
	require.False(t, *pods.Items[0].Spec.AutomountServiceAccountToken, "no service-account token")
	for _, v := range pods.Items[0].Spec.Volumes {
		require.Nil(t, v.Projected, "no projected token volume")
	}

	hostile := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hostile", Namespace: ns},
		Spec: corev1.PodSpec{
			Containers:  []corev1.Container{{Name: "x", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}},
			HostNetwork: true,
		},
	}
	err = lc.Create(ctx, hostile)
	require.True(t, apierrors.IsForbidden(err), "got %v, want Forbidden", err)
	require.ErrorContains(t, err, `violates PodSecurity "restricted:`+version+`"`)

	// Drift: a weakened label and a deleted policy come back.
	n := &corev1.Namespace{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Name: ns}, n))
	n.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	delete(n.Labels, "pod-security.kubernetes.io/enforce-version")
	require.NoError(t, lc.Update(ctx, n))
	require.NoError(t, lc.Delete(ctx, np))
	waitLocal(t, time.Minute, "the agent repairs the namespace's confinement", func(ctx context.Context) (bool, error) {
		ok, err := confinedBy(ctx, lc, ns, version)
		if !ok || err != nil {
			return false, err
		}
		got := &networkingv1.NetworkPolicy{}
		err = lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: confine.ObjectName}, got)
		return err == nil && got.UID != np.UID, err
	})

	// The level is advertised for placement.
	hub, err := client.New(env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	waitLocal(t, time.Minute, "ComputeCluster west reports status.podSecurity", func(ctx context.Context) (bool, error) {
		cc := &platformv1alpha1.ComputeCluster{}
		if err := hub.Get(ctx, client.ObjectKey{Name: "west"}, cc); err != nil {
			return false, err
		}
		return cc.Status.PodSecurity != nil && cc.Status.PodSecurity.Level == "restricted" && cc.Status.PodSecurity.Version == version, nil
	})
}

// TestAdoptedNamespaceIsConfined: a local namespace of the right name that someone else created
// (with a weakened Pod Security label) is adopted: labelled as the agent's and confined before
// the workspace runs in it.
func TestAdoptedNamespaceIsConfined(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hubNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "adopted"}}
	require.NoError(t, client.IgnoreAlreadyExists(orgClient(t, "beta").Create(ctx, hubNS)))
	lc, version := localClient(t, "west"), podSecurityVersion(t, "west")
	ns := mirror.Namespace(logicalCluster(t, "beta"), "adopted")
	require.NoError(t, lc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "privileged", "team": "platform",
	}}}))

	ws := newWorkspace("adopted-nb")
	ws.Namespace = "adopted"
	createWorkspace(t, "bob", "beta", ws, "west")
	waitLocal(t, 2*time.Minute, "the adopted namespace is confined and the workspace runs there", func(ctx context.Context) (bool, error) {
		ok, err := confinedBy(ctx, lc, ns, version)
		if !ok || err != nil {
			return false, err
		}
		lw := &computev1alpha1.LocalWorkspace{}
		if err := lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "adopted-nb"}, lw); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(lw.Status.Conditions, string(workspacesv1alpha1.ConditionAvailable)), nil
	})
	n := &corev1.Namespace{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Name: ns}, n))
	require.Equal(t, "platform", n.Labels["team"], "the adopter keeps the labels of others")
}

// TestNothingRunsWithoutEffective: a placed workspace the hub has not resolved (no
// status.effective) gets nothing on the compute cluster, not even the agent's finalizer; once
// the hub resolves it, it runs.
func TestNothingRunsWithoutEffective(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ws := newWorkspace("unresolved-nb")
	require.NoError(t, tenantClient(t, "bob", "beta").Create(ctx, ws))
	place(t, "beta", ws, "west")

	// The agent saw it and decided to wait (its debug log says so).
	waitLocal(t, time.Minute, "west's agent waits for the hub's effective spec", func(context.Context) (bool, error) {
		raw, err := os.ReadFile(agents["west"].LogPath())
		if err != nil {
			return false, err
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.Contains(line, "waiting for the hub's effective spec") && strings.Contains(line, "unresolved-nb") {
				return true, nil
			}
		}
		return false, nil
	})
	got := &workspacesv1alpha1.Workspace{}
	require.NoError(t, orgClient(t, "beta").Get(ctx, client.ObjectKeyFromObject(ws), got))
	require.NotContains(t, got.Finalizers, workspacesv1alpha1.AgentFinalizer("west"), "no finalizer before the hub validated anything")
	ok, err := exists(ctx, localClient(t, "west"), &computev1alpha1.LocalWorkspace{}, localNamespace(t, "beta"), "unresolved-nb")
	require.NoError(t, err)
	require.False(t, ok, "no mirror of a workspace without status.effective")

	resolve(t, "beta", ws)
	waitHub(t, "beta", "unresolved-nb", 2*time.Minute, "runs once resolved", available)
}

// TestInvalidEditChangesNothing: a tenant's edit the hub refuses (bigger limits, another service
// account, another access strategy: Valid=False, status.effective kept) changes nothing on the
// compute cluster: the Deployment keeps its generation and the compute API server's audit log
// shows no write of the agent to the workspace's objects. A valid edit then rolls out.
func TestInvalidEditChangesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	createWorkspace(t, "bob", "beta", newWorkspace("edit-nb"), "west")
	waitHub(t, "beta", "edit-nb", 2*time.Minute, "becomes Available", available)
	lc, ns := localClient(t, "west"), localNamespace(t, "beta")
	before := &appsv1.Deployment{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edit-nb"}, before))
	mark, err := testbed.AuditMark(env.Cluster("west").AuditLogPath())
	require.NoError(t, err)

	tenant := tenantClient(t, "bob", "beta")
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, tenant.Get(ctx, client.ObjectKey{Namespace: "default", Name: "edit-nb"}, ws))
	patch := client.MergeFrom(ws.DeepCopy())
	ws.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resourceQuantity("64"), corev1.ResourceMemory: resourceQuantity("512Gi")}
	ws.Spec.ServiceAccountName = "cluster-admin-sa"
	ws.Spec.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: "elsewhere"}
	require.NoError(t, tenant.Patch(ctx, ws, patch))
	refuse(t, "beta", ws, "spec.resources.limits.cpu 64 exceeds the template's maximum 4")

	// The agent has seen the edit once the hub's status reports its generation.
	waitHub(t, "beta", "edit-nb", time.Minute, "the agent observed the refused generation", func(got *workspacesv1alpha1.Workspace) bool {
		return got.Generation == ws.Generation && got.Status.ObservedGeneration == ws.Generation && available(got)
	})
	after := &appsv1.Deployment{}
	require.NoError(t, lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edit-nb"}, after))
	require.Equal(t, before.Generation, after.Generation, "same Deployment generation")
	require.Equal(t, before.Spec.Template.Spec.ServiceAccountName, after.Spec.Template.Spec.ServiceAccountName)
	writes, err := testbed.Writes(env.Cluster("west").AuditLogPath(), testbed.ComputeAgentUser, mark)
	require.NoError(t, err)
	for _, e := range writes {
		for _, res := range []string{"/deployments/edit-nb", "/services/edit-nb", "/persistentvolumeclaims/edit-nb-home", "/configmaps/access-edit-nb"} {
			require.NotContains(t, e.RequestURI, res, "the agent wrote for a refused edit: %s", e)
		}
	}

	// A valid edit (the hub resolves a new effective spec) rolls out.
	require.NoError(t, tenant.Get(ctx, client.ObjectKey{Namespace: "default", Name: "edit-nb"}, ws))
	patch = client.MergeFrom(ws.DeepCopy())
	ws.Spec.Resources.Limits, ws.Spec.ServiceAccountName, ws.Spec.AccessStrategy = nil, "", nil
	ws.Spec.Env = []workspacesv1alpha1.EnvVar{{Name: "VALID_EDIT", Value: "1"}}
	require.NoError(t, tenant.Patch(ctx, ws, patch))
	resolve(t, "beta", ws)
	waitLocal(t, time.Minute, "a valid edit rolls out", func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		err := lc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edit-nb"}, d)
		return err == nil && d.Generation > before.Generation, err
	})
}

// refuse writes Valid=False for ws's current generation as the hub's template controller does
// for an invalid spec, keeping status.effective as it was.
func refuse(t *testing.T, org string, ws *workspacesv1alpha1.Workspace, message string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := orgClient(t, org)
	cur := &workspacesv1alpha1.Workspace{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(ws), cur))
	status := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
		"conditions": []any{map[string]any{
			"type": string(workspacesv1alpha1.ConditionValid), "status": "False", "reason": string(workspacesv1alpha1.ReasonResourceOutOfBounds),
			"message": message, "observedGeneration": cur.Generation, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}},
	}}}
	if cur.Status.Effective != nil {
		encoded, err := statusapply.Encode(cur.Status.Effective)
		require.NoError(t, err)
		status.Object["status"].(map[string]any)["effective"] = encoded
	}
	status.SetAPIVersion(workspacesv1alpha1.SchemeGroupVersion.String())
	status.SetKind("Workspace")
	status.SetNamespace(ws.Namespace)
	status.SetName(ws.Name)
	require.NoError(t, c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(status), client.FieldOwner(templates.FieldManager), client.ForceOwnership))
}
