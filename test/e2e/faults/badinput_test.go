package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

var workspacesGVR = schema.GroupVersionResource{Group: "workspaces.atrium.dev", Version: "v1alpha1", Resource: "workspaces"}

// outcome is what the hub must answer to a manifest.
type outcome int

const (
	// rejected: the API refuses it, with a message containing want.
	rejected outcome = iota
	// invalid: admitted, then Valid=False with a reason and a message containing want.
	invalid
	// valid: admitted and Valid=True (unknown fields pruned, data kept as data).
	valid
)

func manifest(name string, mutate func(obj map[string]any)) map[string]any {
	obj := map[string]any{
		"apiVersion": "workspaces.atrium.dev/v1alpha1",
		"kind":       "Workspace",
		"metadata": map[string]any{"name": name, "namespace": "default",
			"annotations": map[string]any{workspacesv1alpha1.AnnotationCreatedBy: tenant}},
		"spec": map[string]any{
			"image":     "quay.io/jupyter/base-notebook:2025-06-01",
			"resources": map[string]any{"requests": map[string]any{"cpu": "50m", "memory": "64Mi"}},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	return obj
}

func spec(obj map[string]any) map[string]any { return obj["spec"].(map[string]any) }
func annotations(obj map[string]any) map[string]any {
	return obj["metadata"].(map[string]any)["annotations"].(map[string]any)
}

func nested(depth int) any {
	var v any = "bottom"
	for range depth {
		v = map[string]any{"n": v}
	}
	return v
}

// yamlBomb expands a billion-laughs document of the given depth (10^depth leaves) as a tenant's
// tooling would before sending JSON; the expansion, not the anchors, reaches the API.
func yamlBomb(depth int) (string, error) {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(b.String()), &doc); err != nil {
		return "", err
	}
	out, err := json.Marshal(doc[fmt.Sprintf("l%d", depth-1)])
	return string(out), err
}

func mustBomb(t *testing.T, depth int) string {
	t.Helper()
	s, err := yamlBomb(depth)
	require.NoError(t, err, "expand the YAML bomb")
	return s
}

// TestBadInput sends hostile manifests as a tenant: each is refused by the API or answered
// with a Valid condition; the hub controller and the agents keep running, and a normal
// workspace still becomes Available afterwards.
func TestBadInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	pids := map[string]int{"atrium-hub": hubCtl.PID()}
	for name, a := range agents {
		pids["agent-"+name] = a.PID()
	}
	cfg, err := env.Hub.UserConfig(tenant, bootstrap.OrgPath(org))
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	ws := dyn.Resource(workspacesGVR).Namespace("default")

	// Deeper bombs do not even expand: the YAML library refuses excessive aliasing.
	_, err = yamlBomb(4)
	require.ErrorContains(t, err, "excessive aliasing")

	mib := 1 << 20
	name63 := "n" + strings.Repeat("x", 61) + "3"
	for _, tc := range []struct {
		name    string
		obj     map[string]any
		want    outcome
		message string
	}{
		{name: "displayName over 1 MiB", obj: manifest("bad-display", func(o map[string]any) {
			spec(o)["displayName"] = strings.Repeat("a", mib+1)
		}), want: rejected, message: "spec.displayName"},
		{name: "annotation over 1 MiB", obj: manifest("bad-annotation", func(o map[string]any) {
			annotations(o)["example.com/huge"] = strings.Repeat("a", mib+1)
		}), want: rejected, message: "metadata.annotations"},
		{name: "YAML bombs (50 x 10^3 leaves) expanded into annotations", obj: manifest("bad-bomb", func(o map[string]any) {
			bomb := mustBomb(t, 3)
			for i := range 50 {
				annotations(o)[fmt.Sprintf("example.com/bomb-%d", i)] = bomb
			}
		}), want: rejected, message: "metadata.annotations"},
		{name: "YAML bomb (10^3 leaves) expanded into an annotation is data", obj: manifest("bomb-small", func(o map[string]any) {
			annotations(o)["example.com/bomb"] = mustBomb(t, 3)
		}), want: valid},
		{name: "unknown field nested 200 deep is pruned", obj: manifest("deep-unknown", func(o map[string]any) {
			spec(o)["unknownField"] = nested(200)
		}), want: valid},
		{name: "unicode name", obj: manifest("ünïcødé-wörkspace", nil), want: rejected, message: "metadata.name"},
		{name: "name of 64 characters", obj: manifest(name63+"4", nil), want: rejected, message: "63"},
		{name: "name of 63 characters", obj: manifest(name63, nil), want: valid},
		{name: "unicode and control characters in displayName are data", obj: manifest("unicode-display", func(o map[string]any) {
			spec(o)["displayName"] = "\u202eevil\u202c 🚀 \u200b{{ .Service }}\n---\nkind: Secret"
		}), want: valid},
		{name: "wrong type for desiredStatus", obj: manifest("bad-type", func(o map[string]any) {
			spec(o)["desiredStatus"] = 42
		}), want: rejected, message: "desiredStatus"},
		{name: "unknown desiredStatus", obj: manifest("bad-enum", func(o map[string]any) {
			spec(o)["desiredStatus"] = "Exploding"
		}), want: rejected, message: "desiredStatus"},
		{name: "malformed quantity", obj: manifest("bad-quantity", func(o map[string]any) {
			spec(o)["resources"] = map[string]any{"requests": map[string]any{"cpu": "lots"}}
		}), want: rejected, message: "spec.resources.requests.cpu"},
		{name: "image with whitespace", obj: manifest("bad-image", func(o map[string]any) {
			spec(o)["image"] = "quay.io/x y"
		}), want: rejected, message: "spec.image"},
		{name: "relative mount path", obj: manifest("bad-mount", func(o map[string]any) {
			spec(o)["storage"] = map[string]any{"mountPath": "../../etc"}
		}), want: rejected, message: "mountPath"},
		{name: "template that does not exist", obj: manifest("bad-template", func(o map[string]any) {
			delete(spec(o), "image")
			spec(o)["templateRef"] = map[string]any{"name": "no-such-template"}
		}), want: invalid, message: "no-such-template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ws.Create(ctx, &unstructured.Unstructured{Object: tc.obj}, metav1.CreateOptions{})
			name := tc.obj["metadata"].(map[string]any)["name"].(string)
			if tc.want == rejected {
				require.Error(t, err, "the API admits it")
				msg := err.Error()
				if len(msg) > 300 {
					msg = msg[:300] + "..."
				}
				require.Contains(t, err.Error(), tc.message, "rejection message: %s", msg)
				t.Logf("rejected: %s", msg)
				return
			}
			require.NoError(t, err)
			t.Cleanup(func() {
				_ = ws.Delete(context.Background(), name, metav1.DeleteOptions{})
			})
			var last *workspacesv1alpha1.Workspace
			waitUntil(t, ctx, 90*time.Second, "the hub answers with a Valid condition", func(ctx context.Context) bool {
				w := &workspacesv1alpha1.Workspace{}
				if err := orgClient(t).Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, w); err != nil {
					return false
				}
				last = w
				c := w.GetCondition(workspacesv1alpha1.ConditionValid)
				return c != nil && c.ObservedGeneration == w.Generation
			})
			c := last.GetCondition(workspacesv1alpha1.ConditionValid)
			if tc.want == invalid {
				require.Equal(t, metav1.ConditionFalse, c.Status)
				require.NotEmpty(t, c.Reason)
				require.Contains(t, c.Message, tc.message)
				t.Logf("Valid=False %s: %s", c.Reason, c.Message)
			} else {
				require.Equal(t, metav1.ConditionTrue, c.Status, "Valid: %s: %s", c.Reason, c.Message)
			}
		})
	}

	for name, pid := range pids {
		require.True(t, alive(pid), "%s (pid %d) still runs", name, pid)
	}
	c := tenantClient(t)
	require.NoError(t, createAll(ctx, c, []string{"after-bad-input"}))
	t.Cleanup(func() { _ = deleteAll(context.Background(), c, []string{"after-bad-input"}) })
	waitUntil(t, ctx, 2*time.Minute, "a normal workspace becomes Available after the bad input", func(ctx context.Context) bool {
		w := &workspacesv1alpha1.Workspace{}
		return c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "after-bad-input"}, w) == nil && w.IsAvailable()
	})
	for name, pid := range pids {
		require.True(t, alive(pid), "%s (pid %d) still runs", name, pid)
	}
}
