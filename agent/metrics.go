package agent

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// Agent metrics, beside controller-runtime's own reconcile duration and error metrics
// (controller_runtime_reconcile_time_seconds, controller_runtime_reconcile_errors_total) for
// the atrium-syncdown, atrium-syncup and atrium-materializer controllers.
var (
	statusSyncLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "atrium_agent_status_sync_lag_seconds",
		Help:    "Time from a local status change to its write into the hub Workspace status.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
	})
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

func registerMetrics(reader client.Reader, cluster string) {
	for _, c := range []prometheus.Collector{statusSyncLag, heartbeats, newWorkspacesByPhase(reader, cluster)} {
		if err := metrics.Registry.Register(c); err != nil {
			// Registering twice (several agents in one test process) keeps the first.
			if !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
				panic(err)
			}
		}
	}
}
