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
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/atrium-dev/atrium/agent/access"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// AccessProber makes one attempt of an access startup probe: a GET of url
// that must answer 2xx/3xx or one of extraSuccessCodes within timeout.
type AccessProber interface {
	Probe(ctx context.Context, url string, timeout time.Duration, extraSuccessCodes []int32) error
}

var _ AccessProber = &access.Prober{}

// Defaults of an accessStartupProbe built in Go, which skips schema defaulting.
const (
	defaultProbePeriod           = 2 * time.Second
	defaultProbeTimeout          = 5 * time.Second
	defaultProbeFailureThreshold = 30
)

// probeRecord is the progress of the access startup probe for one start of a
// workspace; see the package doc, "Access startup probe".
type probeRecord struct {
	// marker is the UID of the ready pod this start is about; "" after a stop.
	marker   types.UID
	nextAt   time.Time
	failures int32
	passed   bool
	failed   bool
	message  string
}

// probeTracker holds the probe records by LocalWorkspace UID.
type probeTracker struct {
	mu      sync.Mutex
	records map[types.UID]*probeRecord
	// uids maps names to UIDs, so a deleted workspace, known only by name
	// once gone, can be forgotten.
	uids map[types.NamespacedName]types.UID
}

func newProbeTracker() *probeTracker {
	return &probeTracker{records: map[types.UID]*probeRecord{}, uids: map[types.NamespacedName]types.UID{}}
}

// remember records the UID of a workspace by name.
func (t *probeTracker) remember(lw *computev1alpha1.LocalWorkspace) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := types.NamespacedName{Namespace: lw.Namespace, Name: lw.Name}
	if old, ok := t.uids[key]; ok && old != lw.UID {
		delete(t.records, old)
	}
	t.uids[key] = lw.UID
}

// forgetByName drops a deleted workspace.
func (t *probeTracker) forgetByName(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if uid, ok := t.uids[key]; ok {
		delete(t.records, uid)
		delete(t.uids, key)
	}
}

// reset forgets the progress of a stopped workspace, but remembers that this
// process has seen it, so its next start probes afresh.
func (t *probeTracker) reset(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.records[uid] = &probeRecord{}
}

// record returns the record of the start marked by marker, creating it when
// the start is new. seed is the verdict the status already holds; it is used
// only for a workspace this process has never seen (after an agent restart).
func (t *probeTracker) record(uid, marker types.UID, firstAt time.Time, seed func(*probeRecord)) *probeRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, seen := t.records[uid]
	if seen && rec.marker == marker {
		return rec
	}
	rec = &probeRecord{marker: marker, nextAt: firstAt}
	if !seen {
		seed(rec)
	}
	t.records[uid] = rec
	return rec
}

// runProbe advances the access startup probe of a running workspace whose
// access resources are applied, by at most one attempt, and requeues for the
// next one.
func (r *Reconciler) runProbe(ctx context.Context, s *scope, strategy *computev1alpha1.WorkspaceAccessStrategy, actx access.Context) probeResult {
	spec := strategy.Spec.AccessStartupProbe
	if spec == nil {
		return probeResult{State: probeNone}
	}
	url, err := access.RenderProbeURL(strategy, actx)
	if err != nil {
		s.access.Problem = invalidAccess(fmt.Errorf("failed to render the access probe URL of strategy %s: %w", strategy.Name, err))
		return probeResult{State: probePending}
	}
	marker := readyPod(s.pods)
	if marker == "" || !deploymentReady(s.deployment) {
		return probeResult{State: probePending, Message: "waiting for the workspace pod to become ready"}
	}

	period, timeout, threshold := probeSettings(spec)
	now := r.opts.Now()
	rec := r.probes.record(s.lw.UID, marker, now.Add(time.Duration(spec.InitialDelaySeconds)*time.Second), func(rec *probeRecord) {
		seedProbe(rec, s.orig)
	})

	// rec is only touched by reconciles of this workspace, which never run
	// concurrently, so no lock is held across the probe.
	switch {
	case rec.passed:
		return probeResult{State: probePassed}
	case rec.failed:
		return probeResult{State: probeFailed, Message: rec.message}
	case now.Before(rec.nextAt):
		s.requeue(rec.nextAt.Sub(now))
		if rec.message == "" {
			rec.message = fmt.Sprintf("waiting to probe %s", url)
		}
		return probeResult{State: probePending, Message: rec.message}
	}

	err = r.opts.Prober.Probe(ctx, url, timeout, spec.HTTPGet.AdditionalSuccessStatusCodes)
	if err == nil {
		rec.passed, rec.message = true, ""
		return probeResult{State: probePassed}
	}
	rec.failures++
	if rec.failures >= threshold {
		rec.failed = true
		rec.message = fmt.Sprintf("the access URL %s did not answer after %d attempts: %v", url, rec.failures, err)
		return probeResult{State: probeFailed, Message: rec.message}
	}
	rec.nextAt = now.Add(period)
	rec.message = fmt.Sprintf("the access URL %s does not answer yet (attempt %d of %d): %v", url, rec.failures, threshold, err)
	s.requeue(period)
	return probeResult{State: probePending, Message: rec.message}
}

// seedProbe takes over the verdict of the status for the current generation,
// so an agent restart neither re-probes a workspace that passed nor forgives
// one that failed.
func seedProbe(rec *probeRecord, lw *computev1alpha1.LocalWorkspace) {
	if c := lw.GetCondition(workspacesv1alpha1.ConditionAvailable); c != nil && c.ObservedGeneration == lw.Generation &&
		c.Status == metav1.ConditionTrue && c.Reason == string(workspacesv1alpha1.ReasonPodsReady) {
		rec.passed = true
		return
	}
	if c := lw.GetCondition(workspacesv1alpha1.ConditionDegraded); c != nil && c.ObservedGeneration == lw.Generation &&
		c.Status == metav1.ConditionTrue && c.Reason == string(workspacesv1alpha1.ReasonAccessProbeFailed) {
		rec.failed, rec.message = true, c.Message
	}
}

func probeSettings(spec *computev1alpha1.AccessStartupProbe) (period, timeout time.Duration, threshold int32) {
	period, timeout, threshold = defaultProbePeriod, defaultProbeTimeout, defaultProbeFailureThreshold
	if spec.PeriodSeconds > 0 {
		period = time.Duration(spec.PeriodSeconds) * time.Second
	}
	if spec.TimeoutSeconds > 0 {
		timeout = time.Duration(spec.TimeoutSeconds) * time.Second
	}
	if spec.FailureThreshold > 0 {
		threshold = spec.FailureThreshold
	}
	return period, timeout, threshold
}
