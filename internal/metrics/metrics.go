// Package metrics owns the broker's Prometheus registry. It is created per
// server (no global default registry) so tests and multiple servers in one
// process never share counters.
package metrics

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Metrics holds every collector the broker exports.
type Metrics struct {
	Registry       *prometheus.Registry
	HTTPRequests   *prometheus.CounterVec
	HTTPDuration   *prometheus.HistogramVec
	NextcloudCalls *prometheus.CounterVec
	NextcloudTime  *prometheus.HistogramVec
	StoreDuration  *prometheus.HistogramVec
	Business       Business
	own            []prometheus.Collector // the broker's own collectors, for Names
}

// New registers all collectors on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qortal_oidc_http_request_duration_seconds", Help: "HTTP request latency by route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		NextcloudCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_nextcloud_calls_total", Help: "Nextcloud OCS calls by operation and outcome.",
		}, []string{"op", "outcome"}),
		NextcloudTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qortal_oidc_nextcloud_call_duration_seconds", Help: "Nextcloud OCS call latency by operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"op"}),
		StoreDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qortal_oidc_store_operation_duration_seconds", Help: "Store operation latency by operation and result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"op", "result"}),
		Business: newBusiness(),
	}
	m.Registry.MustRegister(m.HTTPRequests, m.HTTPDuration, m.NextcloudCalls, m.NextcloudTime, m.StoreDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Registry.MustRegister(m.Business.collectors()...)
	m.own = append([]prometheus.Collector{m.HTTPRequests, m.HTTPDuration, m.NextcloudCalls, m.NextcloudTime, m.StoreDuration},
		m.Business.collectors()...)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveNextcloud is the Nextcloud client's metrics hook.
func (m *Metrics) ObserveNextcloud(op, outcome string, d time.Duration) {
	m.NextcloudCalls.WithLabelValues(op, outcome).Inc()
	m.NextcloudTime.WithLabelValues(op).Observe(d.Seconds())
}

// ObserveStore records one store operation.
func (m *Metrics) ObserveStore(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		result = "not_found"
	case errors.Is(err, store.ErrUnavailable):
		result = "unavailable"
	default:
		result = "error"
	}
	m.StoreDuration.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names lists the metric names the broker itself exports (not the Go
// runtime's), whether or not they have samples yet: what a dashboard may
// query.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range m.own {
			c.Describe(ch)
		}
		close(ch)
	}()
	var out []string
	for d := range ch {
		if sm := fqName.FindStringSubmatch(d.String()); sm != nil {
			out = append(out, sm[1])
		}
	}
	return out
}
