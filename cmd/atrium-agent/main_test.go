package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/atrium-dev/atrium/agent/confine"
)

func TestResourceList(t *testing.T) {
	for _, defaults := range []corev1.ResourceList{confine.DefaultQuota, confine.DefaultLimitMax, confine.DefaultLimitDefaultRequest} {
		got, err := resourceList(quantities(defaults))
		require.NoError(t, err)
		require.Len(t, got, len(defaults))
		for name, want := range defaults {
			q := got[name]
			require.Zero(t, want.Cmp(q), "%s: %s, want %s", name, q.String(), want.String())
		}
	}
	got, err := resourceList("")
	require.NoError(t, err)
	require.Empty(t, got, "empty means none")
	got, err = resourceList(" pods=3 , requests.cpu=500m,")
	require.NoError(t, err)
	require.Equal(t, corev1.ResourceList{corev1.ResourcePods: resource.MustParse("3"), corev1.ResourceRequestsCPU: resource.MustParse("500m")}, got)
	for _, bad := range []string{"pods", "=3", "pods=lots"} {
		_, err := resourceList(bad)
		require.Error(t, err, bad)
	}
}

func TestFlagsParse(t *testing.T) {
	cmd := newCommand()
	require.NoError(t, cmd.ParseFlags([]string{"--pod-security-level=baseline", "--network-policy=false", "--resource-quota=", "--network-policy-egress-allow-cidrs=10.1.0.0/16"}))
	f := cmd.Flags()
	for name, want := range map[string]string{"pod-security-level": "baseline", "network-policy": "false", "resource-quota": "", "network-policy-egress-allow-cidrs": "[10.1.0.0/16]"} {
		got, err := f.GetString(name)
		if err != nil { // not a string flag
			got = f.Lookup(name).Value.String()
		}
		require.Equal(t, want, got, name)
	}
}
