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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

const (
	// maxTemplateOutputBytes caps one template's output before parsing; it matches the
	// API's limit on the template itself, which is plenty for one object.
	maxTemplateOutputBytes = 64 << 10
	// maxObjectBytes caps one rendered object, as JSON, after tenant data is substituted.
	// Tenant annotations alone may be 256 KiB, so a template copying them all can fail here.
	maxObjectBytes = 256 << 10
	// maxNameLength is the DNS-1123 subdomain limit. Kinds whose names must be DNS labels
	// (63) are rare among access resources; the API server reports those.
	maxNameLength = validation.DNS1123SubdomainMaxLength
)

// RenderResources renders every accessResourceTemplate of strategy into exactly one object.
//
// Each object has the declared kind and apiVersion (another one is an error), namespace
// ctx.Workspace.Namespace and name {namePrefix}-{ctx.Workspace.Name} (cut to 253 characters
// with a hash suffix when longer) whatever the template says, and selectorLabels merged
// into metadata.labels over the template's. Nothing else is added. All templates are
// rendered; errors name the strategy, the template index and kind and what is wrong.
func RenderResources(strategy *computev1alpha1.WorkspaceAccessStrategy, ctx Context, selectorLabels map[string]string) ([]*unstructured.Unstructured, error) {
	if strategy == nil {
		return nil, errors.New("failed to render access resources: no WorkspaceAccessStrategy")
	}
	if err := validateTarget(ctx); err != nil {
		return nil, fmt.Errorf("failed to render access resources of WorkspaceAccessStrategy %q: %w", strategy.Name, err)
	}
	o, err := newOpaque()
	if err != nil {
		return nil, err
	}
	tctx, err := o.context(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to render access resources of WorkspaceAccessStrategy %q: %w", strategy.Name, err)
	}
	var (
		objs []*unstructured.Unstructured
		errs []error
	)
	for i, t := range strategy.Spec.AccessResourceTemplates {
		obj, err := renderResource(o, i, &t, tctx, ctx, selectorLabels)
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to render accessResourceTemplates[%d] (kind %s, apiVersion %s) of WorkspaceAccessStrategy %q: %w",
				i, t.Kind, t.APIVersion, strategy.Name, err))
			continue
		}
		objs = append(objs, obj)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return objs, nil
}

// validateTarget checks the names this package writes into objects itself.
func validateTarget(ctx Context) error {
	if errs := validation.IsDNS1123Subdomain(ctx.Workspace.Name); len(errs) > 0 {
		return fmt.Errorf("workspace name %s is invalid: %s", clip(ctx.Workspace.Name), strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(ctx.Workspace.Namespace); len(errs) > 0 {
		return fmt.Errorf("workspace namespace %s is invalid: %s", clip(ctx.Workspace.Namespace), strings.Join(errs, "; "))
	}
	return nil
}

func renderResource(o *opaque, i int, t *computev1alpha1.AccessResourceTemplate, tctx, ctx Context, selectorLabels map[string]string) (*unstructured.Unstructured, error) {
	if t.Kind == "" || t.APIVersion == "" {
		return nil, errors.New("kind and apiVersion must be declared")
	}
	tmpl, err := parseTemplate(o, fmt.Sprintf("accessResourceTemplates[%d].template", i), t.Template)
	if err != nil {
		return nil, err
	}
	out, err := execute(tmpl, tctx, maxTemplateOutputBytes)
	if err != nil {
		return nil, err
	}
	// Only the platform's text is parsed: every value from the context is still a token.
	obj, err := parseOneMapping(out)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ field, want string }{{"kind", t.Kind}, {"apiVersion", t.APIVersion}} {
		got, ok := obj[f.field].(string)
		switch {
		case !ok:
			return nil, fmt.Errorf("rendered object has no %s, want %q", f.field, f.want)
		case o.holds(got):
			return nil, fmt.Errorf("rendered %s is made of workspace data, want %q", f.field, f.want)
		case got != f.want:
			return nil, fmt.Errorf("rendered %s %q, want the declared %q", f.field, got, f.want)
		}
	}

	s := substituter{o: o}
	substituted, err := s.node(obj, true)
	if err != nil {
		return nil, err
	}
	obj = substituted.(map[string]any)

	md := map[string]any{}
	switch m := obj["metadata"].(type) {
	case nil:
	case map[string]any:
		md = m
	default:
		return nil, fmt.Errorf("rendered metadata is a %s, want a mapping", typeName(m))
	}
	obj["metadata"] = md
	md["name"] = objectName(t.NamePrefix, ctx.Workspace.Name)
	md["namespace"] = ctx.Workspace.Namespace
	if len(selectorLabels) > 0 {
		labels := map[string]any{}
		switch l := md["labels"].(type) {
		case nil:
		case map[string]any:
			labels = l
		default:
			return nil, fmt.Errorf("rendered metadata.labels is a %s, want a mapping", typeName(l))
		}
		for k, v := range selectorLabels {
			labels[k] = v
		}
		md["labels"] = labels
	}

	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("failed to encode rendered object: %w", err)
	}
	if len(data) > maxObjectBytes {
		return nil, fmt.Errorf("%w: rendered object is %d bytes, more than %d", errTooLarge, len(data), maxObjectBytes)
	}
	if bytes.Contains(data, []byte(o.prefix)) {
		// A token survived in a form substitution does not recognize (cut, or encoded by a
		// YAML tag); the object would carry nonsense, so refuse it.
		return nil, errors.New("rendered object holds a mangled placeholder of workspace data")
	}
	u := &unstructured.Unstructured{Object: obj}
	if u.GetKind() != t.Kind || u.GetAPIVersion() != t.APIVersion {
		return nil, fmt.Errorf("rendered %s %s, want the declared %s %s", u.GetAPIVersion(), u.GetKind(), t.APIVersion, t.Kind)
	}
	return u, nil
}

