package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// registerMetrics registers serve's Go and process collectors and the
// store's figures, read at scrape time, with reg.
func (s *service) registerMetrics(reg *prometheus.Registry) {
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
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_db_corrupt_reads_total", Help: "Reads that found a stored value corrupt (checksum, decoding, damaged page): answered as errors, never as a status; the log names each value, certstatus check lists them."},
			func() float64 { return float64(s.store.Stats().CorruptReads) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_db_write_failures_total", Help: "Writes the store could not make durable (disk full, I/O error, damaged file): answered ServiceUnavailable.StorageWriteFailed; /readyz says so until a write succeeds."},
			func() float64 { return float64(s.store.Stats().WriteFailures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certstatus_db_writable", Help: "1 while the store takes writes, 0 after a write failed (until one succeeds) or the database engine failed inside a write (until restart)."},
			func() float64 {
				if s.store.Writable() != nil {
					return 0
				}
				return 1
			}),
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
}
