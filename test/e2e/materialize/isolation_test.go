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

package materialize

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/confine"
	"github.com/atrium-dev/atrium/agent/materialize"
	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// newWorkspaceNamespace creates a namespace as the syncer labels the ones it creates or adopts,
// but without any confinement yet: the confine controller must add it.
func (h *harness) newWorkspaceNamespace(t *testing.T, ctx context.Context, name string, labels map[string]string) *corev1.Namespace {
	t.Helper()
	all := map[string]string{mirror.LabelManagedBy: mirror.ManagedByAgent}
	for k, v := range labels {
		all[k] = v
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: all}}
	require.NoError(t, h.client.Create(ctx, ns))
	return ns
}

// confined reports whether ns carries the harness's confinement: its Pod Security labels and
// the three objects.
func (h *harness) confined(ctx context.Context, ns string) (bool, error) {
	n := &corev1.Namespace{}
	if err := h.client.Get(ctx, key("", ns), n); err != nil {
		return false, err
	}
	for k, v := range h.confinement.PodSecurityLabels() {
		if n.Labels[k] != v {
			return false, nil
		}
	}
	for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &corev1.ResourceQuota{}, &corev1.LimitRange{}} {
		if err := h.client.Get(ctx, key(ns, confine.ObjectName), obj); err != nil {
			return false, client.IgnoreNotFound(err)
		}
	}
	return true, nil
}

