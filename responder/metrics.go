package responder

import (
	"time"

	"github.com/certstatus/certstatus/certs"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the responder's Prometheus metrics. Labels are bounded: no
// serial, issuer or key ever becomes a label value.
type Metrics struct {
	answers  *prometheus.CounterVec // outcome, cause
	requests *prometheus.CounterVec // method
	served   *prometheus.CounterVec // source: cache or live
	age      prometheus.Histogram   // age of served answers (now - thisUpdate)
	signTime prometheus.Histogram   // live signing latency

	// The children the serving path counts on every request, resolved
	// once: WithLabelValues hashes its labels on every call.
	byMethod    map[string]prometheus.Counter // GET, HEAD, POST, other
	cacheAnswer [3]prometheus.Counter         // by certs.Status: (outcome, "cache")
	fromCache   prometheus.Counter
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
			Help:    "Time to sign one OCSP answer live (nonces, several CertIDs, no stored answer); stored answers: certstatus_ocsp_presign_seconds.",
			Buckets: prometheus.ExponentialBuckets(0.00002, 2, 14),
		}),
	}
	reg.MustRegister(m.answers, m.requests, m.served, m.age, m.signTime)
	m.byMethod = map[string]prometheus.Counter{}
	for _, method := range []string{"GET", "HEAD", "POST", "other"} {
		m.byMethod[method] = m.requests.WithLabelValues(method)
	}
	for _, st := range []certs.Status{certs.Unknown, certs.Good, certs.Revoked} {
		m.cacheAnswer[st] = m.answers.WithLabelValues(st.String(), "cache")
	}
	m.fromCache = m.served.WithLabelValues("cache")
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
		c, ok := m.byMethod[method]
		if !ok {
			c = m.byMethod["other"]
		}
		c.Inc()
	}
}

// answered counts a successful answer: one outcome per SingleResponse,
// its source and its age.
func (m *Metrics) answered(statuses []certs.Status, cached, nonce bool, age time.Duration) {
	if m == nil {
		return
	}
	switch {
	case cached:
		for _, st := range statuses {
			if int(st) < len(m.cacheAnswer) {
				m.cacheAnswer[st].Inc()
			} else {
				m.answers.WithLabelValues(st.String(), "cache").Inc()
			}
		}
		m.fromCache.Inc()
	default:
		cause := "live"
		if nonce {
			cause = "nonce"
		}
		for _, st := range statuses {
			m.answers.WithLabelValues(st.String(), cause).Inc()
		}
		m.served.WithLabelValues("live").Inc()
	}
	m.age.Observe(age.Seconds())
}

func (m *Metrics) signed(d time.Duration) {
	if m != nil {
		m.signTime.Observe(d.Seconds())
	}
}
