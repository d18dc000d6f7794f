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
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

const ingressRouteTemplate = `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  labels:
    app: {{ dnsLabel .Workspace.AppType }}
    team: {{ index .Workspace.Labels "team" }}
  annotations:
    display: {{ .Workspace.DisplayName }}
    quoted: {{ quote .Workspace.DisplayName }}
    single: '{{ .Workspace.DisplayName }}'
    users: {{ join "," .Workspace.AllowedUsers }}
    owner: {{ .Workspace.Owner }}
    block: |
      {{ .Workspace.DisplayName }}
spec:
  routes:
  - kind: Rule
    match: PathPrefix(` + "`" + `/workspaces/{{ .Workspace.OriginCluster }}/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}` + "`" + `)
    services:
    - name: {{ .Service.Name }}
      port: {{ .Service.Port }}
  flow: [{{ .Workspace.Owner }}, {{ .Workspace.AppType }}]
`

const ingressTemplate = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  namespace: kube-system
  name: sneaky
  labels:
    from-template: "yes"
    atrium.dev/workspace: overridden-by-selector
spec:
  rules:
  - host: {{ dnsLabel .Workspace.OriginName }}.ws.example.com
    http:
      paths:
      - path: /w/{{ .Workspace.Name }}
        pathType: Prefix
        backend:
          service:
            name: {{ .Service.Name }}
            port:
              number: {{ .Service.Port }}
