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
	"slices"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// sweepTracker remembers, per workspace, the last sweep for stray access resources that found
// none: a list, by the access selector, of every kind the strategy renders. Such strays exist
// only when this agent applied an object and stopped (or its rendering changed) before the
// status recorded it, so one sweep per workspace, strategy generation and set of kept objects
// in this process finds them all; repeating it on every reconcile only costs one LIST per kind
// against the API server. The status's own list of access resources is still checked on every
// reconcile.
type sweepTracker struct {
	mu    sync.Mutex
	swept map[types.NamespacedName]sweep
}

type sweep struct {
	uid types.UID
	key string
}

func newSweepTracker() *sweepTracker {
	return &sweepTracker{swept: map[types.NamespacedName]sweep{}}
}

// sweepKey identifies what a sweep covered: the strategy (name and generation) and the access
// resources kept (none when all are being removed).
func sweepKey(strategy *computev1alpha1.WorkspaceAccessStrategy, keep map[accessKey]bool) string {
	keys := make([]string, 0, len(keep))
	for k := range keep {
		keys = append(keys, k.APIVersion+"/"+k.Kind+"/"+k.Name)
	}
	slices.Sort(keys)
	return strategy.Name + "@" + strconv.FormatInt(strategy.Generation, 10) + ":" + strings.Join(keys, ",")
}

// done reports whether a sweep with key found nothing left for lw.
func (t *sweepTracker) done(lw *computev1alpha1.LocalWorkspace, key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.swept[types.NamespacedName{Namespace: lw.Namespace, Name: lw.Name}]
	return ok && s.uid == lw.UID && s.key == key
}

// record remembers a sweep with key that found nothing left for lw.
func (t *sweepTracker) record(lw *computev1alpha1.LocalWorkspace, key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.swept[types.NamespacedName{Namespace: lw.Namespace, Name: lw.Name}] = sweep{uid: lw.UID, key: key}
}

// forgetByName drops a deleted workspace.
func (t *sweepTracker) forgetByName(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.swept, key)
}
