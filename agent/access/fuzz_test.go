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
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzTemplate puts tenant data everywhere a template might: plain, quoted and block
// scalars, flow collections, through functions, and as keys by ranging over annotations.
const fuzzTemplate = `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: template-name
  namespace: kube-system
  labels:
    team: {{ index .Workspace.Labels "team" }}
  annotations:
    display: {{ .Workspace.DisplayName }}
    quoted: {{ quote .Workspace.Owner }}
    single: '{{ .Workspace.AppType }}'
    users: "{{ join "," .Workspace.AllowedUsers }}"
    lower: {{ lower .Workspace.DisplayName | trunc 40 }}
    label: {{ dnsLabel .Workspace.OriginName }}
    block: |
      {{ .Workspace.DisplayName }}
    {{- range $k, $v := .Workspace.Annotations }}
    {{ $k }}: {{ $v }}
    {{- end }}
spec:
  routes:
  - match: PathPrefix(` + "`" + `/workspaces/{{ pathEscape .Workspace.OriginCluster }}/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}` + "`" + `)
    kind: Rule
    services:
    - name: {{ .Service.Name }}
      port: {{ .Service.Port }}
  flow: [{{ .Workspace.Owner }}, {{ index .Workspace.AllowedGroups 0 }}]
  nested: {a: {{ .Workspace.AppType }}, b: [{{ .Workspace.OriginNamespace }}]}
`

var fuzzPlatformAnnotations = map[string]bool{"display": true, "quoted": true, "single": true, "users": true, "lower": true, "label": true, "block": true}

func fuzzContext(value, key string) Context {
	c := hostileContext(value)
	c.Workspace.Labels = map[string]string{"team": value}
	c.Workspace.Annotations = map[string]string{key: value}
	return c
}

// shape is the tree with every string replaced by "S" and tenant-chosen annotation keys by "K": what tenant data must not be able to change.
func shape(n any, path string) any {
	switch n := n.(type) {
	case string:
		return "S"
	case []any:
		out := make([]any, len(n))
		for i, c := range n {
			out[i] = shape(c, path+"[]")
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, c := range n {
			p := path + "." + k
			if path == ".metadata.annotations" && !fuzzPlatformAnnotations[k] {
				k, p = "K", path+".K"
			}
			out[k] = shape(c, p)
		}
		return out
	}
	return n
}

func FuzzRenderResources(f *testing.F) {
	for _, seed := range [][2]string{
		{"plain", "key"},
		{"x\nkind: Secret", "kind"},
		{"\nnamespace: kube-system", "a\nnamespace: kube-system"},
		{"{{ .AccessStrategy }}", "{{ .Service }}"},
		{"---\napiVersion: v1", "---"},
		{`"'\`, "#"},
		{"&a [*a]", "*a"},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	strategy := strategyWith(ingressRoute(fuzzTemplate))
	benign, err := RenderResources(strategy, fuzzContext("v", "k"), selector)
	require.NoError(f, err)
	wantShape := shape(benign[0].Object, "")

	f.Fuzz(func(t *testing.T, value, key string) {
		objs, err := RenderResources(strategy, fuzzContext(value, key), selector)
		if err != nil {
			// The only acceptable refusals: too much data, data no Kubernetes object can
			// hold, or a tenant key clashing with a platform key. Anything else (a YAML
			// error, say) would mean tenant data reached the parser.
			msg := err.Error()
			if errors.Is(err, errTooLarge) || strings.Contains(msg, "not valid UTF-8") || strings.Contains(msg, "from workspace data is already set") {
				return
			}
			t.Fatalf("unexpected error for value %q key %q: %v", value, key, err)
		}
		require.Len(t, objs, 1)
		o := objs[0]
		require.Equal(t, "IngressRoute", o.GetKind())
		require.Equal(t, "traefik.io/v1alpha1", o.GetAPIVersion())
		require.Equal(t, "atrium-acme-default", o.GetNamespace())
		require.Equal(t, "route-alice-nb", o.GetName())
		require.Equal(t, wantShape, shape(o.Object, ""), "value %q key %q changed the object's shape", value, key)

		ann := o.GetAnnotations()
		require.Equal(t, value, ann["display"])
		require.Equal(t, value, ann["quoted"])
		require.Equal(t, value, ann["single"])
		require.Equal(t, value+",bob", ann["users"])
		require.Equal(t, value, ann[key])
		require.Equal(t, truncRunes(strings.ToLower(value), 40), ann["lower"])
		require.Equal(t, dnsLabel(value), ann["label"])
		require.Equal(t, value, o.GetLabels()["team"])
		spec := o.Object["spec"].(map[string]any)
		require.Equal(t, []any{value, value}, spec["flow"])
		require.Equal(t, map[string]any{"a": value, "b": []any{value}}, spec["nested"])
	})
}
