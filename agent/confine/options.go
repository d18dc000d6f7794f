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
	"errors"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ObjectName names the NetworkPolicy, ResourceQuota and LimitRange of every workspace namespace.
const ObjectName = "atrium-workspaces"

// Defaults of the flags and chart values; see docs/operator-guide.md for why these.
var (
	// DefaultIngressNamespaces hold the ingress controller of the example access strategies.
	DefaultIngressNamespaces = []string{"ingress-nginx"}
	// DefaultEgressDeniedCIDRs are never reachable from a workspace unless allowed: the
	// link-local range with the cloud metadata service, the private and shared ranges that
	// hold pod, service and node addresses on almost every cluster, and their IPv6 peers.
	DefaultEgressDeniedCIDRs = []string{
		"169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
		"fe80::/10", "fc00::/7",
	}
	// DefaultQuota caps one workspace namespace (one organization's hub namespace).
	DefaultQuota = corev1.ResourceList{
		corev1.ResourcePods:                     resource.MustParse("50"),
		corev1.ResourcePersistentVolumeClaims:   resource.MustParse("100"),
		corev1.ResourceServices:                 resource.MustParse("50"),
		corev1.ResourceRequestsCPU:              resource.MustParse("128"),
		corev1.ResourceRequestsMemory:           resource.MustParse("512Gi"),
		corev1.ResourceRequestsStorage:          resource.MustParse("5Ti"),
		corev1.ResourceRequestsEphemeralStorage: resource.MustParse("500Gi"),
	}
	// DefaultLimitMax caps every container, and is the default limit of containers that set none.
	DefaultLimitMax = corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("32"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	// DefaultLimitDefaultRequest is the request of containers that set none.
	DefaultLimitDefaultRequest = corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("100m"),
		corev1.ResourceMemory:           resource.MustParse("256Mi"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Gi"),
	}
)

// Options say how workspace namespaces are confined.
type Options struct {
	// PodSecurityLevel is enforced (and warned and audited) on every workspace namespace:
	// restricted or baseline. Default restricted.
	PodSecurityLevel workspacesv1alpha1.PodSecurityLevel
	// PodSecurityVersion pins the level's version, e.g. "v1.35". Default "latest"; the agent
	// sets the compute cluster's minor version (see PodSecurityVersion).
	PodSecurityVersion string
	// NetworkPolicy configures the namespace's NetworkPolicy.
	NetworkPolicy NetworkPolicyOptions
	// Quota configures the namespace's ResourceQuota.
	Quota QuotaOptions
	// Limits configures the namespace's LimitRange.
	Limits LimitOptions
}

// NetworkPolicyOptions configure the NetworkPolicy of every workspace namespace.
type NetworkPolicyOptions struct {
	// Disabled removes the NetworkPolicy (for clusters whose network plugin is configured
	// otherwise). Default false: every workspace namespace has one.
	Disabled bool
	// IngressNamespaces are the namespaces of the access path (the ingress controllers the
	// access strategies route through), by name. Empty: ingress only from the agent.
	IngressNamespaces []string
	// AgentNamespace is the agent's namespace, whose pods may reach workspaces (activity
	// reads). Default "atrium-system".
	AgentNamespace string
	// AgentPodLabels narrow the agent's namespace to the agent's pods. Default: every pod of
	// AgentNamespace.
	AgentPodLabels map[string]string
	// DNSNamespace and DNSPodLabels select the cluster DNS pods workspaces may query on port 53.
	// Default kube-system and k8s-app=kube-dns.
	DNSNamespace string
	DNSPodLabels map[string]string
	// EgressDeniedCIDRs are cut out of the internet egress rule. Empty denies nothing but the
	// API server; the flags default to DefaultEgressDeniedCIDRs.
	EgressDeniedCIDRs []string
	// EgressAllowedCIDRs are reachable anyway (an internal registry, a proxy, node-local DNS).
	EgressAllowedCIDRs []string
	// APIServerIPs are the compute cluster's API server addresses, cut out of the internet
	// rule as single addresses; the agent reads them from the kubernetes Service's endpoints.
	APIServerIPs []string
}

// QuotaOptions configure the ResourceQuota of every workspace namespace.
type QuotaOptions struct {
	// Hard is the quota's spec.hard. Empty: no ResourceQuota. The flags default to DefaultQuota.
	Hard corev1.ResourceList
}

// LimitOptions configure the LimitRange of every workspace namespace.
type LimitOptions struct {
	// Max caps every container and is the default limit of containers that set none.
	// The flags default to DefaultLimitMax.
	Max corev1.ResourceList
	// DefaultRequest is the request of containers that set none; each must be at most Max.
	// The flags default to DefaultLimitDefaultRequest. Both empty: no LimitRange.
	DefaultRequest corev1.ResourceList
}

func (o *Options) defaults() {
	if o.PodSecurityLevel == "" {
		o.PodSecurityLevel = workspacesv1alpha1.PodSecurityLevelRestricted
	}
	if o.PodSecurityVersion == "" {
		o.PodSecurityVersion = "latest"
	}
	n := &o.NetworkPolicy
	if n.AgentNamespace == "" {
		n.AgentNamespace = "atrium-system"
	}
	if n.DNSNamespace == "" {
		n.DNSNamespace = "kube-system"
	}
	if n.DNSPodLabels == nil {
		n.DNSPodLabels = map[string]string{"k8s-app": "kube-dns"}
	}
}

// Validate reports every option that cannot work, by flag-like name.
func (o *Options) Validate() error {
	var errs []error
	switch o.PodSecurityLevel {
	case "", workspacesv1alpha1.PodSecurityLevelRestricted, workspacesv1alpha1.PodSecurityLevelBaseline:
	default:
		errs = append(errs, fmt.Errorf("pod security level %q is not restricted or baseline", o.PodSecurityLevel))
	}
	if v := o.PodSecurityVersion; v != "" && v != "latest" && len(validation.IsValidLabelValue(v)) > 0 {
		errs = append(errs, fmt.Errorf("pod security version %q is not a version such as v1.35", v))
	}
	n := o.NetworkPolicy
	for _, ns := range append(append([]string{}, n.IngressNamespaces...), n.AgentNamespace, n.DNSNamespace) {
		if ns != "" && len(validation.IsDNS1123Label(ns)) > 0 {
			errs = append(errs, fmt.Errorf("network policy namespace %q is not a namespace name", ns))
		}
	}
	for what, cidrs := range map[string][]string{"denied": n.EgressDeniedCIDRs, "allowed": n.EgressAllowedCIDRs} {
		for _, c := range cidrs {
			if _, _, err := net.ParseCIDR(c); err != nil {
				errs = append(errs, fmt.Errorf("network policy %s egress range %q is not a CIDR: %w", what, c, err))
			}
		}
	}
	for _, ip := range n.APIServerIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("API server address %q is not an IP address", ip))
		}
	}
	for name, req := range o.Limits.DefaultRequest {
		if max, ok := o.Limits.Max[name]; ok && req.Cmp(max) > 0 {
			errs = append(errs, fmt.Errorf("limit range default request %s=%s exceeds the maximum %s", name, req.String(), max.String()))
		}
	}
	return errors.Join(errs...)
}
