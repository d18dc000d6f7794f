package hubview

import (
	"testing"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"
)

func TestDirectoryNames(t *testing.T) {
	rules := []authorizationv1.ResourceRule{
		// as kcp answered a member of acme in root:orgs (kcp v0.31.2)
		{Verbs: []string{"get"}, APIGroups: []string{"tenancy.kcp.io"}, Resources: []string{"workspaces"}, ResourceNames: []string{"acme"}},
		{Verbs: []string{"get"}, APIGroups: []string{"tenancy.kcp.io"}, Resources: []string{"workspaces"}, ResourceNames: []string{"beta", "acme"}},
		// not a directory grant: another group, another verb, no names, a name that is no org
		{Verbs: []string{"get"}, APIGroups: []string{"apis.kcp.io"}, Resources: []string{"workspaces"}, ResourceNames: []string{"x"}},
		{Verbs: []string{"delete"}, APIGroups: []string{"tenancy.kcp.io"}, Resources: []string{"workspaces"}, ResourceNames: []string{"y"}},
		{Verbs: []string{"get", "list"}, APIGroups: []string{"tenancy.kcp.io"}, Resources: []string{"workspaces"}},
		{Verbs: []string{"get"}, APIGroups: []string{"tenancy.kcp.io"}, Resources: []string{"workspaces"}, ResourceNames: []string{"~", "Bad_Name"}},
	}
	require.Equal(t, []string{"acme", "beta"}, DirectoryNames(rules))
}

func TestHasCredentials(t *testing.T) {
	require.False(t, HasCredentials(&rest.Config{Host: "https://hub", TLSClientConfig: rest.TLSClientConfig{CAFile: "ca.crt"}}))
	for _, cfg := range []*rest.Config{
		{BearerToken: "t"}, {BearerTokenFile: "f"}, {Username: "u"}, {TLSClientConfig: rest.TLSClientConfig{CertData: []byte("c")}},
		{ExecProvider: nil, Impersonate: rest.ImpersonationConfig{UserName: "admin"}},
	} {
		require.True(t, HasCredentials(cfg), "%+v", cfg)
	}
}
