package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/connlimit"
	"github.com/certstatus/certstatus/internal/quickhttp"
	"github.com/certstatus/certstatus/responder"
)

func runServe(ctx context.Context, e *cmdEnv, args []string) error {
	return runLeaf(ctx, e, "serve", args)
}

// bindServe binds the flags of serve.
func bindServe(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	cfg, resolve := bindConfig(fs, true)
	grace := fs.Duration("shutdown-timeout", 10*time.Second, "how long in-flight requests may take to finish on SIGINT/SIGTERM")
	return func(args []string) error { return serveWith(ctx, e, fs, cfg, resolve, grace, args) }
}

// serveWith runs serve with the flags bindServe bound.
func serveWith(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, cfg *Config, resolve func(func(string) string) error, grace *time.Duration, args []string) error {
	pos, help, err := parse(fs, args)
	if help || err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("serve takes no arguments, got %q", pos)
	}
	if err := resolve(e.getenv); err != nil {
		return err
	}
	log := newLogger(cfg, e.stderr)
	caps, err := planConnCaps(cfg)
	if err != nil {
		return err
	}
	caps.log(log)
	// Bind first: a taken port fails before anything is created, and a
	// port-0 OCSP address resolves before its URL goes into certificates.
	apiLn, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("API listener: %w", err)
	}
	defer apiLn.Close()
	ocspLn, err := net.Listen("tcp", cfg.OCSPAddr)
	if err != nil {
		return fmt.Errorf("OCSP listener: %w", err)
	}
	defer ocspLn.Close()
	cfg.boundOCSP(ocspLn.Addr().String())

	reg := prometheus.NewRegistry()
	svc, err := open(ctx, cfg, log, true, e.getenv, ca.NewOCSPMetrics(reg))
	if err != nil {
		return err
	}
	defer svc.Close()
	svc.registerMetrics(reg)
	svc.reg = reg
	// Each listener has its own cap, so a flood on one cannot take the
	// descriptors of the other or of the store.
	apiLim, ocspLim := connlimit.New(apiLn, caps.api), connlimit.New(ocspLn, caps.ocsp)
	registerListenerMetrics(reg, map[string]*connlimit.Listener{"api": apiLim, "ocsp": ocspLim})

	boot, err := svc.bootstrap(certs.WithActor(ctx, certs.Actor{Who: "system:bootstrap"}))
	if err != nil {
		return err
	}
	if boot.DevPKI {
		log.Warn(devPKINote)
	}
	// The CA issues the responder certificates due and publishes its
	// signers before the first answer; the responder only reads them.
	if err := svc.ca.ReloadOCSP(ctx); err != nil {
		return err
	}
	if err := svc.startAPITLS(ctx, apiLn.Addr()); err != nil {
		return err
	}
	rspOpts := responderOptions(cfg)
	rspOpts.Logger, rspOpts.Metrics = log, responder.NewMetrics(reg)
	rsp, err := responder.New(svc.store, svc.ca, rspOpts)
	if err != nil {
		return err
	}
	svc.rsp = rsp
	apiHandler, err := svc.apiHandler()
	if err != nil {
		return err
	}
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	refreshDone := make(chan struct{}, 2)
	go func() { defer func() { refreshDone <- struct{}{} }(); svc.ca.RunOCSP(refreshCtx) }()
	go func() { defer func() { refreshDone <- struct{}{} }(); svc.runCRLs(refreshCtx) }()
	svc.apiTLS.start(refreshCtx)
	printSummary(e, svc, boot, apiLn.Addr(), ocspLn.Addr())
	// Commands run on this data directory while it serves go through the
	// API (runOfflineOr): say where it is.
	removeInfo, err := writeServeInfo(cfg.Data, serveInfo{API: svc.apiScheme() + "://" + localAddr(apiLn.Addr()), CRLBaseURL: cfg.CRLBaseURL})
	if err != nil {
		return err
	}
	defer removeInfo()

	// Timeouts so that a slow or stalled client cannot hold a connection
	// (and its goroutine) for ever; 1 MiB of headers leaves room for a PEM
	// CSR in the query string, as the Alibaba SDKs send it.
	routes := newOCSPRoutes(cfg.OCSPPathPrefix, cfg.CRLBaseURL)
	ocspHTTP := &http.Server{Handler: svc.ocspHandler(rsp, routes), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, ConnState: ocspLim.ConnState}
	var ocspServer server = ocspHTTP
	if cfg.OCSPQuickHTTP {
		q := &quickhttp.Server{Answer: quickOCSP(ctx, rsp, routes), Handler: rsp, Local: routes.forResponder, Fallback: ocspHTTP,
			IdleTimeout: ocspHTTP.IdleTimeout, ReadHeaderTimeout: ocspHTTP.ReadHeaderTimeout,
			ReadTimeout: ocspHTTP.ReadTimeout, WriteTimeout: ocspHTTP.WriteTimeout, ConnState: ocspLim.ConnState}
		registerQuickHTTP(reg, q)
		ocspServer = q
	}
	servers := []server{
		svc.apiTLS.serve(&http.Server{Handler: apiHandler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 1 << 20, ConnState: apiLim.ConnState}),
		ocspServer,
	}
	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, ln := range []net.Listener{apiLim, ocspLim} {
		wg.Add(1)
		go func(srv server, ln net.Listener) {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(servers[i], ln)
	}
	log.Info("serving", "api", apiLn.Addr().String(), "ocsp", ocspLn.Addr().String(), "data", cfg.Data)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", grace.String())
	case serveErr = <-errc:
		log.Error("listener failed", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *grace)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			// The grace period ran out: cut the remaining connections so
			// no handler outlives the database it reads.
			log.Warn("grace period over; closing remaining connections", "err", err)
			srv.Close()
		}
	}
	wg.Wait()
	stopRefresh()
	<-refreshDone
	<-refreshDone
	svc.apiTLS.wait()
	if err := svc.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	fmt.Fprintln(e.stdout, "certstatus: stopped; database closed cleanly")
	return serveErr
}

