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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

func TestSweepTracker(t *testing.T) {
	lw := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nb", UID: "uid-1"}}
	strategy := &computev1alpha1.WorkspaceAccessStrategy{ObjectMeta: metav1.ObjectMeta{Name: "ingress", Generation: 1}}
	keep := map[accessKey]bool{{APIVersion: "v1", Kind: "ConfigMap", Name: "access-nb"}: true}
	key := sweepKey(strategy, keep)

	tr := newSweepTracker()
	if tr.done(lw, key) {
		t.Fatal("a workspace never swept counts as swept")
	}
	tr.record(lw, key)
	if !tr.done(lw, key) {
		t.Fatal("a recorded sweep is forgotten")
	}

	edited := strategy.DeepCopy()
	edited.Generation = 2
	renamed := map[accessKey]bool{{APIVersion: "v1", Kind: "ConfigMap", Name: "web-nb"}: true}
	recreated := lw.DeepCopy()
	recreated.UID = "uid-2"
	for name, tc := range map[string]struct {
		lw  *computev1alpha1.LocalWorkspace
		key string
	}{
		"the strategy was edited":           {lw, sweepKey(edited, keep)},
		"the rendering names other objects": {lw, sweepKey(strategy, renamed)},
		"everything is being removed":       {lw, sweepKey(strategy, nil)},
		"a new workspace of the same name":  {recreated, key},
	} {
		if tr.done(tc.lw, tc.key) {
			t.Errorf("%s: the old sweep still counts", name)
		}
	}
	tr.forgetByName(types.NamespacedName{Namespace: "ns", Name: "nb"})
	if tr.done(lw, key) {
		t.Error("a deleted workspace's sweep still counts")
	}
}
