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

package confine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func defaultOptions() Options {
	return Options{
		PodSecurityVersion: "v1.35",
		NetworkPolicy: NetworkPolicyOptions{
			IngressNamespaces: DefaultIngressNamespaces,
			EgressDeniedCIDRs: DefaultEgressDeniedCIDRs,
			APIServerIPs:      []string{"203.0.113.10", "2001:db8::1"},
		},
		Quota:  QuotaOptions{Hard: DefaultQuota},
		Limits: LimitOptions{Max: DefaultLimitMax, DefaultRequest: DefaultLimitDefaultRequest},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Options)
		message string
	}{
		{name: "defaults", mutate: func(*Options) {}},
		{name: "baseline", mutate: func(o *Options) { o.PodSecurityLevel = workspacesv1alpha1.PodSecurityLevelBaseline }},
		{name: "privileged is no level of ours", mutate: func(o *Options) { o.PodSecurityLevel = "privileged" }, message: `pod security level "privileged"`},
		{name: "bad version", mutate: func(o *Options) { o.PodSecurityVersion = "v1 35" }, message: "pod security version"},
		{name: "bad CIDR", mutate: func(o *Options) { o.NetworkPolicy.EgressAllowedCIDRs = []string{"10.0.0.1"} }, message: `allowed egress range "10.0.0.1"`},
		{name: "bad namespace", mutate: func(o *Options) { o.NetworkPolicy.IngressNamespaces = []string{"Ingress_NGINX"} }, message: `namespace "Ingress_NGINX"`},
		{name: "bad API server address", mutate: func(o *Options) { o.NetworkPolicy.APIServerIPs = []string{"api.example"} }, message: `"api.example" is not an IP`},
		{name: "default request above the maximum", mutate: func(o *Options) {
			o.Limits.DefaultRequest = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}
		}, message: "default request cpu=64 exceeds the maximum 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultOptions()
			tt.mutate(&o)
			_, err := New(nil, o)
			if tt.message == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.message)
		})
	}
}

func TestPodSecurityLabels(t *testing.T) {
	for _, tc := range []struct {
		level   workspacesv1alpha1.PodSecurityLevel
		version string
		want    string
	}{{"", "", "restricted"}, {workspacesv1alpha1.PodSecurityLevelBaseline, "v1.35", "baseline"}} {
		c, err := New(nil, Options{PodSecurityLevel: tc.level, PodSecurityVersion: tc.version})
		require.NoError(t, err)
		version := tc.version
		if version == "" {
			version = "latest"
		}
		require.Equal(t, map[string]string{
			"pod-security.kubernetes.io/enforce": tc.want, "pod-security.kubernetes.io/enforce-version": version,
			"pod-security.kubernetes.io/warn": tc.want, "pod-security.kubernetes.io/warn-version": version,
			"pod-security.kubernetes.io/audit": tc.want, "pod-security.kubernetes.io/audit-version": version,
		}, c.NamespaceLabels())
	}
}

func TestPodSecurityVersion(t *testing.T) {
	for in, want := range map[string]string{"v1.35.1": "v1.35", "v1.36.0-alpha.1+abc": "v1.36", "v1.29.4-eks-1234": "v1.29"} {
		got, err := PodSecurityVersion(in)
		require.NoError(t, err)
		require.Equal(t, want, got, in)
	}
	_, err := PodSecurityVersion("nonsense")
	require.Error(t, err)
}