func printSummary(e *cmdEnv, svc *service, boot bootstrapResult, apiAddr, ocsp net.Addr) {
	w := e.stdout
	fmt.Fprintf(w, "certstatus serving data directory %s\n", svc.cfg.Data)
	if svc.createdKey {
		fmt.Fprintf(w, "  created master key      %s (mode 0600; back it up: it decrypts every stored key)\n", svc.cfg.MasterKeyFile)
	}
	if boot.Root != nil {
		fmt.Fprintf(w, "  created root CA         %s  %s\n", boot.Root.Identifier, subjectCN(boot.Root.DER))
	}
	if boot.Sub != nil {
		fmt.Fprintf(w, "  created issuing sub CA  %s  %s\n", boot.Sub.Identifier, subjectCN(boot.Sub.DER))
	}
	if boot.AccessKeyID != "" {
		fmt.Fprintf(w, "  created admin AccessKey %s in %s (mode 0600)\n", boot.AccessKeyID, boot.AccessKeyFile)
	}
	fmt.Fprintf(w, "  JSON API  %s://%s   (Alibaba CAS 2020-06-30 at /, /healthz, /readyz, /metrics)\n", svc.apiScheme(), apiAddr)
	if svc.apiTLS != nil {
		fmt.Fprintf(w, "  API TLS   %s; clients trust %s\n", svc.apiTLS.src.describe(), svc.apiTLSTrust())
	}
	fmt.Fprintf(w, "  OCSP      http://%s   (URL in issued certificates: %s)\n", ocsp, svc.cfg.OCSPURL)
	if boot.DevPKI {
		fmt.Fprintf(w, "  NOTE: %s\n", devPKINote)
	}
}

func subjectCN(der []byte) string {
	c, err := (certs.CA{DER: der}).Certificate()
	if err != nil {
		return "?"
	}
	return c.Subject.CommonName
}

func newEcho() *echo.Echo {
	ec := echo.New()
	ec.HideBanner = true
	ec.HidePort = true
	return ec
}