// TestNamespaceConfinement: a workspace namespace (here one that existed before the agent
// adopted it, with a weakened Pod Security label) gets the Pod Security labels pinned to the
// cluster's version, the NetworkPolicy, ResourceQuota and LimitRange as configured; every
// drift is repaired; the cluster's own PodSecurity admission then refuses a hostile pod created
// directly in it, while the workspace the agent builds runs there, without a service-account
// token.
//
// kwok runs no containers and the test bed has no network plugin: the NetworkPolicy is checked
// as the API server stores it; connection attempts between pods cannot be made here.
func TestNamespaceConfinement(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := setup(t)
	ns := h.newWorkspaceNamespace(t, ctx, "mat-confined", map[string]string{
		"pod-security.kubernetes.io/enforce": "privileged", "team": "kept",
	}).Name
	h.waitObject(t, ctx, "the namespace is confined", func(ctx context.Context) (bool, error) { return h.confined(ctx, ns) })

	t.Run("labels", func(t *testing.T) {
		n := &corev1.Namespace{}
		require.NoError(t, h.client.Get(ctx, key("", ns), n))
		require.Regexp(t, `^v1\.[0-9]+$`, h.confinement.PodSecurityVersion, "pinned to the cluster's minor version")
		for _, mode := range []string{"enforce", "warn", "audit"} {
			require.Equal(t, "restricted", n.Labels["pod-security.kubernetes.io/"+mode])
			require.Equal(t, h.confinement.PodSecurityVersion, n.Labels["pod-security.kubernetes.io/"+mode+"-version"])
		}
		require.Equal(t, "kept", n.Labels["team"], "labels of others are kept")
	})

	t.Run("NetworkPolicy as configured", func(t *testing.T) {
		np := &networkingv1.NetworkPolicy{}
		require.NoError(t, h.client.Get(ctx, key(ns, confine.ObjectName), np))
		require.Equal(t, mirror.ManagedByAgent, np.Labels[mirror.LabelManagedBy])
		require.Empty(t, np.Spec.PodSelector.MatchLabels, "every pod of the namespace")
		require.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)
		require.Len(t, np.Spec.Ingress, 1)
		var from []string
		for _, p := range np.Spec.Ingress[0].From {
			from = append(from, p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
		}
		require.Equal(t, []string{"ingress-nginx", "traefik", "atrium-system"}, from, "ingress only from the access path and the agent")
		require.Equal(t, map[string]string{"app.kubernetes.io/name": "atrium-agent"}, np.Spec.Ingress[0].From[2].PodSelector.MatchLabels)
		require.Equal(t, "http", np.Spec.Ingress[0].Ports[0].Port.String(), "only the workspace port")
		require.Len(t, np.Spec.Egress, 3)
		require.Equal(t, "53", np.Spec.Egress[0].Ports[0].Port.String(), "DNS")
		inet := np.Spec.Egress[1].To[0].IPBlock
		require.Equal(t, "0.0.0.0/0", inet.CIDR)
		for _, denied := range []string{"169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "203.0.113.7/32"} {
			require.Contains(t, inet.Except, denied, "the internet, but not the metadata service, the cluster's ranges and the API server")
		}
		require.Equal(t, "10.20.30.40/32", np.Spec.Egress[2].To[0].IPBlock.CIDR, "the operator's explicit allowance")
	})

	t.Run("ResourceQuota and LimitRange as configured", func(t *testing.T) {
		q := &corev1.ResourceQuota{}
		require.NoError(t, h.client.Get(ctx, key(ns, confine.ObjectName), q))
		for name, want := range confine.DefaultQuota {
			got := q.Spec.Hard[name]
			require.Zero(t, want.Cmp(got), "quota %s: %s, want %s", name, got.String(), want.String())
		}
		lr := &corev1.LimitRange{}
		require.NoError(t, h.client.Get(ctx, key(ns, confine.ObjectName), lr))
		require.Len(t, lr.Spec.Limits, 1)
		item := lr.Spec.Limits[0]
		require.Equal(t, corev1.LimitTypeContainer, item.Type)
		for name, want := range confine.DefaultLimitMax {
			max, def := item.Max[name], item.Default[name]
			require.Zero(t, want.Cmp(max), "max %s", name)
			require.Zero(t, want.Cmp(def), "default limit %s is the maximum", name)
		}
		require.Contains(t, item.DefaultRequest, corev1.ResourceEphemeralStorage)
	})

	t.Run("drift is repaired", func(t *testing.T) {
		n := &corev1.Namespace{}
		require.NoError(t, h.client.Get(ctx, key("", ns), n))
		delete(n.Labels, "pod-security.kubernetes.io/enforce")
		n.Labels["pod-security.kubernetes.io/warn"] = "privileged"
		require.NoError(t, h.client.Update(ctx, n))
		h.waitObject(t, ctx, "Pod Security labels restored", func(ctx context.Context) (bool, error) { return h.confined(ctx, ns) })

		np := &networkingv1.NetworkPolicy{}
		require.NoError(t, h.client.Get(ctx, key(ns, confine.ObjectName), np))
		require.NoError(t, h.client.Delete(ctx, np))
		h.waitObject(t, ctx, "NetworkPolicy recreated", func(ctx context.Context) (bool, error) {
			got := &networkingv1.NetworkPolicy{}
			err := h.client.Get(ctx, key(ns, confine.ObjectName), got)
			return err == nil && got.UID != np.UID, client.IgnoreNotFound(err)
		})

		q := &corev1.ResourceQuota{}
		require.NoError(t, h.client.Get(ctx, key(ns, confine.ObjectName), q))
		q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("1000")
		require.NoError(t, h.client.Update(ctx, q))
		h.waitObject(t, ctx, "ResourceQuota repaired", func(ctx context.Context) (bool, error) {
			got := &corev1.ResourceQuota{}
			if err := h.client.Get(ctx, key(ns, confine.ObjectName), got); err != nil {
				return false, err
			}
			pods := got.Spec.Hard[corev1.ResourcePods]
			return pods.Cmp(confine.DefaultQuota[corev1.ResourcePods]) == 0, nil
		})

		lr := &corev1.LimitRange{}
		require.NoError(t, h.client.Get(ctx, key(ns, confine.ObjectName), lr))
		require.NoError(t, h.client.Delete(ctx, lr))
		h.waitObject(t, ctx, "LimitRange recreated", func(ctx context.Context) (bool, error) {
			got := &corev1.LimitRange{}
			err := h.client.Get(ctx, key(ns, confine.ObjectName), got)
			return err == nil && got.UID != lr.UID, client.IgnoreNotFound(err)
		})
	})

	t.Run("the cluster's PodSecurity admission refuses a hostile pod", func(t *testing.T) {
		for name, mutate := range map[string]func(*corev1.Pod){
			"privileged": func(p *corev1.Pod) {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
			},
			"root, capabilities, no seccomp": func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0)}
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
			},
			"host path": func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
			},
		} {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "hostile", Namespace: ns},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "x", Image: "busybox",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}},
				}}},
			}
			mutate(pod)
			err := h.client.Create(ctx, pod)
			require.True(t, apierrors.IsForbidden(err), "%s: got %v, want Forbidden by PodSecurity", name, err)
			require.ErrorContains(t, err, `violates PodSecurity "restricted:`+h.confinement.PodSecurityVersion+`"`, name)
		}
	})

	t.Run("the agent's workspace runs there, without a service-account token", func(t *testing.T) {
		h.bindHome(t, ctx, ns, "confined-nb")
		lw := newLocalWorkspace(ns, "confined-nb", "")
		require.NoError(t, h.client.Create(ctx, lw))
		h.waitFor(t, ctx, lw, "Available in a restricted namespace", func(lw *computev1alpha1.LocalWorkspace) bool {
			return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
		})
		pods := &corev1.PodList{}
		require.NoError(t, h.client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{materialize.WorkspaceLabel: "confined-nb"}))
		require.Len(t, pods.Items, 1)
		p := pods.Items[0]
		require.False(t, *p.Spec.AutomountServiceAccountToken)
		for _, v := range p.Spec.Volumes {
			require.Nil(t, v.Projected, "no projected service-account token volume (%s)", v.Name)
		}
		for _, m := range p.Spec.Containers[0].VolumeMounts {
			require.NotContains(t, m.MountPath, "serviceaccount", "no token mounted")
		}
		require.True(t, *p.Spec.SecurityContext.RunAsNonRoot)
		require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, p.Spec.SecurityContext.SeccompProfile.Type)
		c := p.Spec.Containers[0]
		require.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
		require.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
		// The LimitRange filled what the workspace left open.
		eph := c.Resources.Requests[corev1.ResourceEphemeralStorage]
		require.Zero(t, eph.Cmp(confine.DefaultLimitDefaultRequest[corev1.ResourceEphemeralStorage]), "default ephemeral-storage request")
		lim := c.Resources.Limits[corev1.ResourceCPU]
		require.Zero(t, lim.Cmp(confine.DefaultLimitMax[corev1.ResourceCPU]), "default CPU limit is the maximum")
	})

	t.Run("a pod over the LimitRange is refused and reported", func(t *testing.T) {
		h.bindHome(t, ctx, ns, "huge-nb")
		lw := newLocalWorkspace(ns, "huge-nb", "")
		lw.Spec.Effective.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("64")
		lw.Spec.Effective.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}
		require.NoError(t, h.client.Create(ctx, lw))
		got := h.waitFor(t, ctx, lw, "Degraded PodRefused", func(lw *computev1alpha1.LocalWorkspace) bool {
			c := lw.GetCondition(workspacesv1alpha1.ConditionDegraded)
			return isTrue(lw, workspacesv1alpha1.ConditionDegraded) && c.Reason == string(workspacesv1alpha1.ReasonPodRefused)
		})
		require.Contains(t, got.GetCondition(workspacesv1alpha1.ConditionDegraded).Message, "maximum cpu usage per Container is 32")
		require.Equal(t, workspacesv1alpha1.WorkspacePhaseFailed, got.Status.Phase)
	})
}

