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

package materialize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// toApplyObject converts a typed object to the unstructured form we apply:
// with apiVersion and kind, without status and nulls, and with
// DesiredHashAnnotation set.
func toApplyObject(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("failed to convert %s to unstructured: %w", gvk.Kind, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	delete(u.Object, "status")
	if err := withDesiredHash(u); err != nil {
		return nil, err
	}
	return u, nil
}

// withDesiredHash drops nulls from u and sets DesiredHashAnnotation to the
// hash of the rest, so any change of what we would write changes the hash.
func withDesiredHash(u *unstructured.Unstructured) error {
	pruneNulls(u.Object)
	annotations := u.GetAnnotations()
	delete(annotations, DesiredHashAnnotation)
	if len(annotations) == 0 {
		unstructured.RemoveNestedField(u.Object, "metadata", "annotations")
	} else {
		u.SetAnnotations(annotations)
	}
	raw, err := json.Marshal(u.Object) // map keys are sorted, so the hash is stable
	if err != nil {
		return fmt.Errorf("failed to hash %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	sum := sha256.Sum256(raw)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[DesiredHashAnnotation] = hex.EncodeToString(sum[:16])
	u.SetAnnotations(annotations)
	return nil
}

// pruneNulls removes null values from maps, recursively.
func pruneNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			pruneNulls(e)
		}
	case []any:
		for _, e := range t {
			pruneNulls(e)
		}
	}
}

// upToDate reports whether existing already holds everything desired sets:
// the same DesiredHashAnnotation (so our intent did not change, including
// fields we dropped) and the same value for every field of desired (so
// nobody edited what we own). Fields only existing has, such as API server
// defaults, are ignored.
func upToDate(desired, existing *unstructured.Unstructured) bool {
	if existing == nil {
		return false
	}
	if existing.GetDeletionTimestamp() != nil {
		return false
	}
	return contains(existing.Object, desired.Object, "")
}

// contains reports whether have holds every field of want with an equal
// value. Lists must have the same length and match element by element,
// except metadata.ownerReferences, where every wanted reference must be
// present (others may add theirs).
func contains(have, want any, path string) bool {
	switch w := want.(type) {
	case nil:
		return true
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			hv, found := h[k]
			if !found {
				if isEmpty(wv) {
					continue
				}
				return false
			}
			if !contains(hv, wv, path+"."+k) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		if path == ".metadata.ownerReferences" {
			for _, wv := range w {
				if !containsAny(h, wv, path) {
					return false
				}
			}
			return true
		}
		if len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i], path) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(have, want)
	}
}

func containsAny(have []any, want any, path string) bool {
	for _, h := range have {
		if contains(h, want, path) {
			return true
		}
	}
	return false
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// scalarEqual compares JSON scalars, numbers by value whatever their Go type.
func scalarEqual(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// apply server-side applies desired unless existing (nil when absent) is
// already up to date, and reports whether it wrote. On a write, desired is
// updated with the API server's answer.
func (r *Reconciler) apply(ctx context.Context, desired, existing *unstructured.Unstructured) (bool, error) {
	if upToDate(desired, existing) {
		return false, nil
	}
	if err := r.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("failed to apply %s %s/%s: %w", desired.GetKind(), desired.GetNamespace(), desired.GetName(), err)
	}
	return true, nil
}

// toUnstructured converts an object read from the cache for comparison with
// what we would apply.
func toUnstructured(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("failed to convert %s to unstructured: %w", gvk.Kind, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}
