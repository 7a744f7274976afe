package responder

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the responder's Prometheus metrics. Labels are bounded: no
// serial, issuer or key ever becomes a label value.
type Metrics struct {
	answers   *prometheus.CounterVec // outcome, cause
	requests  *prometheus.CounterVec // method
	served    *prometheus.CounterVec // source: cache or live
	age       prometheus.Histogram   // age of served answers (now - thisUpdate)
	signTime  prometheus.Histogram   // signing latency
	refreshed prometheus.Counter     // answers re-signed by the background refresh
	backlog   prometheus.Gauge       // answers due at the start of the last pass
	lastPass  prometheus.Gauge       // unix time of the last completed pass
}

// NewMetrics registers the responder's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certstatus_ocsp_answers_total",
			Help: "OCSP answers by outcome (good, revoked, unknown, malformed, unauthorized, tryLater, internal) and cause.",
		}, []string{"outcome", "cause"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certstatus_ocsp_requests_total",
			Help: "OCSP HTTP requests by method (GET, POST, other).",
		}, []string{"method"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certstatus_ocsp_signed_answers_total",
			Help: "Successful OCSP answers by source: pre-signed from the cache, or signed live.",
		}, []string{"source"}),
		age: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "certstatus_ocsp_answer_age_seconds",
			Help:    "Age (now - thisUpdate) of the OCSP answers served.",
			Buckets: []float64{1, 60, 600, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600},
		}),
		signTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "certstatus_ocsp_sign_seconds",
			Help:    "Time to sign one OCSP response.",
			Buckets: prometheus.ExponentialBuckets(0.00002, 2, 14),
		}),
		refreshed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "certstatus_ocsp_refreshed_total",
			Help: "Pre-signed OCSP answers re-signed by the background refresh.",
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "certstatus_ocsp_refresh_backlog",
			Help: "Pre-signed OCSP answers due for re-signing at the start of the last refresh pass.",
		}),
		lastPass: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "certstatus_ocsp_refresh_last_success_timestamp_seconds",
			Help: "Unix time at which the last background refresh pass completed.",
		}),
	}
	reg.MustRegister(m.answers, m.requests, m.served, m.age, m.signTime, m.refreshed, m.backlog, m.lastPass)
	return m
}

// The methods below accept a nil *Metrics, so the responder works without.

func (m *Metrics) answer(outcome, cause string) {
	if m != nil {
		m.answers.WithLabelValues(outcome, cause).Inc()
	}
}

func (m *Metrics) request(method string) {
	if m != nil {
		switch method {
		case "GET", "HEAD", "POST":
		default:
			method = "other"
		}
		m.requests.WithLabelValues(method).Inc()
	}
}

func (m *Metrics) servedFrom(cached bool, age time.Duration) {
	if m == nil {
		return
	}
	src := "live"
	if cached {
		src = "cache"
	}
	m.served.WithLabelValues(src).Inc()
	m.age.Observe(age.Seconds())
}

func (m *Metrics) signed(d time.Duration) {
	if m != nil {
		m.signTime.Observe(d.Seconds())
	}
}

func (m *Metrics) refreshPass(due, refreshed int, at time.Time) {
	if m != nil {
		m.backlog.Set(float64(due))
		m.refreshed.Add(float64(refreshed))
		m.lastPass.Set(float64(at.Unix()))
	}
}