`

func strategyWith(templates ...computev1alpha1.AccessResourceTemplate) *computev1alpha1.WorkspaceAccessStrategy {
	return &computev1alpha1.WorkspaceAccessStrategy{
		ObjectMeta: metav1.ObjectMeta{Name: "test-strategy"},
		Spec: computev1alpha1.WorkspaceAccessStrategySpec{
			DisplayName:             "Test strategy",
			AccessResourceTemplates: templates,
		},
	}
}

func ingressRoute(tmpl string) computev1alpha1.AccessResourceTemplate {
	return computev1alpha1.AccessResourceTemplate{Kind: "IngressRoute", APIVersion: "traefik.io/v1alpha1", NamePrefix: "route", Template: tmpl}
}

func testLocalWorkspace() *computev1alpha1.LocalWorkspace {
	return &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-nb", Namespace: "atrium-acme-default"},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin: computev1alpha1.Origin{LogicalCluster: "root:orgs:acme", Namespace: "default", Name: "alice-nb", UID: "uid-1"},
			Effective: workspacesv1alpha1.EffectiveWorkspaceSpec{
				DisplayName: "Alice's Notebook",
				AppType:     "JupyterLab",
				AccessType:  workspacesv1alpha1.AccessTypeOwnerOnly,
			},
			Owner:        &workspacesv1alpha1.WorkspaceOwner{Username: "alice"},
			AllowedUsers: []string{"alice", "bob"},
		},
	}
}

func testContext() Context {
	return NewContext(testLocalWorkspace(), map[string]string{"team": "data"}, map[string]string{"note": "hi"},
		strategyWith(), "alice-nb", 8888)
}

// hostileContext puts v into every field a tenant controls, as values and as keys.
func hostileContext(v string) Context {
	c := testContext()
	w := &c.Workspace
	w.DisplayName, w.Owner, w.AppType = v, v, v
	w.OriginCluster, w.OriginNamespace, w.OriginName = v, v, v
	w.AllowedUsers = []string{v, "bob"}
	w.AllowedGroups = []string{v}
	w.Labels = map[string]string{"team": v, v: v}
	w.Annotations = map[string]string{v: v}
	return c
}

var selector = map[string]string{"atrium.dev/workspace": "alice-nb"}

func TestNewContext(t *testing.T) {
	lw := testLocalWorkspace()
	labels := map[string]string{"a": "b"}
	c := NewContext(lw, labels, nil, strategyWith(), "svc", 80)
	labels["a"] = "changed"
	require.Equal(t, Context{
		Workspace: WorkspaceContext{
			Name: "alice-nb", Namespace: "atrium-acme-default", DisplayName: "Alice's Notebook",
			Labels: map[string]string{"a": "b"}, Annotations: map[string]string{},
			Owner: "alice", AllowedUsers: []string{"alice", "bob"}, AccessType: "OwnerOnly", AppType: "JupyterLab",
			OriginCluster: "root:orgs:acme", OriginNamespace: "default", OriginName: "alice-nb",
			HostLabel: HostLabel("root:orgs:acme", "default", "alice-nb"),
		},
		AccessStrategy: StrategyContext{Name: "test-strategy", DisplayName: "Test strategy"},
		Service:        ServiceContext{Name: "svc", Namespace: "atrium-acme-default", Port: 80},
	}, c)

	t.Run("access type defaults", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			effective workspacesv1alpha1.AccessType
			users     []string
			want      string
		}{
			{name: "effective wins", effective: "Public", users: []string{"a"}, want: "Public"},
			{name: "effective OwnerOnly", effective: "OwnerOnly", want: "OwnerOnly"},
			{name: "allow-list means OwnerOnly", users: []string{"a"}, want: "OwnerOnly"},
			{name: "nothing means Public", want: "Public"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				lw := testLocalWorkspace()
				lw.Spec.Effective.AccessType, lw.Spec.AllowedUsers = tc.effective, tc.users
				require.Equal(t, tc.want, NewContext(lw, nil, nil, nil, "", 0).Workspace.AccessType)
			})
		}
	})
}

func TestRenderResourcesNormal(t *testing.T) {
	s := strategyWith(ingressRoute(ingressRouteTemplate), computev1alpha1.AccessResourceTemplate{
		Kind: "Ingress", APIVersion: "networking.k8s.io/v1", NamePrefix: "ing", Template: ingressTemplate,
	})
	objs, err := RenderResources(s, testContext(), selector)
	require.NoError(t, err)
	require.Len(t, objs, 2)

	require.Equal(t, map[string]any{
		"apiVersion": "traefik.io/v1alpha1",
		"kind":       "IngressRoute",
		"metadata": map[string]any{
			"name":      "route-alice-nb",
			"namespace": "atrium-acme-default",
			"labels":    map[string]any{"app": "jupyterlab", "team": "data", "atrium.dev/workspace": "alice-nb"},
			"annotations": map[string]any{
				"display": "Alice's Notebook",
				"quoted":  "Alice's Notebook",
				"single":  "Alice's Notebook",
				"users":   "alice,bob",
				"owner":   "alice",
				"block":   "Alice's Notebook\n",
			},
		},
		"spec": map[string]any{
			"routes": []any{map[string]any{
				"kind":     "Rule",
				"match":    "PathPrefix(`/workspaces/root:orgs:acme/default/alice-nb`)",
				"services": []any{map[string]any{"name": "alice-nb", "port": int64(8888)}},
			}},
			"flow": []any{"alice", "JupyterLab"},
		},
	}, objs[0].Object)

	ing := objs[1]
	require.Equal(t, "ing-alice-nb", ing.GetName())
	require.Equal(t, "atrium-acme-default", ing.GetNamespace(), "the template's namespace is overridden")
	require.Equal(t, map[string]string{"from-template": "yes", "atrium.dev/workspace": "alice-nb"}, ing.GetLabels())
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	host := rules[0].(map[string]any)["host"].(string)
	require.Equal(t, "alice-nb.ws.example.com", host)
}

// TestRenderResourcesInjection feeds hostile tenant values through the IngressRoute template:
// each must come out verbatim as string data, and the object must keep its shape.
func TestRenderResourcesInjection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
	}{
		{name: "newline and kind", value: "x\nkind: Secret"},
		{name: "newline and namespace", value: "\nnamespace: kube-system"},
		{name: "indented keys", value: "x\n    extra: key\n  spec: {}"},
		{name: "double quotes", value: `a" injected: "b`},
		{name: "single quotes", value: `a' injected: 'b`},
		{name: "template action", value: "{{ .AccessStrategy }}"},
		{name: "template action with func", value: `{{ printf "%s" "x" }}{{ env "HOME" }}`},
		{name: "document separator", value: "---\napiVersion: v1\nkind: Secret"},
		{name: "comment", value: "# comment"},
		{name: "flow collection", value: "[a, b]: {c: d}"},
		{name: "anchor and alias", value: "&a [*a, *a]"},
		{name: "alias", value: "*anchor"},
		{name: "tag", value: "!!binary AAAA"},
		{name: "block indicator", value: "|\n  text"},
		{name: "yaml bool", value: "yes"},
		{name: "yaml null", value: "~"},
		{name: "number", value: "1e3"},
		{name: "unicode", value: "Ünïcödé 🚀 \u2028 \u0085 \ufeff"},
		{name: "control characters", value: "\x00\x07\x1b[31m\t\r"},
		{name: "lookalike token", value: tokenPrefixBase + "0123456789abcdef01234567q000000q"},
		{name: "backslashes", value: `\"\\\n`},
		{name: "long", value: strings.Repeat("ab", 10000)},
		{name: "empty stays an empty string, even in flow collections", value: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := RenderResources(strategyWith(ingressRoute(ingressRouteTemplate)), hostileContext(tc.value), selector)
			require.NoError(t, err)
			require.Len(t, objs, 1)
			o := objs[0].Object
			require.Equal(t, "IngressRoute", objs[0].GetKind())
			require.Equal(t, "traefik.io/v1alpha1", objs[0].GetAPIVersion())
			require.Equal(t, "atrium-acme-default", objs[0].GetNamespace())
			require.Equal(t, "route-alice-nb", objs[0].GetName())
			require.ElementsMatch(t, []string{"apiVersion", "kind", "metadata", "spec"}, keys(o))
			require.ElementsMatch(t, []string{"name", "namespace", "labels", "annotations"}, keys(o["metadata"].(map[string]any)))
			require.ElementsMatch(t, []string{"routes", "flow"}, keys(o["spec"].(map[string]any)))
			ann := objs[0].GetAnnotations()
			for _, k := range []string{"display", "quoted", "single", "owner"} {
				require.Equal(t, tc.value, ann[k], "annotation %s", k)
			}
			require.Equal(t, tc.value+",bob", ann["users"])
			require.Equal(t, tc.value, objs[0].GetLabels()["team"])
			flow, _, _ := unstructured.NestedSlice(o, "spec", "flow")
			require.Equal(t, []any{tc.value, tc.value}, flow)
		})
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRenderResourcesRangeOverTenantKeys(t *testing.T) {
	tmpl := `apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    fixed: platform
    {{- range $k, $v := .Workspace.Annotations }}
    {{ $k }}: {{ $v }}
    {{- end }}
data:
  {{- range $i, $u := .Workspace.AllowedUsers }}
  user{{ $i }}: {{ $u }}
  {{- end }}
`
	s := strategyWith(computev1alpha1.AccessResourceTemplate{Kind: "ConfigMap", APIVersion: "v1", NamePrefix: "cm", Template: tmpl})
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        map[string]string
		wantErr     string
	}{
		{name: "hostile keys stay keys of annotations", annotations: map[string]string{"a\nkind: Secret": "v: 1", "": "empty key", "b": ""},
			want: map[string]string{"fixed": "platform", "a\nkind: Secret": "v: 1", "": "empty key", "b": ""}},
		{name: "clash with a platform key", annotations: map[string]string{"fixed": "tenant"}, wantErr: `key "fixed" from workspace data is already set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContext()
			c.Workspace.Annotations = tc.annotations
			objs, err := RenderResources(s, c, nil)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			got, _, _ := unstructured.NestedStringMap(objs[0].Object, "metadata", "annotations")
			require.Equal(t, tc.want, got)
			data, _, _ := unstructured.NestedStringMap(objs[0].Object, "data")
			require.Equal(t, map[string]string{"user0": "alice", "user1": "bob"}, data)
		})
	}
}

func TestRenderResourcesErrors(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name    string
		tmpl    computev1alpha1.AccessResourceTemplate
		ctx     func(*Context)
		wantErr []string
		tooBig  bool
	}{
		{name: "kind mismatch", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: Secret\n"),
			wantErr: []string{`accessResourceTemplates[0] (kind IngressRoute`, `"test-strategy"`, `rendered kind "Secret", want the declared "IngressRoute"`}},
		{name: "apiVersion mismatch", tmpl: ingressRoute("apiVersion: v1\nkind: IngressRoute\n"),
			wantErr: []string{`rendered apiVersion "v1", want the declared "traefik.io/v1alpha1"`}},
		{name: "kind from tenant data", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: {{ .Workspace.AppType }}\n"),
			ctx: func(c *Context) { c.Workspace.AppType = "IngressRoute" }, wantErr: []string{"rendered kind is made of workspace data"}},
		{name: "missing kind", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\n"), wantErr: []string{"rendered object has no kind"}},
		{name: "missing key", tmpl: ingressRoute("kind: {{ .Workspace.Nope }}"), wantErr: []string{"can't evaluate field Nope"}},
		{name: "missing label key", tmpl: ingressRoute("kind: {{ .Workspace.Labels.team }}"),
			wantErr: []string{`map has no entry for key "team"`, `index .Workspace.Labels "team"`}},
		{name: "parse error", tmpl: ingressRoute("kind: {{ .Workspace.Name "), wantErr: []string{`"test-strategy"`, "failed to parse accessResourceTemplates[0].template"}},
		{name: "printf not offered", tmpl: ingressRoute(`kind: {{ printf "%s" "x" }}`), wantErr: []string{`function "printf" is not available`}},
		{name: "env not defined", tmpl: ingressRoute(`kind: {{ env "HOME" }}`), wantErr: []string{`function "env" not defined`}},
		{name: "call not offered", tmpl: ingressRoute(`{{ define "x" }}{{ call .Workspace }}{{ end }}kind: IngressRoute`), wantErr: []string{`function "call" is not available`}},
		{name: "multiple documents", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\n---\napiVersion: v1\nkind: Secret\n"),
			wantErr: []string{"more than one YAML document"}},
		{name: "list root", tmpl: ingressRoute("- apiVersion: traefik.io/v1alpha1\n"), wantErr: []string{"rendered a list, want one object"}},
		{name: "scalar root", tmpl: ingressRoute("{{ .Workspace.DisplayName }}"), wantErr: []string{"rendered a string, want one object"}},
		{name: "empty", tmpl: ingressRoute("{{/* nothing */}}"), wantErr: []string{"rendered no object"}},
		{name: "if on a string", tmpl: ingressRoute("{{ if .Workspace.Owner }}x{{ end }}"), wantErr: []string{`if .Workspace.Owner tests a string`, `ne .Workspace.Owner ""`}},
		{name: "with on a string", tmpl: ingressRoute("{{ if true }}{{ with .Service.Name }}x{{ end }}{{ end }}"), wantErr: []string{`with .Service.Name tests a string`}},
		{name: "invalid YAML", tmpl: ingressRoute("kind: [\n"), wantErr: []string{"failed to parse rendered YAML"}},
		{name: "duplicate key", tmpl: ingressRoute("kind: IngressRoute\nkind: IngressRoute\n"), wantErr: []string{"failed to parse rendered YAML"}},
		{name: "tenant top-level key", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\n{{ range $k, $v := .Workspace.Labels }}{{ $k }}: x\n{{ end }}"),
			wantErr: []string{"workspace data may not name a top-level field"}},
		{name: "metadata not a mapping", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {{ .Workspace.DisplayName }}\n"),
			wantErr: []string{"rendered metadata is a string, want a mapping"}},
		{name: "labels not a mapping", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  labels: [a]\n"),
			wantErr: []string{"rendered metadata.labels is a list, want a mapping"}},
		{name: "oversize template output", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\n{{ range .Workspace.AllowedUsers }}" + strings.Repeat("# padding\n", 7000) + "{{ end }}"),
			wantErr: []string{"template output exceeds 65536 bytes"}, tooBig: true},
		{name: "1 MiB display name", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  annotations:\n    d: {{ .Workspace.DisplayName }}\n"),
			ctx: func(c *Context) { c.Workspace.DisplayName = big }, wantErr: []string{"more than 262144 bytes"}, tooBig: true},
		{name: "many references to a large value", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nspec:\n" + strings.Repeat("- {{ .Workspace.DisplayName }}\n", 1000)),
			ctx: func(c *Context) { c.Workspace.DisplayName = strings.Repeat("y", 1000) }, wantErr: []string{"more than 262144 bytes"}, tooBig: true},
		{name: "function amplification", tmpl: ingressRoute(`kind: {{ replace "y" "yyyyyyyyyy" .Workspace.DisplayName }}`),
			ctx: func(c *Context) { c.Workspace.DisplayName = strings.Repeat("y", 100000) }, wantErr: []string{"function result of more than"}, tooBig: true},
		{name: "invalid UTF-8", tmpl: ingressRoute("kind: x"), ctx: func(c *Context) { c.Workspace.Owner = "\xff" }, wantErr: []string{"not valid UTF-8 in Workspace.Owner"}},
		{name: "invalid workspace name", tmpl: ingressRoute("kind: x"), ctx: func(c *Context) { c.Workspace.Name = "Bad Name" }, wantErr: []string{`workspace name "Bad Name" is invalid`}},
		{name: "invalid namespace", tmpl: ingressRoute("kind: x"), ctx: func(c *Context) { c.Workspace.Namespace = "a.b" }, wantErr: []string{`workspace namespace "a.b" is invalid`}},
		{name: "mangled token", tmpl: ingressRoute("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nspec:\n  x: !!binary {{ .Workspace.DisplayName }}\n"),
			ctx: func(c *Context) { c.Workspace.DisplayName = "abcd" }, wantErr: []string{"failed to parse rendered YAML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContext()
			if tc.ctx != nil {
				tc.ctx(&c)
			}
			objs, err := RenderResources(strategyWith(tc.tmpl), c, selector)
			require.Error(t, err)
			require.Nil(t, objs)
			for _, want := range tc.wantErr {
				require.ErrorContains(t, err, want)
			}
			require.Equal(t, tc.tooBig, errors.Is(err, errTooLarge), "errTooLarge in %v", err)
			require.Less(t, len(err.Error()), 4096, "errors must not carry whole tenant values")
		})
	}

	t.Run("every failing template is reported", func(t *testing.T) {
		_, err := RenderResources(strategyWith(ingressRoute("kind: a"), ingressRoute(ingressRouteTemplate), ingressRoute("kind: b")), testContext(), nil)
		require.ErrorContains(t, err, "accessResourceTemplates[0]")
		require.ErrorContains(t, err, "accessResourceTemplates[2]")
		require.NotContains(t, err.Error(), "accessResourceTemplates[1]")
	})
	t.Run("nil strategy", func(t *testing.T) {
		_, err := RenderResources(nil, testContext(), nil)
		require.Error(t, err)
	})
}

func TestRenderResourcesFuncs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		expr  string
		setup func(*Context)
		want  string
	}{
		{name: "lower", expr: `{{ lower .Workspace.AppType }}`, want: "jupyterlab"},
		{name: "upper", expr: `{{ upper .Workspace.Owner }}`, want: "ALICE"},
		{name: "trunc runes", expr: `{{ trunc 3 .Workspace.DisplayName }}`, setup: func(c *Context) { c.Workspace.DisplayName = "äöüß" }, want: "äöü"},
		{name: "replace", expr: `{{ replace "'" "" .Workspace.DisplayName }}`, want: "Alices Notebook"},
		{name: "dnsLabel", expr: `{{ dnsLabel .Workspace.DisplayName }}`, want: "alice-s-notebook"},
		{name: "dnsLabel cut", expr: `{{ dnsLabel .Workspace.DisplayName }}`, setup: func(c *Context) { c.Workspace.DisplayName = "-" + strings.Repeat("a-", 40) }, want: strings.TrimSuffix(strings.Repeat("a-", 32), "-")},
		{name: "pathEscape", expr: `{{ pathEscape .Workspace.DisplayName }}`, setup: func(c *Context) { c.Workspace.DisplayName = "a/b`c" }, want: "a%2Fb%60c"},
		{name: "default on empty", expr: `{{ default "nobody" .Workspace.Owner }}`, setup: func(c *Context) { c.Workspace.Owner = "" }, want: "nobody"},
		{name: "default on set", expr: `{{ default "nobody" .Workspace.Owner }}`, want: "alice"},
		{name: "quote", expr: `{{ quote "a\"b\u00e9" }}`, want: `a"bé`},
		{name: "join", expr: `{{ join "+" .Workspace.AllowedUsers }}`, want: "alice+bob"},
		{name: "eq on tenant field", expr: `{{ if eq .Workspace.AccessType "OwnerOnly" }}closed{{ else }}open{{ end }}`, want: "closed"},
		{name: "eq any of", expr: `{{ if eq .Workspace.AppType "x" "JupyterLab" }}yes{{ end }}`, want: "yes"},
		{name: "ne", expr: `{{ if ne .Workspace.Owner "bob" }}yes{{ end }}`, want: "yes"},
		{name: "int comparison", expr: `{{ if gt .Service.Port 1024 }}high{{ end }}`, want: "high"},
		{name: "len of list", expr: `{{ len .Workspace.AllowedUsers }}`, want: "2"},
		{name: "len of string", expr: `{{ len .Workspace.Owner }}`, want: "5"},
		{name: "index label", expr: `{{ index .Workspace.Labels "team" }}`, want: "data"},
		{name: "index missing label", expr: `{{ index .Workspace.Labels "nope" }}`, want: ""},
		{name: "index list", expr: `{{ index .Workspace.AllowedUsers 1 }}`, want: "bob"},
		{name: "range over labels in key order", expr: `{{ range $k, $v := .Workspace.Labels }}{{ $k }}={{ $v }};{{ end }}`,
			setup: func(c *Context) { c.Workspace.Labels = map[string]string{"b": "2", "a": "1", "c": "3"} }, want: "a=1;b=2;c=3;"},
		{name: "ne empty and not", expr: `{{ if ne .Workspace.Owner "" }}{{ .Workspace.Owner }}{{ end }}{{ if not .Workspace.AllowedGroups }}-none{{ end }}`, want: "alice-none"},
		{name: "ne empty on empty", expr: `{{ if ne .Workspace.Owner "" }}set{{ else }}unset{{ end }}`, setup: func(c *Context) { c.Workspace.Owner = "" }, want: "unset"},
		{name: "with on a list", expr: `{{ with .Workspace.AllowedUsers }}{{ index . 0 }}{{ end }}`, want: "alice"},
		{name: "strategy", expr: `{{ .AccessStrategy.Name }}/{{ .AccessStrategy.DisplayName }}`, want: "test-strategy/Test strategy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContext()
			if tc.setup != nil {
				tc.setup(&c)
			}
			tmpl := "apiVersion: v1\nkind: ConfigMap\ndata:\n  v: " + strings.ReplaceAll(tc.expr, "\n", " ") + "\n"
			if !strings.HasPrefix(tc.expr, "{{ quote") {
				tmpl = "apiVersion: v1\nkind: ConfigMap\ndata:\n  v: '" + tc.expr + "'\n"
			}
			objs, err := RenderResources(strategyWith(computev1alpha1.AccessResourceTemplate{Kind: "ConfigMap", APIVersion: "v1", NamePrefix: "cm", Template: tmpl}), c, nil)
			require.NoError(t, err)
			got, _, _ := unstructured.NestedString(objs[0].Object, "data", "v")
			require.Equal(t, tc.want, got)
		})
	}
}

func TestObjectName(t *testing.T) {
	require.Equal(t, "route-alice", objectName("route", "alice"))
	long := strings.Repeat("a", 250)
	n := objectName("route", long)
	require.Len(t, n, maxNameLength)
	require.Equal(t, n, objectName("route", long), "deterministic")
	require.NotEqual(t, n, objectName("route", long[:249]+"b"), "distinct names stay distinct")
	require.Equal(t, "route-"+strings.Repeat("a", 247-11), n[:maxNameLength-11])
}
