package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newRegistry returns the Prometheus registry of serve: Go and process
// collectors, and the store's figures read at scrape time.
func (s *service) newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certstatus_db_file_bytes", Help: "Size of certstatus.db."},
			func() float64 { return float64(s.store.Stats().FileBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_db_writes_total", Help: "Durable writes (issue, revoke, delete, CA and key changes, cache writes)."},
			func() float64 { return float64(s.store.Stats().Writes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_db_commits_total", Help: "Transactions (fsyncs) the durable writes took: concurrent writes share commits."},
			func() float64 { return float64(s.store.Stats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_db_write_seconds_total", Help: "Total latency of the durable writes (waiting for a commit, transaction, fsync); divide by certstatus_db_writes_total for the mean."},
			func() float64 { return s.store.Stats().WriteTime.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_ocsp_answer_cache_hits_total", Help: "Pre-signed OCSP answers served from the in-memory answer cache (--ocsp-answer-cache)."},
			func() float64 { return float64(s.store.Stats().AnswerCacheHits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_ocsp_answer_cache_misses_total", Help: "Pre-signed OCSP answers the serving path read from the database with the cache on."},
			func() float64 { return float64(s.store.Stats().AnswerCacheMisses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certstatus_db_open_read_transactions", Help: "Read transactions open now."},
			func() float64 { return float64(s.store.Stats().OpenReadTx) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certstatus_cas", Help: "CAs in the store."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				cas, _ := s.store.CAs(ctx)
				return float64(len(cas))
			}),
	)
	return reg
}
