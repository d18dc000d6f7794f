package console

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the console's Prometheus metrics: what it costs the hub (requests, by method and
// code, and watches) and how many people use it.
type metrics struct {
	registry    *prometheus.Registry
	hubRequests *prometheus.CounterVec
	signIns     prometheus.Counter
	streams     prometheus.Gauge
	// accessChecks counts the proxies' access checks by answer.
	accessChecks *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		hubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_console_hub_requests_total",
			Help: "Requests the console sent to the hub on its users' behalf, by method, whether it was a watch, and response code.",
		}, []string{"method", "watch", "code"}),
		signIns: prometheus.NewCounter(prometheus.CounterOpts{Name: "atrium_console_sign_ins_total", Help: "Successful sign-ins."}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atrium_console_live_streams", Help: "Open live-update streams (browser tabs)."}),
		accessChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_console_access_checks_total",
			Help: "Access checks the proxies in front of workspaces asked, by answer (allowed, unauthorized, forbidden).",
		}, []string{"answer"}),
	}
	m.registry.MustRegister(m.hubRequests, m.signIns, m.streams, m.accessChecks, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// gauges registers the gauges read on scrape: sessions, and running organization watches.
func (m *metrics) gauges(sessions func() int, watches func() (int, int)) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atrium_console_sessions", Help: "Signed-in sessions."}, func() float64 { return float64(sessions()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atrium_console_watches", Help: "Running watches of an organization's workspaces (one per session and organization)."}, func() float64 {
			_, w := watches()
			return float64(w)
		}),
	)
}

func (m *metrics) hubRequest(method string, watch bool, code int) {
	m.hubRequests.WithLabelValues(method, strconv.FormatBool(watch), strconv.Itoa(code)).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
