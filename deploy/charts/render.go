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

// Package charts owns Atrium's Helm charts (atrium-agent, atrium-hub, atrium-console) and renders them with the
// Helm library the way `helm template` does, for the chart tests (here and test/e2e/charts).
package charts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The charts of this directory.
const (
	Agent   = "atrium-agent"
	Hub     = "atrium-hub"
	Console = "atrium-console"
)

// Dir returns the directory of the chart called name, found next to this source file so tests
// work from any package.
func Dir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), name)
}

// Rendered is a chart rendered for one release.
type Rendered struct {
	// CRDs are the chart's crds/ files, which Helm installs before everything else.
	CRDs []*unstructured.Unstructured
	// Objects are the rendered templates, in a stable order (template file, then position).
	Objects []*unstructured.Unstructured
}

// Find returns the rendered object of kind and name, or nil.
func (r *Rendered) Find(kind, name string) *unstructured.Unstructured {
	for _, o := range r.Objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// Kinds returns the rendered objects of kind.
func (r *Rendered) Kinds(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.Objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// Render renders chart name for release in namespace with values over the chart's defaults,
// as an install would (`helm template`).
func Render(name, release, namespace string, values map[string]any) (*Rendered, error) {
	chrt, err := loader.Load(Dir(name))
	if err != nil {
		return nil, fmt.Errorf("failed to load chart %s: %w", name, err)
	}
	vals, err := chartutil.ToRenderValues(chrt, values,
		chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("failed to compose values of %s: %w", name, err)
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", name, err)
	}
	out := &Rendered{}
	for _, crd := range chrt.CRDObjects() {
		objs, err := decode(crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("failed to decode %s: %w", crd.Filename, err)
		}
		out.CRDs = append(out.CRDs, objs...)
	}
	paths := make([]string, 0, len(files))
	for path := range files {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if !strings.HasSuffix(path, ".yaml") || strings.HasPrefix(filepath.Base(path), "_") {
			continue // NOTES.txt and helpers
		}
		objs, err := decode([]byte(files[path]))
		if err != nil {
			return nil, fmt.Errorf("failed to decode %s: %w", path, err)
		}
		out.Objects = append(out.Objects, objs...)
	}
	return out, nil
}

// decode splits a multi-document YAML stream into objects, skipping empty documents.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := map[string]any{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
}

// Lint runs `helm lint` on chart name with values and returns its warnings and errors (info
// messages, such as a missing icon, are not returned).
func Lint(name string, values map[string]any) []string {
	linter := lint.All(Dir(name), values, "atrium-system", false)
	var problems []string
	for _, m := range linter.Messages {
		if m.Severity >= support.WarningSev {
			problems = append(problems, m.Error())
		}
	}
	return problems
}

// Chart loads chart name, for tests that look at its metadata and files.
func Chart(name string) (*chart.Chart, error) {
	return loader.Load(Dir(name))
}
