package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"
)

// certSource supplies the API listener's certificate: issued by
// certstatus's own CA (autoCert) or read from the operator's files
// (fileCert).
type certSource interface {
	// load returns the certificate to serve from now on, or nil to keep
	// cur (nil at start, when load must return one or fail). On an error
	// the caller keeps serving cur.
	load(ctx context.Context, cur *tls.Certificate, now time.Time) (*tls.Certificate, error)
	// describe names the source in logs and in serve's summary.
	describe() string
}

// apiTLS holds the API listener's certificate: every handshake reads the
// current one, and a background loop asks the source for a new one (a
// renewal, or files that changed) and swaps it in without a restart.
type apiTLS struct {
	src   certSource
	every time.Duration
	now   func() time.Time
	log   *slog.Logger
	cert  atomic.Pointer[tls.Certificate] // Leaf set
	done  chan struct{}
}

// newAPITLS loads the first certificate from src; it fails when there is
// none to serve.
func newAPITLS(ctx context.Context, src certSource, every time.Duration, log *slog.Logger) (*apiTLS, error) {
	t := &apiTLS{src: src, every: every, now: time.Now, log: log}
	c, err := src.load(ctx, nil, t.now())
	if err != nil {
		return nil, fmt.Errorf("API TLS (%s): %w", src.describe(), err)
	}
	if c == nil || c.Leaf == nil {
		return nil, fmt.Errorf("API TLS (%s): no certificate", src.describe())
	}
	t.cert.Store(c)
	return t, nil
}

// config is the listener's TLS configuration: TLS 1.2 and later, Go's
// default cipher suites and curves, the current certificate.
func (t *apiTLS) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return t.cert.Load(), nil
		},
	}
}

// check asks the source for a new certificate once, and swaps it in.
func (t *apiTLS) check(ctx context.Context) error {
	cur := t.cert.Load()
	c, err := t.src.load(ctx, cur, t.now())
	if err != nil {
		t.log.Error("API TLS: certificate not replaced; still serving the current one", "source", t.src.describe(), "serial", cur.Leaf.SerialNumber.Text(16), "not_after", cur.Leaf.NotAfter, "err", err)
		return err
	}
	if c != nil {
		t.cert.Store(c) // the source logged what it issued or read
	}
	return nil
}

// start runs check every t.every until ctx ends; wait waits for that.
func (t *apiTLS) start(ctx context.Context) {
	if t == nil {
		return
	}
	t.done = make(chan struct{})
	go func() {
		defer close(t.done)
		tick := time.NewTicker(t.every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				t.check(ctx)
			}
		}
	}()
}

// wait returns once the loop start began has ended.
func (t *apiTLS) wait() {
	if t != nil && t.done != nil {
		<-t.done
	}
}

// serve wraps srv so that it speaks TLS with t's certificate; with no TLS
// (a nil t) it is srv itself. net/http offers HTTP/2 and HTTP/1.1 by ALPN.
func (t *apiTLS) serve(srv *http.Server) server {
	if t == nil {
		return srv
	}
	srv.TLSConfig = t.config()
	return tlsServer{srv}
}

// tlsServer is an http.Server serving TLS on a plain listener.
type tlsServer struct{ *http.Server }

// Serve serves TLS on ln with the server's TLSConfig.
func (s tlsServer) Serve(ln net.Listener) error { return s.ServeTLS(ln, "", "") }

// apiTLSReadyMargin is how long before its expiry the API certificate
// makes /readyz fail: renewal (at two thirds of an auto certificate's
// life) should long have replaced it.
const apiTLSReadyMargin = 24 * time.Hour

// apiTLSReady is /readyz's part for the API's TLS certificate: with TLS on,
// one must be served and must not expire within a day.
func (s *service) apiTLSReady(now time.Time) error {
	if s.apiTLS == nil {
		return nil
	}
	c := s.apiTLS.cert.Load()
	if c == nil || c.Leaf == nil {
		return errors.New("API TLS: no certificate")
	}
	if c.Leaf.NotAfter.Sub(now) < apiTLSReadyMargin {
		return fmt.Errorf("API TLS: the certificate (%s, serial %s) expires at %s, within a day; renewal or the re-read of its files is failing (see the log)",
			s.apiTLS.src.describe(), c.Leaf.SerialNumber.Text(16), c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// apiScheme is the scheme of the API's URL.
func (s *service) apiScheme() string {
	if s.apiTLS != nil {
		return "https"
	}
	return "http"
}

// startAPITLS sets up the API listener's certificate as --api-tls says,
// for a listener bound at bound; with TLS off it leaves s.apiTLS nil.
func (s *service) startAPITLS(ctx context.Context, bound net.Addr) error {
	t := s.cfg.APITLS
	var (
		src   certSource
		every time.Duration
	)
	switch t.Mode {
	case tlsOff:
		return nil
	case tlsAuto:
		src = &autoCert{svc: s, hosts: listenerHosts(s.cfg.APIAddr, bound, s.cfg.APITLSNames), validity: apiTLSValidity, log: s.log}
		every = apiTLSAutoCheck
	case tlsFiles:
		src = &fileCert{certFile: t.CertFile, keyFile: t.KeyFile, log: s.log}
		every = apiTLSFileCheck
	}
	a, err := newAPITLS(ctx, src, every, s.log)
	if err != nil {
		return err
	}
	s.apiTLS = a
	s.readyChecks = append(s.readyChecks, func(context.Context) readyPart {
		if err := s.apiTLSReady(time.Now()); err != nil {
			return readyPart{Name: "api-tls", Detail: err.Error()}
		}
		return readyPart{Name: "api-tls", OK: true, Detail: a.src.describe()}
	})
	return nil
}

// apiTLSTrust says what verifies the API's certificate: the bundle auto
// TLS writes, or whatever verifies the operator's certificate.
func (s *service) apiTLSTrust() string {
	if s.cfg.APITLS.Mode == tlsAuto {
		return filepath.Join(s.cfg.Data, APITLSBundleFile)
	}
	return "the CA that issued " + s.cfg.APITLS.CertFile
}