func TestNetworkPolicy(t *testing.T) {
	o := defaultOptions()
	o.NetworkPolicy.AgentPodLabels = map[string]string{"app.kubernetes.io/name": "atrium-agent"}
	o.NetworkPolicy.EgressAllowedCIDRs = []string{"10.1.2.3/32"}
	o.defaults()
	np := o.networkPolicy("atrium-abc")

	require.Equal(t, ObjectName, np.Name)
	require.Equal(t, "atrium-abc", np.Namespace)
	require.Empty(t, np.Spec.PodSelector.MatchLabels, "every pod of the namespace")
	require.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)

	require.Len(t, np.Spec.Ingress, 1)
	in := np.Spec.Ingress[0]
	require.Equal(t, []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromString("http"))}}, in.Ports, "only the workspace port")
	require.Equal(t, []networkingv1.NetworkPolicyPeer{
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}},
		{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "atrium-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "atrium-agent"}},
		},
	}, in.From, "the access path and the agent, nobody else (not even the namespace's other workspaces)")

	require.Len(t, np.Spec.Egress, 3)
	dns := np.Spec.Egress[0]
	require.Equal(t, map[string]string{"kubernetes.io/metadata.name": "kube-system"}, dns.To[0].NamespaceSelector.MatchLabels)
	require.Equal(t, map[string]string{"k8s-app": "kube-dns"}, dns.To[0].PodSelector.MatchLabels)
	require.Len(t, dns.Ports, 2)

	inet := np.Spec.Egress[1]
	require.Empty(t, inet.Ports)
	require.Equal(t, "0.0.0.0/0", inet.To[0].IPBlock.CIDR)
	require.Equal(t, []string{"10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "203.0.113.10/32"}, inet.To[0].IPBlock.Except,
		"metadata service, private ranges and the API server are cut out")
	require.Equal(t, "::/0", inet.To[1].IPBlock.CIDR)
	require.Equal(t, []string{"2001:db8::1/128", "fc00::/7", "fe80::/10"}, inet.To[1].IPBlock.Except)

	require.Equal(t, []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.1.2.3/32"}}}, np.Spec.Egress[2].To, "an operator's explicit allowance")
}

func TestLimitRangeAndQuota(t *testing.T) {
	o := defaultOptions()
	lr := o.limitRange("ns")
	require.Len(t, lr.Spec.Limits, 1)
	item := lr.Spec.Limits[0]
	require.Equal(t, corev1.LimitTypeContainer, item.Type)
	require.Equal(t, DefaultLimitMax, item.Max)
	require.Equal(t, DefaultLimitMax, item.Default, "the default limit is the maximum, so no validated request is refused for a lower default limit")
	require.Equal(t, DefaultLimitDefaultRequest, item.DefaultRequest)
	require.Contains(t, item.Max, corev1.ResourceEphemeralStorage)

	q := o.resourceQuota("ns")
	require.Equal(t, DefaultQuota, q.Spec.Hard)
	for name := range q.Spec.Hard {
		require.NotContains(t, string(name), "limits.", "quota on limits would count every container at the maximum")
	}

	o.Quota.Hard, o.Limits = nil, LimitOptions{}
	require.Nil(t, o.resourceQuota("ns"))
	require.Nil(t, o.limitRange("ns"))
}

func fakeClient(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "atrium-abc", Labels: map[string]string{
		"app.kubernetes.io/managed-by": "atrium-agent", "team": "kept", "pod-security.kubernetes.io/enforce": "privileged",
	}}}
	c := fakeClient(t, ns)
	// The fake client's server-side apply cannot merge NetworkPolicies (structured-merge-diff
	// "types from the same schema"); test/e2e/materialize checks them on a real API server.
	opts := defaultOptions()
	opts.NetworkPolicy.Disabled = true
	conf, err := New(c, opts)
	require.NoError(t, err)

	require.NoError(t, conf.Apply(ctx, ns.DeepCopy()))
	got := &corev1.Namespace{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: ns.Name}, got))
	require.Equal(t, "restricted", got.Labels["pod-security.kubernetes.io/enforce"], "a weakened label is repaired")
	require.Equal(t, "v1.35", got.Labels["pod-security.kubernetes.io/enforce-version"])
	require.Equal(t, "kept", got.Labels["team"], "labels of others stay")
	key := client.ObjectKey{Namespace: ns.Name, Name: ObjectName}
	require.NoError(t, c.Get(ctx, key, &corev1.ResourceQuota{}))
	require.NoError(t, c.Get(ctx, key, &corev1.LimitRange{}))

	// Disabled parts are removed, and only ours.
	require.NoError(t, c.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: objectMeta(ns.Name)}))
	opts.Quota.Hard = nil
	conf, err = New(c, opts)
	require.NoError(t, err)
	require.NoError(t, conf.Apply(ctx, got))
	require.Error(t, c.Get(ctx, key, &networkingv1.NetworkPolicy{}))
	require.Error(t, c.Get(ctx, key, &corev1.ResourceQuota{}))
	require.NoError(t, c.Get(ctx, key, &corev1.LimitRange{}))

	foreign := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: ObjectName, Namespace: "other"}}
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}}
	c = fakeClient(t, foreign, other)
	conf, err = New(c, opts)
	require.NoError(t, err)
	require.NoError(t, conf.Apply(ctx, other))
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "other", Name: ObjectName}, &corev1.ResourceQuota{}), "a quota that is not ours is never deleted")
}
