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

package access

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

func urlStrategy(accessURL, basePath, probeURL string) *computev1alpha1.WorkspaceAccessStrategy {
	s := strategyWith()
	s.Spec.AccessURLTemplate = accessURL
	s.Spec.ApplicationBasePathTemplate = basePath
	if probeURL != "" {
		s.Spec.AccessStartupProbe = &computev1alpha1.AccessStartupProbe{HTTPGet: computev1alpha1.AccessHTTPGetProbe{URLTemplate: probeURL}}
	}
	return s
}

const pathURL = "https://ws.example.com/workspaces/{{ .Workspace.OriginCluster }}/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}/?user={{ .Workspace.Owner }}#{{ .Workspace.DisplayName }}"

func TestRenderURL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tmpl    string
		ctx     func(*Context)
		want    string
		wantErr string
	}{
		{name: "path routing", tmpl: pathURL,
			want: "https://ws.example.com/workspaces/root:orgs:acme/default/alice-nb/?user=alice#Alice%27s%20Notebook"},
		{name: "host routing", tmpl: "https://{{ dnsLabel .Workspace.OriginName }}.{{ .Workspace.OriginNamespace }}.ws.example.com/",
			want: "https://alice-nb.default.ws.example.com/"},
		{name: "service URL with port", tmpl: "http://{{ .Service.Name }}.{{ .Service.Namespace }}.svc:{{ .Service.Port }}/api",
			want: "http://alice-nb.atrium-acme-default.svc:8888/api"},
		{name: "trailing newline trimmed", tmpl: "https://ws.example.com/\n", want: "https://ws.example.com/"},
		{name: "no template", tmpl: "", want: ""},
		{name: "slashes and dots escaped", tmpl: pathURL, ctx: func(c *Context) {
			c.Workspace.OriginName = "../../admin?x=1#y"
			c.Workspace.Owner = "a&admin=true"
			c.Workspace.DisplayName = "#/../"
		}, want: "https://ws.example.com/workspaces/root:orgs:acme/default/..%2F..%2Fadmin%3Fx=1%23y/?user=a%26admin%3Dtrue#%23%2F..%2F"},
		{name: "host injection in path stays in path", tmpl: pathURL, ctx: func(c *Context) { c.Workspace.OriginCluster = "@evil.com" },
			want: "https://ws.example.com/workspaces/@evil.com/default/alice-nb/?user=alice#Alice%27s%20Notebook"},
		{name: "tenant URL in path", tmpl: "https://ws.example.com/{{ .Workspace.DisplayName }}", ctx: func(c *Context) { c.Workspace.DisplayName = "//evil.com/x" },
			want: "https://ws.example.com/%2F%2Fevil.com%2Fx"},
		{name: "dot segment", tmpl: pathURL, ctx: func(c *Context) { c.Workspace.OriginName = ".." }, wantErr: `has a ".." segment`},
		{name: "percent-encoded dots are escaped", tmpl: pathURL, ctx: func(c *Context) { c.Workspace.OriginName = "%2e%2e" },
			want: "https://ws.example.com/workspaces/root:orgs:acme/default/%252e%252e/?user=alice#Alice%27s%20Notebook"},
		{name: "tenant host must be a label", tmpl: "https://{{ .Workspace.OriginName }}.ws.example.com/", ctx: func(c *Context) { c.Workspace.OriginName = "evil.com/x?" },
			wantErr: "must be a DNS-1123 label (use dnsLabel)"},
		{name: "tenant host cannot add a level", tmpl: "https://{{ .Workspace.OriginName }}.ws.example.com/", ctx: func(c *Context) { c.Workspace.OriginName = "evil.com" },
			wantErr: "must be a DNS-1123 label"},
		{name: "tenant host cannot smuggle user info", tmpl: "https://{{ .Workspace.OriginName }}.ws.example.com/", ctx: func(c *Context) { c.Workspace.OriginName = "x@evil.com:80" },
			wantErr: "must be a DNS-1123 label"},
		{name: "tenant scheme", tmpl: "{{ .Workspace.AppType }}://ws.example.com/", wantErr: "scheme"},
		{name: "tenant port", tmpl: "https://ws.example.com:{{ .Workspace.AppType }}/", wantErr: "invalid"},
		{name: "tenant whole URL", tmpl: "{{ .Workspace.DisplayName }}", ctx: func(c *Context) { c.Workspace.DisplayName = "https://evil.com/" }, wantErr: `scheme ""`},
		{name: "not http", tmpl: "ftp://ws.example.com/", wantErr: `scheme "ftp"`},
		{name: "relative", tmpl: "/only/a/path", wantErr: `scheme ""`},
		{name: "user info", tmpl: "https://user:pw@ws.example.com/", wantErr: "user information"},
		{name: "no host", tmpl: "https:///path", wantErr: "no host"},
		{name: "too long", tmpl: "https://ws.example.com/{{ .Workspace.DisplayName }}", ctx: func(c *Context) { c.Workspace.DisplayName = strings.Repeat("a", 1<<20) }, wantErr: "more than 8192 bytes"},
		{name: "parse error names strategy", tmpl: "https://{{ .Nope", wantErr: `WorkspaceAccessStrategy "test-strategy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContext()
			if tc.ctx != nil {
				tc.ctx(&c)
			}
			s := urlStrategy(tc.tmpl, "", tc.tmpl)
			for _, render := range []func(*computev1alpha1.WorkspaceAccessStrategy, Context) (string, error){RenderURL, RenderProbeURL} {
				got, err := render(s, c)
				if tc.wantErr != "" {
					require.ErrorContains(t, err, tc.wantErr)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				if got != "" {
					u, err := url.Parse(got)
					require.NoError(t, err)
					require.True(t, u.IsAbs())
				}
			}
		})
	}
}

func TestRenderBasePath(t *testing.T) {
	const tmpl = "/workspaces/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}/"
	for _, tc := range []struct {
		name    string
		tmpl    string
		ctx     func(*Context)
		want    string
		wantErr string
	}{
		{name: "path", tmpl: tmpl, want: "/workspaces/default/alice-nb/"},
		{name: "none", tmpl: "", want: ""},
		{name: "hostile value stays one segment", tmpl: tmpl, ctx: func(c *Context) { c.Workspace.OriginName = "a/b?c#d\n" }, want: "/workspaces/default/a%2Fb%3Fc%23d%0A/"},
		{name: "dot segment", tmpl: tmpl, ctx: func(c *Context) { c.Workspace.OriginName = "." }, wantErr: `"." segment`},
		{name: "must be absolute", tmpl: "workspaces/x", wantErr: "must start with a single '/'"},
		{name: "protocol-relative", tmpl: "//evil.com/x", wantErr: "must start with a single '/'"},
		{name: "empty tenant value cannot make it protocol-relative", tmpl: "/{{ .Workspace.Owner }}/x", ctx: func(c *Context) { c.Workspace.Owner = "" }, wantErr: "must start with a single '/'"},
		{name: "tenant value cannot make it protocol-relative", tmpl: "/{{ .Workspace.Owner }}/x", ctx: func(c *Context) { c.Workspace.Owner = "/evil.com" }, want: "/%2Fevil.com/x"},
		{name: "query", tmpl: "/x?y=1", wantErr: "must be a path only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContext()
			if tc.ctx != nil {
				tc.ctx(&c)
			}
			got, err := RenderBasePath(urlStrategy("", tc.tmpl, ""), c)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.ErrorContains(t, err, `"test-strategy"`)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRenderNothing(t *testing.T) {
	for name, f := range map[string]func(*computev1alpha1.WorkspaceAccessStrategy, Context) (string, error){
		"url": RenderURL, "base path": RenderBasePath, "probe": RenderProbeURL,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := f(strategyWith(), testContext())
			require.NoError(t, err)
			require.Empty(t, got)
			got, err = f(nil, testContext())
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}

// TestHostLabel: every hub workspace gets a DNS label of its own, whatever its name.
func TestHostLabel(t *testing.T) {
	long := strings.Repeat("n", 253)
	seen := map[string]string{}
	for _, in := range [][3]string{
		{"root:orgs:acme", "default", "alice-nb"},
		{"root:orgs:beta", "default", "alice-nb"}, // the same names in another organization
		{"root:orgs:acme", "team", "alice-nb"},
		{"root:orgs:acme", "default", "alice.nb"}, // dnsLabel makes both "alice-nb"
		{"root:orgs:acme", "default", long},
		{"root:orgs:acme", "default", long + "x"},
		{"root:orgs:acme", "default", "..."},
	} {
		l := HostLabel(in[0], in[1], in[2])
		require.Empty(t, validation.IsDNS1123Label(l), "%v: %q", in, l)
		require.LessOrEqual(t, len(l), 48)
		require.NotContains(t, seen, l, "%v and %s share a host", in, seen[l])
		seen[l] = strings.Join(in[:], "/")
	}
	require.True(t, strings.HasPrefix(HostLabel("c", "ns", "alice-nb"), "alice-nb--"))
	require.True(t, strings.HasPrefix(HostLabel("c", "ns", "..."), "ws--"))
}

// TestHostLabelsAreBounded: a host label over 63 characters is refused, even when each piece
// of workspace data in it is a valid label.
func TestHostLabelsAreBounded(t *testing.T) {
	c := testContext()
	c.Workspace.OriginName = strings.Repeat("a", 40)
	c.Workspace.OriginNamespace = strings.Repeat("b", 40)
	_, err := RenderURL(urlStrategy("https://{{ .Workspace.OriginName }}{{ .Workspace.OriginNamespace }}.ws.example.com/", "", ""), c)
	require.ErrorContains(t, err, "longer than 63")
}
