package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certstatus/certstatus/internal/connlimit"
)

// Connection caps of the two listeners. Each listener holds at most its
// cap of connections open (connlimit closes the idle one longest idle to
// let a new one in), so that a flood on one cannot take the descriptors
// the other listener and the store need.
const (
	defaultOCSPMaxConns = 10000
	defaultAPIMaxConns  = 1000
	// minMaxConns is the smallest cap serve starts with.
	minMaxConns = 16
	// descriptorReserve is what the process keeps beyond the two caps:
	// standard streams, the database, the two listening sockets, the
	// poller, CRL, backup, key and temporary files, and the connections
	// over a cap between their accept and their close.
	descriptorReserve = 64
)

// connCaps are the listeners' caps and the descriptor limit they fit in.
type connCaps struct {
	ocsp, api   int
	soft, hard  uint64 // RLIMIT_NOFILE once raised; 0 when unknown
	raisedFrom  uint64 // the soft limit before serve raised it; 0: not raised
	autoLowered bool   // a defaulted cap was lowered to fit the limit
}

// planConnCaps raises the soft RLIMIT_NOFILE to the hard limit and sizes
// the caps: flags set are kept (or refused when they do not fit), caps
// left to default take 10000 and 1000, or share what the limit leaves.
func planConnCaps(c *Config) (connCaps, error) {
	var caps connCaps
	var err error
	caps.soft, caps.hard, caps.raisedFrom, err = raiseNOFILE()
	if err != nil {
		return caps, err
	}
	return fitConnCaps(caps, c.OCSPMaxConns, c.APIMaxConns)
}

// fitConnCaps sizes the caps under caps.soft descriptors (no bound when
// 0) from the flags' values (0 for their defaults; checked by the config
// resolver).
func fitConnCaps(caps connCaps, ocspCap, apiCap int) (connCaps, error) {
	caps.ocsp, caps.api = ocspCap, apiCap
	autoOCSP, autoAPI := caps.ocsp == 0, caps.api == 0
	if autoOCSP {
		caps.ocsp = defaultOCSPMaxConns
	}
	if autoAPI {
		caps.api = defaultAPIMaxConns
	}
	if caps.soft == 0 || uint64(caps.ocsp+caps.api+descriptorReserve) <= caps.soft {
		return caps, nil
	}
	avail := int(min(caps.soft, 1<<30)) - descriptorReserve
	raise := fmt.Sprintf("raise the descriptor limit (ulimit -n; systemd LimitNOFILE=) to at least %d", caps.ocsp+caps.api+descriptorReserve)
	switch {
	case autoOCSP && autoAPI:
		caps.ocsp = avail * defaultOCSPMaxConns / (defaultOCSPMaxConns + defaultAPIMaxConns)
		caps.api = avail - caps.ocsp
	case autoOCSP:
		caps.ocsp = avail - caps.api
	case autoAPI:
		caps.api = avail - caps.ocsp
	default:
		return caps, fmt.Errorf("config: --ocsp-max-conns %d + --api-max-conns %d + %d descriptors reserved for the store and files exceed RLIMIT_NOFILE %d: lower --ocsp-max-conns or --api-max-conns, or %s",
			caps.ocsp, caps.api, descriptorReserve, caps.soft, raise)
	}
	if caps.ocsp < minMaxConns || caps.api < minMaxConns {
		set := "--ocsp-max-conns"
		if autoOCSP {
			set = "--api-max-conns"
		}
		if autoOCSP && autoAPI {
			return caps, fmt.Errorf("config: RLIMIT_NOFILE %d leaves no room for %d connections per listener and %d reserved descriptors: %s", caps.soft, minMaxConns, descriptorReserve, raise)
		}
		return caps, fmt.Errorf("config: %s leaves fewer than %d of RLIMIT_NOFILE %d's descriptors to the other listener (%d are reserved): lower %s, or %s",
			set, minMaxConns, caps.soft, descriptorReserve, set, raise)
	}
	caps.autoLowered = true
	return caps, nil
}

// log says what serve runs with.
func (caps connCaps) log(log *slog.Logger) {
	args := []any{"ocsp_max_conns", caps.ocsp, "api_max_conns", caps.api, "reserved", descriptorReserve,
		"rlimit_nofile_soft", caps.soft, "rlimit_nofile_hard", caps.hard}
	if caps.raisedFrom != 0 {
		args = append(args, "raised_from", caps.raisedFrom)
	}
	if caps.autoLowered {
		log.Warn("connection caps lowered to fit the descriptor limit; raise it (ulimit -n, systemd LimitNOFILE=) for the defaults of 10000 and 1000", args...)
		return
	}
	log.Info("connection caps", args...)
}

// registerListenerMetrics exports each capped listener's counts, labelled
// with its name.
func registerListenerMetrics(reg prometheus.Registerer, listeners map[string]*connlimit.Listener) {
	for name, l := range listeners {
		labels := prometheus.Labels{"listener": name}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certstatus_listener_connections", ConstLabels: labels,
				Help: "Connections open on the listener."},
				func() float64 { return float64(l.Stats().Open) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certstatus_listener_max_connections", ConstLabels: labels,
				Help: "The listener's connection cap (--ocsp-max-conns, --api-max-conns)."},
				func() float64 { return float64(l.Stats().Max) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_listener_idle_closed_total", ConstLabels: labels,
				Help: "Idle connections closed to make room for a new one at the cap."},
				func() float64 { return float64(l.Stats().IdleClosed) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_listener_refused_total", ConstLabels: labels,
				Help: "Connections closed at once: the listener was at its cap and none was idle."},
				func() float64 { return float64(l.Stats().Refused) }),
		)
	}
}
