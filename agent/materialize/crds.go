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
	"errors"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/atrium-dev/atrium/exports"
)

// crdEstablishTimeout bounds how long InstallCRDs waits for the API server to
// serve the CRDs.
const crdEstablishTimeout = time.Minute

// crdHashAnnotation records the hash of the CRD content the agent last applied.
const crdHashAnnotation = "atrium.dev/applied-hash"

// InstallCRDs server-side applies the compute.atrium.dev CRDs (LocalWorkspace,
// WorkspaceAccessStrategy) to the cluster of cfg and waits until they are
// Established, so a manager started afterwards can watch them. The agent
// calls it at start; it is idempotent.
func InstallCRDs(ctx context.Context, cfg *rest.Config) error {
	crds, err := exports.ComputeCRDs()
	if err != nil {
		return fmt.Errorf("failed to load the compute CRDs: %w", err)
	}
	cs, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create apiextensions client: %w", err)
	}
	for _, crd := range crds {
		crd = crd.DeepCopy()
		crd.APIVersion, crd.Kind = apiextensionsv1.SchemeGroupVersion.String(), "CustomResourceDefinition"
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
		if err != nil {
			return fmt.Errorf("failed to convert CRD %s: %w", crd.Name, err)
		}
		delete(obj, "status") // the API server owns it
		body, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("failed to encode CRD %s: %w", crd.Name, err)
		}
		// A restarted agent must not rewrite CRDs that are already current: the applied
		// content's hash is recorded on the CRD and compared first.
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:8])
		if existing, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{}); err == nil && existing.Annotations[crdHashAnnotation] == hash {
			continue
		}
		if err := unstructured.SetNestedField(obj, hash, "metadata", "annotations", crdHashAnnotation); err != nil {
			return fmt.Errorf("failed to annotate CRD %s: %w", crd.Name, err)
		}
		if body, err = json.Marshal(obj); err != nil {
			return fmt.Errorf("failed to encode CRD %s: %w", crd.Name, err)
		}
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Patch(ctx, crd.Name, types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)}); err != nil {
			return fmt.Errorf("failed to apply CRD %s: %w", crd.Name, err)
		}
	}

	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, crdEstablishTimeout, true, func(ctx context.Context) (bool, error) {
		for _, crd := range crds {
			got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				lastErr = err
				return false, nil
			}
			if !crdEstablished(got) {
				lastErr = fmt.Errorf("CRD %s is not Established yet", crd.Name)
				return false, nil
			}
			// Established comes before discovery serves the resource; a manager's REST mapper
			// asked in between fails with "no matches for kind", so wait for discovery too.
			if err := servedInDiscovery(cs, crd); err != nil {
				lastErr = err
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("failed to wait for the compute CRDs to be Established and served: %w", errors.Join(err, lastErr))
	}
	return nil
}

// servedInDiscovery reports an error unless the API server's discovery lists the CRD's
// resource in every served version.
func servedInDiscovery(cs apiextensionsclient.Interface, crd *apiextensionsv1.CustomResourceDefinition) error {
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gv := crd.Spec.Group + "/" + v.Name
		list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			return fmt.Errorf("discovery does not serve %s yet: %w", gv, err)
		}
		found := false
		for _, r := range list.APIResources {
			found = found || r.Name == crd.Spec.Names.Plural
		}
		if !found {
			return fmt.Errorf("discovery does not list %s in %s yet", crd.Spec.Names.Plural, gv)
		}
	}
	return nil
}

func crdEstablished(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}