func (s *service) apiHandler() (http.Handler, error) {
	srv, err := api.New(s.store, s.ca, s.sealer, &api.Options{CRLBaseURL: s.cfg.CRLBaseURL, CRLValidity: s.cfg.crl.Validity, Logger: s.log, Metrics: api.NewMetrics(s.reg),
		TrustedProxies: s.cfg.APITrustedProxies, Extra: map[string]api.ExtraAction{runCommandAction: s.remoteRunner(), backupAction: s.backupRunner()}})
	if err != nil {
		return nil, err
	}
	ec := newEcho()
	srv.Register(ec)
	ec.GET("/healthz", healthz)
	ec.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	ec.GET("/readyz", s.readyz)
	return ec, nil
}

// server is what serve runs on a listener: an http.Server, or the quick
// OCSP server in front of one.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// quickOCSP answers, for internal/quickhttp, the OCSP requests the
// responder's quick path takes; requests for the routes ocspHandler sends
// elsewhere (health, CA certificates, CRLs) are left to it.
func quickOCSP(ctx context.Context, rsp *responder.Responder, routes ocspRoutes) quickhttp.Answer {
	ctx = context.WithoutCancel(ctx)
	return func(dst []byte, req quickhttp.Request) ([]byte, bool) {
		if !routes.forResponder(req) {
			return dst, false
		}
		return rsp.AppendQuickHTTP(ctx, dst, req.Get, req.Target, req.Body)
	}
}

// registerQuickHTTP exports what the OCSP listener's quick reader did.
func registerQuickHTTP(reg prometheus.Registerer, q *quickhttp.Server) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_ocsp_http_quick_total",
			Help: "OCSP requests answered whole by the quick reader from pre-signed answers."},
			func() float64 { return float64(q.Stats().Quick) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_ocsp_http_local_total",
			Help: "OCSP requests the quick reader had the responder answer in place (nonces, several CertIDs, live signing)."},
			func() float64 { return float64(q.Stats().Local) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "certstatus_ocsp_http_handoffs_total",
			Help: "OCSP listener connections handed to net/http (HEAD, HTTP/1.0, chunked, If-None-Match, /healthz, /ca/, /crl/, malformed requests)."},
			func() float64 { return float64(q.Stats().HandedOff) }),
	)
}

// ocspHandler serves the OCSP listener: /healthz, the CA certificates at
// /ca/<id>.crt, CRLs at /crl/<id>.crl (also under the path prefix and the
// CRL base URL's path: ocspRoutes), and OCSP at every other path. OCSP
// goes straight to the responder, bypassing any router, because a base64
// GET path may hold "//" and "%2F" that routers clean (boulder#884).
func (s *service) ocspHandler(rsp *responder.Responder, routes ocspRoutes) http.Handler {
	ec := newEcho()
	ec.GET("/healthz", healthz)
	caPaths, crlPaths := routes.echoPaths()
	for i := range caPaths {
		ec.GET(caPaths[i], s.caCertificate)
		ec.GET(crlPaths[i], s.crlHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if routes.other(r.URL.Path) {
			ec.ServeHTTP(w, r)
			return
		}
		rsp.ServeHTTP(w, r)
	})
}

// caCertificate serves a CA certificate at the AIA caIssuers URL that issued
// certificates carry: /ca/<id>.crt as DER (RFC 5280 §4.2.2.1), /ca/<id>.pem
// as PEM.
func (s *service) caCertificate(c echo.Context) error {
	file := c.Param("file")
	name, ext, _ := strings.Cut(file, ".")
	id, err := certs.ParseIdentifier(name)
	if err != nil || (ext != "crt" && ext != "pem" && ext != "cer") {
		return c.String(http.StatusNotFound, "no such CA certificate\n")
	}
	ca, err := s.store.CA(c.Request().Context(), id)
	if errors.Is(err, certs.ErrNotFound) {
		return c.String(http.StatusNotFound, "no such CA certificate\n")
	}
	if err != nil {
		s.log.Error("CA certificate lookup", "ca", id, "err", err)
		return c.String(http.StatusInternalServerError, "internal error\n")
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	if ext == "pem" {
		return c.Blob(http.StatusOK, "application/x-pem-file", certs.EncodeCertPEM(ca.DER))
	}
	return c.Blob(http.StatusOK, "application/pkix-cert", ca.DER)
}

func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
