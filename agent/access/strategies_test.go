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
)

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
			wantURL:   "https://workspaces.example.com/workspaces/root:orgs:acme/default/alice-nb/",
			wantBase:  "/workspaces/root:orgs:acme/default/alice-nb/",
			wantProbe: "https://workspaces.example.com/workspaces/root:orgs:acme/default/alice-nb/",
		},
		{
			file: "ingress.yaml", name: "ingress", kinds: []string{"Ingress"},
			wantURL:   "https://workspaces.example.com/w/atrium-acme-default/alice-nb/",
			wantBase:  "/w/atrium-acme-default/alice-nb/",
			wantProbe: "https://workspaces.example.com/w/atrium-acme-default/alice-nb/",
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
				require.True(t, strings.HasPrefix(u, "https://workspaces.example.com/"), u)
				require.NotContains(t, u, "\n")
				_, err = RenderProbeURL(&s, h)
				require.NoError(t, err)
			})
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
		require.Equal(t, 2, strings.Count(match, "`"), match)
		require.True(t, strings.HasPrefix(match, "PathPrefix(`/workspaces/") && strings.HasSuffix(match, "/`)"), match)
		mws := routes[0].(map[string]any)["middlewares"].([]any)
		require.Equal(t, "wsaccess-alice-nb", mws[0].(map[string]any)["name"], "the route uses the Middleware rendered with it")
		require.Equal(t, "atrium-forward-auth", mws[1].(map[string]any)["name"], "OwnerOnly goes through forward auth")
		headers := objs[0].Object["spec"].(map[string]any)["headers"].(map[string]any)["customRequestHeaders"].(map[string]any)
		require.Equal(t, hostile+",bob", headers["X-Atrium-Allowed-Users"])
	})
}
