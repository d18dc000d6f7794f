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
	"encoding/json"
	"errors"
	"fmt"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// Annotations the syncer writes on a LocalWorkspace so access templates can
// see the hub workspace's metadata; see the package doc, "Contract with the
// syncer".
const (
	// HubLabelsAnnotation holds the hub workspace's labels as a JSON object of
	// strings.
	HubLabelsAnnotation = "atrium.dev/hub-labels"
	// HubAnnotationsAnnotation holds the hub workspace's annotations as a JSON
	// object of strings.
	HubAnnotationsAnnotation = "atrium.dev/hub-annotations"
)

// EncodeHubMetadata encodes a hub workspace's labels or annotations as the
// value of HubLabelsAnnotation or HubAnnotationsAnnotation. Keys are sorted,
// so equal maps always encode equally and the syncer writes nothing needless.
func EncodeHubMetadata(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("failed to encode hub metadata: %w", err)
	}
	return string(b), nil
}

// DecodeHubMetadata decodes the value of HubLabelsAnnotation or
// HubAnnotationsAnnotation. An empty value is an empty map.
func DecodeHubMetadata(value string) (map[string]string, error) {
	m := map[string]string{}
	if value == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(value), &m); err != nil {
		return map[string]string{}, fmt.Errorf("failed to decode hub metadata: %w", err)
	}
	return m, nil
}

// hubMetadata returns the hub labels and annotations of lw, and the decoding
// errors, if any (the maps are then empty, never partial).
func hubMetadata(lw *computev1alpha1.LocalWorkspace) (labels, annotations map[string]string, err error) {
	labels, lerr := DecodeHubMetadata(lw.Annotations[HubLabelsAnnotation])
	if lerr != nil {
		lerr = fmt.Errorf("annotation %s: %w", HubLabelsAnnotation, lerr)
	}
	annotations, aerr := DecodeHubMetadata(lw.Annotations[HubAnnotationsAnnotation])
	if aerr != nil {
		aerr = fmt.Errorf("annotation %s: %w", HubAnnotationsAnnotation, aerr)
	}
	return labels, annotations, errors.Join(lerr, aerr)
}
