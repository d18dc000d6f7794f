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
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/atrium-dev/atrium/agent/mirror"
	"github.com/atrium-dev/atrium/internal/podspec"
)

// Pod Security admission labels (k8s.io/pod-security-admission/api).
const (
	labelEnforce        = "pod-security.kubernetes.io/enforce"
	labelEnforceVersion = "pod-security.kubernetes.io/enforce-version"
	labelWarn           = "pod-security.kubernetes.io/warn"
	labelWarnVersion    = "pod-security.kubernetes.io/warn-version"
	labelAudit          = "pod-security.kubernetes.io/audit"
	labelAuditVersion   = "pod-security.kubernetes.io/audit-version"
	// labelNamespaceName is set on every namespace by the API server; policies select on it.
	labelNamespaceName = "kubernetes.io/metadata.name"
)

// PodSecurityLabels are the labels every workspace namespace carries.
func (o *Options) PodSecurityLabels() map[string]string {
	level, version := string(o.PodSecurityLevel), o.PodSecurityVersion
	return map[string]string{
		labelEnforce: level, labelEnforceVersion: version,
		labelWarn: level, labelWarnVersion: version,
		labelAudit: level, labelAuditVersion: version,
	}
}

// objectLabels are the labels of the objects this package writes.
func objectLabels() map[string]string {
	return map[string]string{mirror.LabelManagedBy: mirror.ManagedByAgent}
}

func objectMeta(namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: ObjectName, Namespace: namespace, Labels: objectLabels()}
}

// networkPolicy returns the NetworkPolicy of a workspace namespace; see the package doc.
func (o *Options) networkPolicy(namespace string) *networkingv1.NetworkPolicy {
	n := o.NetworkPolicy
	tcp, udp := ptr.To(corev1.ProtocolTCP), ptr.To(corev1.ProtocolUDP)

	var from []networkingv1.NetworkPolicyPeer
	for _, ns := range n.IngressNamespaces {
		from = append(from, networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(ns)})
	}
	agent := networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(n.AgentNamespace)}
	if len(n.AgentPodLabels) > 0 {
		agent.PodSelector = &metav1.LabelSelector{MatchLabels: n.AgentPodLabels}
	}
	from = append(from, agent)

	egress := []networkingv1.NetworkPolicyEgressRule{{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: namespaceSelector(n.DNSNamespace),
			PodSelector:       &metav1.LabelSelector{MatchLabels: n.DNSPodLabels},
		}},
		Ports: []networkingv1.NetworkPolicyPort{
			{Protocol: udp, Port: ptr.To(intstr.FromInt32(53))},
			{Protocol: tcp, Port: ptr.To(intstr.FromInt32(53))},
		},
	}, {
		To: internet(n.EgressDeniedCIDRs, n.APIServerIPs),
	}}
	if len(n.EgressAllowedCIDRs) > 0 {
		var to []networkingv1.NetworkPolicyPeer
		for _, c := range n.EgressAllowedCIDRs {
			to = append(to, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}})
		}
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: to})
	}

	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(namespace),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  from,
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromString(podspec.PortName))}},
			}},
			Egress: egress,
		},
	}
}

func namespaceSelector(name string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{labelNamespaceName: name}}
}

// internet returns the peers "every address but denied and the API server", one per family.
func internet(denied, apiServer []string) []networkingv1.NetworkPolicyPeer {
	var v4, v6 []string
	add := func(cidr string) {
		_, ipnet, err := net.ParseCIDR(cidr)
		if err != nil {
			return // Validate refuses it before anything is built
		}
		if ipnet.IP.To4() != nil {
			v4 = append(v4, ipnet.String())
		} else {
			v6 = append(v6, ipnet.String())
		}
	}
	for _, c := range denied {
		add(c)
	}
	for _, ip := range apiServer {
		if p := net.ParseIP(ip); p != nil && p.To4() != nil {
			add(p.String() + "/32")
		} else if p != nil {
			add(p.String() + "/128")
		}
	}
	slices.Sort(v4)
	slices.Sort(v6)
	return []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: slices.Compact(v4)}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: slices.Compact(v6)}},
	}
}

// resourceQuota returns the ResourceQuota of a workspace namespace, nil when disabled.
func (o *Options) resourceQuota(namespace string) *corev1.ResourceQuota {
	if len(o.Quota.Hard) == 0 {
		return nil
	}
	return &corev1.ResourceQuota{
		ObjectMeta: objectMeta(namespace),
		Spec:       corev1.ResourceQuotaSpec{Hard: o.Quota.Hard.DeepCopy()},
	}
}

// limitRange returns the LimitRange of a workspace namespace, nil when disabled.
func (o *Options) limitRange(namespace string) *corev1.LimitRange {
	l := o.Limits
	if len(l.Max) == 0 && len(l.DefaultRequest) == 0 {
		return nil
	}
	item := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer}
	if len(l.Max) > 0 {
		// The default limit is the maximum: a container that sets only a request the hub
		// validated is never refused for a default limit below its request.
		item.Max, item.Default = l.Max.DeepCopy(), l.Max.DeepCopy()
	}
	if len(l.DefaultRequest) > 0 {
		item.DefaultRequest = l.DefaultRequest.DeepCopy()
	}
	return &corev1.LimitRange{
		ObjectMeta: objectMeta(namespace),
		Spec:       corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{item}},
	}
}