// parseOneMapping parses out as exactly one YAML document whose root is a mapping, into the
// JSON-compatible form of unstructured objects (integers as int64).
func parseOneMapping(out []byte) (map[string]any, error) {
	dec := goyaml.NewDecoder(bytes.NewReader(out))
	var first, second any
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("template rendered no object")
		}
		return nil, fmt.Errorf("failed to parse rendered YAML: %w", err)
	}
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("failed to parse rendered YAML: %w", err)
		}
		return nil, errors.New("template rendered more than one YAML document, want exactly one object")
	}
	j, err := yaml.YAMLToJSONStrict(out)
	if err != nil {
		return nil, fmt.Errorf("failed to parse rendered YAML: %w", err)
	}
	var root any
	if err := utiljson.Unmarshal(j, &root); err != nil {
		return nil, fmt.Errorf("failed to parse rendered YAML: %w", err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template rendered a %s, want one object (a YAML mapping)", typeName(root))
	}
	return obj, nil
}

// substituter puts the real values back into a parsed tree. It touches only string scalars
// and mapping keys, so a value can only ever become (part of) a string.
type substituter struct {
	o *opaque
	// budget counts the bytes of strings substitution produced, so many references to a
	// large value fail fast instead of building a huge object first.
	budget int
}

func (s *substituter) str(v string) (string, error) {
	if !s.o.holds(v) {
		return v, nil
	}
	out, err := s.o.expand(v, nil, maxObjectBytes-s.budget)
	if errors.Is(err, errTooLarge) {
		return "", fmt.Errorf("%w: rendered object is more than %d bytes after substituting workspace data", errTooLarge, maxObjectBytes)
	}
	if err != nil {
		return "", err
	}
	s.budget += len(out)
	return out, nil
}

func (s *substituter) node(n any, root bool) (any, error) {
	switch n := n.(type) {
	case string:
		return s.str(n)
	case []any:
		for i, c := range n {
			v, err := s.node(c, false)
			if err != nil {
				return nil, err
			}
			n[i] = v
		}
		return n, nil
	case map[string]any:
		type entry struct {
			key   string
			value any
		}
		out := make(map[string]any, len(n))
		var fromData []entry
		for k, c := range n {
			v, err := s.node(c, false)
			if err != nil {
				return nil, err
			}
			if !s.o.holds(k) {
				out[k] = v
				continue
			}
			if root {
				return nil, errors.New("workspace data may not name a top-level field")
			}
			real, err := s.str(k)
			if err != nil {
				return nil, err
			}
			fromData = append(fromData, entry{real, v})
		}
		// Keys from workspace data go in after all platform keys, so a clash with a platform
		// key (or between two of them) is always reported rather than overwriting either.
		for _, e := range fromData {
			if _, dup := out[e.key]; dup {
				return nil, fmt.Errorf("key %s from workspace data is already set", clip(e.key))
			}
			out[e.key] = e.value
		}
		return out, nil
	}
	return n, nil
}

// objectName is {prefix}-{name}, cut to maxNameLength with a hash of the full name, so
// distinct workspaces keep distinct names and the same workspace always gets the same one.
func objectName(prefix, name string) string {
	full := prefix + "-" + name
	if len(full) <= maxNameLength {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	suffix := hex.EncodeToString(sum[:])[:10]
	head := strings.TrimRight(full[:maxNameLength-len(suffix)-1], "-.")
	return head + "-" + suffix
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}

// clip quotes s for an error message, shortened: tenant values may be megabytes.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...", truncRunes(s, max))
}