// TestHomeVolumeIsNobodyElses: the home claim says whose it is; a workspace whose effective
// spec names another workspace's home as a secondary volume (the hub's check having failed) is
// Degraded with a message naming the claim and its owner, and nothing of its running pod
// changes: same Deployment generation, and the compute API server's audit log shows no write of
// the agent to the Deployment.
func TestHomeVolumeIsNobodyElses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := setup(t)
	ns := h.newNamespace(t, ctx, "mat-volumes")
	for _, name := range []string{"alice-nb", "bob-nb"} {
		h.bindHome(t, ctx, ns, name)
	}
	alice := newLocalWorkspace(ns, "alice-nb", "")
	bob := newLocalWorkspace(ns, "bob-nb", "")
	for _, lw := range []*computev1alpha1.LocalWorkspace{alice, bob} {
		require.NoError(t, h.client.Create(ctx, lw))
	}
	for _, lw := range []*computev1alpha1.LocalWorkspace{alice, bob} {
		h.waitFor(t, ctx, lw, "Available", func(lw *computev1alpha1.LocalWorkspace) bool {
			return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
		})
	}
	pvc := &corev1.PersistentVolumeClaim{}
	require.NoError(t, h.client.Get(ctx, key(ns, "alice-nb-home"), pvc))
	require.Equal(t, "alice-nb", pvc.Labels[computev1alpha1.LabelHomeOf])

	h.settle(t, ctx, bob)
	before := &appsv1.Deployment{}
	require.NoError(t, h.client.Get(ctx, key(ns, "bob-nb"), before))
	mark, err := testbed.AuditMark(env.Cluster("east").AuditLogPath())
	require.NoError(t, err)

	// bob's effective spec now mounts alice's home.
	cur, err := h.get(ctx, bob)
	require.NoError(t, err)
	cur.Spec.Effective.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "stolen", PersistentVolumeClaimName: "alice-nb-home", MountPath: "/stolen"}}
	require.NoError(t, h.client.Update(ctx, cur))
	got := h.waitFor(t, ctx, bob, "Degraded VolumeNotAllowed", func(lw *computev1alpha1.LocalWorkspace) bool {
		c := lw.GetCondition(workspacesv1alpha1.ConditionDegraded)
		return isTrue(lw, workspacesv1alpha1.ConditionDegraded) && c.Reason == string(workspacesv1alpha1.ReasonVolumeNotAllowed)
	})
	require.Contains(t, got.GetCondition(workspacesv1alpha1.ConditionDegraded).Message,
		"spec.volumes[0] (stolen): PersistentVolumeClaim alice-nb-home is the home volume of workspace alice-nb")
	h.settle(t, ctx, bob)

	after := &appsv1.Deployment{}
	require.NoError(t, h.client.Get(ctx, key(ns, "bob-nb"), after))
	require.Equal(t, before.Generation, after.Generation, "the running Deployment is untouched")
	require.Len(t, after.Spec.Template.Spec.Volumes, 1, "nothing but bob's own home is mounted")
	writes, err := testbed.Writes(env.Cluster("east").AuditLogPath(), testbed.ComputeAgentUser, mark)
	require.NoError(t, err)
	for _, e := range writes {
		if e.ObjectRef != nil && e.ObjectRef.Namespace == ns && e.ObjectRef.Resource == "deployments" {
			t.Errorf("the agent wrote the Deployment of a workspace with a refused volume: %s", e)
		}
	}

	// A new workspace naming alice's home never gets a Deployment.
	carol := newLocalWorkspace(ns, "carol-nb", "")
	carol.Spec.Effective.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "stolen", PersistentVolumeClaimName: "alice-nb-home", MountPath: "/stolen"}}
	require.NoError(t, h.client.Create(ctx, carol))
	h.waitFor(t, ctx, carol, "Degraded VolumeNotAllowed", func(lw *computev1alpha1.LocalWorkspace) bool {
		c := lw.GetCondition(workspacesv1alpha1.ConditionDegraded)
		return isTrue(lw, workspacesv1alpha1.ConditionDegraded) && c.Reason == string(workspacesv1alpha1.ReasonVolumeNotAllowed)
	})
	require.True(t, apierrors.IsNotFound(h.client.Get(ctx, key(ns, "carol-nb"), &appsv1.Deployment{})), "no Deployment mounts another workspace's home")

	// Fixed (the hub's next valid effective spec), bob rolls out again.
	cur, err = h.get(ctx, bob)
	require.NoError(t, err)
	cur.Spec.Effective.Volumes = nil
	cur.Spec.Effective.Env = []workspacesv1alpha1.EnvVar{{Name: "FIXED", Value: "1"}}
	require.NoError(t, h.client.Update(ctx, cur))
	h.waitObject(t, ctx, "bob's Deployment follows a valid spec again", func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		err := h.client.Get(ctx, key(ns, "bob-nb"), d)
		return err == nil && d.Generation > before.Generation &&
			slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == "FIXED" }), err
	})
	h.waitFor(t, ctx, bob, "healthy again", func(lw *computev1alpha1.LocalWorkspace) bool {
		return !isTrue(lw, workspacesv1alpha1.ConditionDegraded)
	})
}
