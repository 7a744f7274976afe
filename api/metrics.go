package api

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the API's Prometheus metrics. The action label is one of the
// known actions or "unknown"; codes come from this package's fixed set;
// no key, identifier or serial is ever a label value.
type Metrics struct {
	calls    *prometheus.CounterVec // action, code ("OK" on success)
	auth     *prometheus.CounterVec // signature (v1, v3, none), code
	duration *prometheus.HistogramVec
	nonces   *prometheus.CounterVec // reason (per_key, total)
}

// NewMetrics registers the API's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certstatus_api_calls_total",
			Help: "JSON API calls by action and result code (OK, or the Alibaba error code such as Throttling.User).",
		}, []string{"action", "code"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certstatus_api_auth_failures_total",
			Help: "Authentication failures by signature version (v1, v3, none) and code (SignatureDoesNotMatch, InvalidTimeStamp.Expired, SignatureNonceUsed, InvalidAccessKeyId.NotFound, ...).",
		}, []string{"signature", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certstatus_api_call_seconds",
			Help:    "JSON API call latency by action.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"action"}),
		nonces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certstatus_api_nonce_evictions_total",
			Help: "Signature nonces forgotten before their time because an AccessKey (per_key) or the whole cache (total) was at its bound; the key then refuses requests signed at or before the evicted nonce.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.calls, m.auth, m.duration, m.nonces)
	return m
}

// label bounds an action name to the known ones.
func label(action string) string {
	if _, ok := actions[action]; ok {
		return action
	}
	if _, ok := unsupported[action]; ok {
		return action
	}
	return "unknown"
}

func (m *Metrics) call(action, code string, d time.Duration) {
	if m == nil {
		return
	}
	a := label(action)
	m.calls.WithLabelValues(a, code).Inc()
	m.duration.WithLabelValues(a).Observe(d.Seconds())
}

func (m *Metrics) authFailure(sig, code string) {
	if m != nil {
		m.auth.WithLabelValues(sig, code).Inc()
	}
}

func (m *Metrics) nonceEvicted(reason string) {
	if m != nil {
		m.nonces.WithLabelValues(reason).Inc()
	}
}
