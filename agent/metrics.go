package agent

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/atrium-dev/atrium/agent/workspacesync"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// Agent metrics, beside controller-runtime's own reconcile duration and error metrics
// (controller_runtime_reconcile_time_seconds, controller_runtime_reconcile_errors_total) for
// the atrium-workspacesync and atrium-materializer controllers.
var (
	statusSyncLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "atrium_agent_status_sync_lag_seconds",
		Help:    "Time from a local status change to its write into the hub Workspace status.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
	})
	hubWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "atrium_agent_hub_writes_total",
		Help: "Writes to hub Workspaces, by what they changed (finalizer, status) and result (written, conflict: met a newer version and requeued, error).",
	}, []string{"write", "result"})
	heartbeats = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "atrium_agent_heartbeats_total",
		Help: "Heartbeats written to the hub, by result.",
	}, []string{"result"})
)

// workspacesByPhase reports the local mirrors by phase when scraped, from the manager's cache.
type workspacesByPhase struct {
	reader client.Reader
	desc   *prometheus.Desc
}

func newWorkspacesByPhase(reader client.Reader, cluster string) *workspacesByPhase {
	return &workspacesByPhase{
		reader: reader,
		desc: prometheus.NewDesc("atrium_agent_workspaces", "Workspaces materialized on this compute cluster, by phase.",
			[]string{"phase"}, prometheus.Labels{"compute_cluster": cluster}),
	}
}

func (w *workspacesByPhase) Describe(ch chan<- *prometheus.Desc) { ch <- w.desc }

func (w *workspacesByPhase) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &computev1alpha1.LocalWorkspaceList{}
	if err := w.reader.List(ctx, list); err != nil {
		return
	}
	counts := map[string]int{}
	for _, lw := range list.Items {
		phase := string(lw.Status.Phase)
		if phase == "" {
			phase = "Unknown"
		}
		counts[phase]++
	}
	for phase, n := range counts {
		ch <- prometheus.MustNewConstMetric(w.desc, prometheus.GaugeValue, float64(n), phase)
	}
}

// recordHubWrite counts one write of the workspace syncer to a hub Workspace.
func recordHubWrite(write string, err error) {
	result := "written"
	switch {
	case apierrors.IsConflict(err):
		result = "conflict"
	case err != nil:
		result = "error"
	}
	hubWrites.WithLabelValues(write, result).Inc()
}

func registerMetrics(reader client.Reader, cluster string) {
	// Every series exists from the start, so a scrape before and after tells the difference.
	for _, write := range []string{workspacesync.WriteFinalizer, workspacesync.WriteStatus} {
		for _, result := range []string{"written", "conflict", "error"} {
			hubWrites.WithLabelValues(write, result)
		}
	}
	for _, c := range []prometheus.Collector{statusSyncLag, hubWrites, heartbeats, newWorkspacesByPhase(reader, cluster)} {
		if err := metrics.Registry.Register(c); err != nil {
			// Registering twice (several agents in one test process) keeps the first.
			if !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
				panic(err)
			}
		}
	}
}
