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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// aliceHost is the host of testLocalWorkspace under the examples' domain.
var aliceHost = HostLabel("root:orgs:acme", "default", "alice-nb") + ".workspaces.example.com"

// TestExampleStrategies loads the shipped strategies strictly and renders them for a
// normal and a hostile workspace.
func TestExampleStrategies(t *testing.T) {
	const hostile = "x`) || Host(`evil.com\n---\nkind: Secret\nnamespace: kube-system\n\"'{{ .AccessStrategy }}"
	for _, tc := range []struct {
		file      string
		name      string
		kinds     []string
		wantURL   string
		wantBase  string
		wantProbe string
	}{
		{
			file: "traefik-ingressroute.yaml", name: "traefik", kinds: []string{"Middleware", "IngressRoute"},
			wantURL: "https://" + aliceHost + "/", wantBase: "/", wantProbe: "https://" + aliceHost + "/",
		},
		{
			file: "ingress.yaml", name: "ingress", kinds: []string{"Ingress"},
			wantURL: "https://" + aliceHost + "/", wantBase: "/", wantProbe: "https://" + aliceHost + "/",
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "strategies", tc.file))
			require.NoError(t, err)
			var s computev1alpha1.WorkspaceAccessStrategy
			require.NoError(t, yaml.UnmarshalStrict(data, &s))
			require.Equal(t, tc.name, s.Name)
			require.Equal(t, "WorkspaceAccessStrategy", s.Kind)
			require.Equal(t, computev1alpha1.SchemeGroupVersion.String(), s.APIVersion)

			ctx := NewContext(testLocalWorkspace(), map[string]string{"team": "data"}, nil, &s, "alice-nb", 8888)
			objs, err := RenderResources(&s, ctx, selector)
			require.NoError(t, err)
			require.Len(t, objs, len(tc.kinds))
			for i, o := range objs {
				require.Equal(t, tc.kinds[i], o.GetKind())
				require.Equal(t, "atrium-acme-default", o.GetNamespace())
				require.Equal(t, "alice-nb", o.GetLabels()["atrium.dev/workspace"])
			}
			u, err := RenderURL(&s, ctx)
			require.NoError(t, err)
			require.Equal(t, tc.wantURL, u)
			p, err := RenderBasePath(&s, ctx)
			require.NoError(t, err)
			require.Equal(t, tc.wantBase, p)
			pu, err := RenderProbeURL(&s, ctx)
			require.NoError(t, err)
			require.Equal(t, tc.wantProbe, pu)

			t.Run("hostile workspace", func(t *testing.T) {
				h := hostileContext(hostile)
				objs, err := RenderResources(&s, h, selector)
				require.NoError(t, err)
				for i, o := range objs {
					require.Equal(t, tc.kinds[i], o.GetKind())
					require.Equal(t, s.Spec.AccessResourceTemplates[i].APIVersion, o.GetAPIVersion())
					require.Equal(t, "atrium-acme-default", o.GetNamespace())
					require.Equal(t, s.Spec.AccessResourceTemplates[i].NamePrefix+"-alice-nb", o.GetName())
					require.Equal(t, hostile, o.GetAnnotations()["atrium.dev/display-name"])
				}
				u, err := RenderURL(&s, h)
				require.NoError(t, err)
				require.Equal(t, "https://"+aliceHost+"/", u, "the host is the agent's label, never tenant text")
				require.NotContains(t, u, "\n")
				_, err = RenderProbeURL(&s, h)
				require.NoError(t, err)
			})
		})
	}

	// Public or OwnerOnly, every request passes the console's access check: Public must never
	// mean anonymous.
	for _, accessType := range []workspacesv1alpha1.AccessType{workspacesv1alpha1.AccessTypePublic, workspacesv1alpha1.AccessTypeOwnerOnly} {
		t.Run("every request is checked: "+string(accessType), func(t *testing.T) {
			for _, file := range []string{"ingress.yaml", "traefik-ingressroute.yaml"} {
				data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "strategies", file))
				require.NoError(t, err)
				var s computev1alpha1.WorkspaceAccessStrategy
				require.NoError(t, yaml.UnmarshalStrict(data, &s))
				lw := testLocalWorkspace()
				lw.Spec.Effective.AccessType = accessType
				objs, err := RenderResources(&s, NewContext(lw, nil, nil, &s, "alice-nb", 8888), selector)
				require.NoError(t, err)
				check := ""
				switch objs[0].GetKind() {
				case "Ingress":
					check = objs[0].GetAnnotations()["nginx.ingress.kubernetes.io/auth-url"]
					require.Equal(t, "https://console.example.com/access/signin", objs[0].GetAnnotations()["nginx.ingress.kubernetes.io/auth-signin"])
					rules := objs[0].Object["spec"].(map[string]any)["rules"].([]any)
					require.Equal(t, aliceHost, rules[0].(map[string]any)["host"])
				case "Middleware":
					check = objs[0].Object["spec"].(map[string]any)["forwardAuth"].(map[string]any)["address"].(string)
				}
				require.True(t, strings.HasPrefix(check, "https://console.example.com/access/check/root:orgs:acme/default/alice-nb"), "%s: %q", file, check)
			}
		})
	}

	t.Run("traefik rule keeps workspace data inside its backticks", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "strategies", "traefik-ingressroute.yaml"))
		require.NoError(t, err)
		var s computev1alpha1.WorkspaceAccessStrategy
		require.NoError(t, yaml.UnmarshalStrict(data, &s))
		objs, err := RenderResources(&s, hostileContext(hostile), selector)
		require.NoError(t, err)
		routes := objs[1].Object["spec"].(map[string]any)["routes"].([]any)
		match := routes[0].(map[string]any)["match"].(string)
		require.Equal(t, "Host(`"+aliceHost+"`)", match)
		mws := routes[0].(map[string]any)["middlewares"].([]any)
		require.Len(t, mws, 1)
		require.Equal(t, "wsaccess-alice-nb", mws[0].(map[string]any)["name"], "the route uses the Middleware rendered with it")
		fa := objs[0].Object["spec"].(map[string]any)["forwardAuth"].(map[string]any)
		addr := fa["address"].(string)
		require.True(t, strings.HasPrefix(addr, "https://console.example.com/access/check/"), addr)
		require.True(t, strings.HasSuffix(addr, "?signin=redirect"), addr)
		require.Equal(t, 7, strings.Count(strings.TrimSuffix(addr, "?signin=redirect"), "/"), "workspace data stays three path segments: %s", addr)
		require.NotContains(t, addr, "\n")
	})
}
