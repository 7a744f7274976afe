package ca

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// OCSPMetrics are the metrics of the CA's OCSP signing: pre-signed
// answers and their background refresh.
type OCSPMetrics struct {
	signTime   prometheus.Histogram
	refreshedN prometheus.Counter
	backlog    prometheus.Gauge
	lastPass   prometheus.Gauge
}

// NewOCSPMetrics registers the CA's OCSP metrics with reg.
func NewOCSPMetrics(reg prometheus.Registerer) *OCSPMetrics {
	m := &OCSPMetrics{
		signTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "certstatus_ocsp_presign_seconds",
			Help:    "Time to sign one stored OCSP answer (at issuance, revocation or refresh).",
			Buckets: prometheus.ExponentialBuckets(0.00002, 2, 14),
		}),
		refreshedN: prometheus.NewCounter(prometheus.CounterOpts{
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
	reg.MustRegister(m.signTime, m.refreshedN, m.backlog, m.lastPass)
	return m
}

// The methods below accept a nil *OCSPMetrics.

func (m *OCSPMetrics) signed(d time.Duration) {
	if m != nil {
		m.signTime.Observe(d.Seconds())
	}
}

func (m *OCSPMetrics) refreshPass(due int, at time.Time) {
	if m != nil {
		m.backlog.Set(float64(due))
		m.lastPass.Set(float64(at.Unix()))
	}
}

// refreshed counts answers re-signed, batch by batch, so that a long pass
// shows its progress.
func (m *OCSPMetrics) refreshed(n int) {
	if m != nil {
		m.refreshedN.Add(float64(n))
	}
}
