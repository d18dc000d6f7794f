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
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/atrium-dev/atrium/agent/access"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

type fakeProber struct {
	err   error
	calls int
}

func (f *fakeProber) Probe(context.Context, string, time.Duration, []int32) error {
	f.calls++
	return f.err
}

func TestRunProbe(t *testing.T) {
	now := time.Unix(1000, 0)
	strategy := &computev1alpha1.WorkspaceAccessStrategy{
		ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Spec: computev1alpha1.WorkspaceAccessStrategySpec{AccessStartupProbe: &computev1alpha1.AccessStartupProbe{
			HTTPGet:             computev1alpha1.AccessHTTPGetProbe{URLTemplate: "http://127.0.0.1:1/probe"},
			InitialDelaySeconds: 5, PeriodSeconds: 2, FailureThreshold: 2,
		}},
	}
	tests := []struct {
		name      string
		err       error
		steps     []time.Duration // clock offsets of successive reconciles
		wantState probeState
		wantCalls int
	}{
		{name: "waits for the initial delay", steps: []time.Duration{0, 4 * time.Second}, wantState: probePending, wantCalls: 0},
		{name: "passes", steps: []time.Duration{0, 5 * time.Second}, wantState: probePassed, wantCalls: 1},
		{name: "fails after the threshold and stays failed", err: errors.New("HTTP 500"),
			steps: []time.Duration{0, 5 * time.Second, 6 * time.Second, 7 * time.Second, 30 * time.Second}, wantState: probeFailed, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prober := &fakeProber{err: tt.err}
			var clock time.Time
			r := NewReconciler(Options{Prober: prober, Now: func() time.Time { return clock }})
			lw := newLW()
			var res probeResult
			for _, step := range tt.steps {
				clock = now.Add(step)
				s := &scope{lw: lw, orig: lw.DeepCopy(), deployment: deployment(1, 1), pods: []corev1.Pod{readyPodObj()}}
				res = r.runProbe(context.Background(), s, strategy, access.NewContext(lw, nil, nil, strategy, "alice-nb", 8888))
			}
			require.Equal(t, tt.wantState, res.State, res.Message)
			require.Equal(t, tt.wantCalls, prober.calls)
		})
	}

	t.Run("a new pod probes afresh", func(t *testing.T) {
		prober := &fakeProber{err: errors.New("down")}
		r := NewReconciler(Options{Prober: prober, Now: func() time.Time { return now.Add(time.Hour) }})
		lw := newLW()
		run := func(p corev1.Pod) probeResult {
			s := &scope{lw: lw, orig: lw.DeepCopy(), deployment: deployment(1, 1), pods: []corev1.Pod{p}}
			return r.runProbe(context.Background(), s, strategy, access.NewContext(lw, nil, nil, strategy, "alice-nb", 8888))
		}
		r.probes.record(lw.UID, "pod-1", now, func(rec *probeRecord) { rec.failed = true })
		require.Equal(t, probeFailed, run(readyPodObj()).State)
		second := readyPodObj()
		second.UID = "pod-2"
		prober.err = nil
		require.Equal(t, probePending, run(second).State, "the initial delay of the new start applies")
	})
}
