package materialize

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestAccessStartupProbe plays the IDE with an HTTP server on loopback: a
// workspace is Available only once its URL answers, a URL that keeps failing
// makes it Degraded for good, and a stop and start probes afresh.
func TestAccessStartupProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := setup(t)
	ns := h.newNamespace(t, ctx, "mat-probe")

	var healthy atomic.Bool
	var hits atomic.Int64
	ide := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !healthy.Load() {
			http.Error(w, "starting", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer ide.Close()

	strategy := &computev1alpha1.WorkspaceAccessStrategy{
		ObjectMeta: metav1.ObjectMeta{Name: "probed"},
		Spec: computev1alpha1.WorkspaceAccessStrategySpec{
			AccessResourceTemplates: []computev1alpha1.AccessResourceTemplate{{Kind: "ConfigMap", APIVersion: "v1", NamePrefix: "route", Template: configMapTemplate}},
			AccessURLTemplate:       ide.URL + "/ws/{{ .Workspace.Name }}/",
			AccessStartupProbe: &computev1alpha1.AccessStartupProbe{
				HTTPGet:          computev1alpha1.AccessHTTPGetProbe{URLTemplate: ide.URL + "/ws/{{ .Workspace.Name }}/api/status"},
				PeriodSeconds:    1,
				TimeoutSeconds:   2,
				FailureThreshold: 2,
			},
		},
	}
	require.NoError(t, h.client.Create(ctx, strategy))

	t.Run("success", func(t *testing.T) {
		healthy.Store(true)
		h.bindHome(t, ctx, ns, "ok-nb")
		lw := newLocalWorkspace(ns, "ok-nb", strategy.Name)
		require.NoError(t, h.client.Create(ctx, lw))
		got := h.waitFor(t, ctx, lw, "Available", func(lw *computev1alpha1.LocalWorkspace) bool {
			return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
		})
		require.Equal(t, ide.URL+"/ws/ok-nb/", got.Status.AccessURL)
		require.Positive(t, hits.Load())
	})

	t.Run("failure, then stop and start", func(t *testing.T) {
		healthy.Store(false)
		h.bindHome(t, ctx, ns, "bad-nb")
		lw := newLocalWorkspace(ns, "bad-nb", strategy.Name)
		require.NoError(t, h.client.Create(ctx, lw))
		got := h.waitFor(t, ctx, lw, "Degraded AccessProbeFailed", func(lw *computev1alpha1.LocalWorkspace) bool {
			c := lw.GetCondition(workspacesv1alpha1.ConditionDegraded)
			return isTrue(lw, workspacesv1alpha1.ConditionDegraded) && c.Reason == string(workspacesv1alpha1.ReasonAccessProbeFailed)
		})
		msg := got.GetCondition(workspacesv1alpha1.ConditionDegraded).Message
		require.Contains(t, msg, ide.URL+"/ws/bad-nb/api/status")
		require.Contains(t, msg, "500")
		require.False(t, isTrue(got, workspacesv1alpha1.ConditionAvailable))
		require.Equal(t, workspacesv1alpha1.WorkspacePhaseFailed, got.Status.Phase)

		// It stays failed: fixing the IDE alone changes nothing, and no more probes are sent.
		healthy.Store(true)
		before := hits.Load()
		h.settle(t, ctx, lw)
		require.Zero(t, h.writesDuring(t, ctx, lw, 3))
		require.Equal(t, before, hits.Load(), "a failed probe is not retried until the workspace is restarted")
		got, err := h.get(ctx, lw)
		require.NoError(t, err)
		require.True(t, isTrue(got, workspacesv1alpha1.ConditionDegraded))

		require.NoError(t, h.setDesired(ctx, lw, workspacesv1alpha1.DesiredStatusStopped))
		h.waitFor(t, ctx, lw, "Stopped", func(lw *computev1alpha1.LocalWorkspace) bool {
			return lw.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped
		})
		require.NoError(t, h.setDesired(ctx, lw, workspacesv1alpha1.DesiredStatusRunning))
		got = h.waitFor(t, ctx, lw, "Available after restart", func(lw *computev1alpha1.LocalWorkspace) bool {
			return isTrue(lw, workspacesv1alpha1.ConditionAvailable)
		})
		require.False(t, isTrue(got, workspacesv1alpha1.ConditionDegraded))
	})
}
