package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// handshake dials addr over TLS trusting the PEM file bundle, verifying at
// now, and returns the serial of the certificate the server presented.
func handshake(t *testing.T, addr, bundle string, now time.Time) string {
	t.Helper()
	pem, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", bundle)
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, Time: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("handshake verifying at %s: %v", now.Format(time.RFC3339), err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// TestAPITLS_AutoRenewsAndSwaps drives auto TLS with a test clock: the
// certificate is stored like any other, kept until two thirds of its life,
// then renewed and swapped in under a running listener; a revoked one is
// replaced at the next check; a restart reuses the current one; a listener
// name it lacks makes a new one; /readyz's part fails a day before expiry.
func TestAPITLS_AutoRenewsAndSwaps(t *testing.T) {
	c, _, sub := newDataDir(t)
	cfg, err := resolveServe(c.env, "--api-tls", "auto")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := open(context.Background(), cfg, log, false, c.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()

	// A second sub CA, newer: the pick stays the oldest.
	c2 := certs.SubRequest{Parent: mustRoot(t, svc), Subject: certs.Subject{CommonName: "second issuing CA", Organization: "test", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 365}, PathLen: 0}
	if _, err := svc.ca.CreateSub(ctx, c2); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	src := &autoCert{svc: svc, hosts: listenerHosts("127.0.0.1:0", ln.Addr(), nil), validity: apiTLSValidity, log: log}
	at, err := newAPITLS(ctx, src, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	svc.apiTLS = at
	now := time.Now()
	at.now = func() time.Time { return now }
	srv := at.serve(&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })})
	go srv.Serve(ln)
	defer srv.Close()
	addr, bundle := ln.Addr().String(), filepath.Join(cfg.Data, APITLSBundleFile)

	first := src.served
	if first.Issuer != certs.Identifier(sub) || first.Alias != apiTLSAlias || first.Kind != certs.KindServer {
		t.Fatalf("first certificate: issuer %s alias %q kind %v, want from the bootstrap sub CA %s", first.Issuer, first.Alias, first.Kind, sub)
	}
	if stored, err := svc.store.Get(ctx, first.Identifier); err != nil || stored.State != certs.StateIssued {
		t.Fatalf("the API certificate is not stored: %v %v", stored.State, err)
	}
	serialA := handshake(t, addr, bundle, now)

	// Before two thirds of its life: kept.
	now = now.Add(19 * 24 * time.Hour)
	if err := at.check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := handshake(t, addr, bundle, now); got != serialA {
		t.Fatalf("renewed at 19 of 30 days: %s, was %s", got, serialA)
	}
	// Past two thirds: renewed, and the listener serves the new one.
	now = now.Add(2 * 24 * time.Hour)
	if err := at.check(ctx); err != nil {
		t.Fatal(err)
	}
	serialB := handshake(t, addr, bundle, now)
	if serialB == serialA {
		t.Fatal("not renewed at 21 of 30 days")
	}
	if err := svc.apiTLSReady(now); err != nil {
		t.Errorf("ready after renewal: %v", err)
	}
	if id, _ := os.ReadFile(filepath.Join(cfg.Data, apiTLSIDFile)); strings.TrimSpace(string(id)) != string(src.served.Identifier) {
		t.Errorf("%s names %s, serving %s", apiTLSIDFile, id, src.served.Identifier)
	}

	// Revoked: replaced at the next check.
	if _, err := svc.ca.Revoke(ctx, src.served.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := at.check(ctx); err != nil {
		t.Fatal(err)
	}
	serialC := handshake(t, addr, bundle, now)
	if serialC == serialB {
		t.Fatal("a revoked API certificate was kept")
	}

	// /readyz's part: not ready within a day of expiry.
	leaf := at.cert.Load().Leaf
	if err := svc.apiTLSReady(leaf.NotAfter.Add(-12 * time.Hour)); err == nil || !strings.Contains(err.Error(), "within a day") {
		t.Errorf("ready 12h before expiry: %v", err)
	}

	// A restart reuses the current certificate...
	again := &autoCert{svc: svc, hosts: src.hosts, validity: apiTLSValidity, log: log}
	c1, err := again.load(ctx, nil, now)
	if err != nil || c1.Leaf.SerialNumber.Text(16) != serialC {
		t.Fatalf("restart: %v, want certificate %s reused", err, serialC)
	}
	// ...unless the listener has a name it lacks.
	named := &autoCert{svc: svc, hosts: listenerHosts("127.0.0.1:0", ln.Addr(), []string{"ca.example.com"}), validity: apiTLSValidity, log: log}
	c2c, err := named.load(ctx, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if c2c.Leaf.SerialNumber.Text(16) == serialC || !strings.Contains(strings.Join(c2c.Leaf.DNSNames, ","), "ca.example.com") {
		t.Errorf("new name: serial %x names %v", c2c.Leaf.SerialNumber, c2c.Leaf.DNSNames)
	}
	if named.served.Issuer != certs.Identifier(sub) {
		t.Errorf("picked CA %s, want the oldest sub CA %s", named.served.Issuer, sub)
	}
}

// mustRoot is the identifier of the one root CA.
func mustRoot(t *testing.T, svc *service) certs.Identifier {
	t.Helper()
	cas, err := svc.store.CAs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cas {
		if c.Kind == certs.KindRootCA {
			return c.Identifier
		}
	}
	t.Fatal("no root CA")
	return ""
}

// TestAPITLS_NoCAForAuto: with every sub CA disabled, auto TLS cannot
// start, and says what to do.
func TestAPITLS_NoCAForAuto(t *testing.T) {
	c, _, sub := newDataDir(t)
	c.ok("ca", "disable", sub)
	err := serveFails(c, "--api-tls", "auto")
	if !strings.Contains(err.Error(), "no issuing sub CA can sign a server certificate for the API") || !strings.Contains(err.Error(), "--api-tls CERT,KEY") {
		t.Errorf("serve: %v", err)
	}
}

// serveFails runs serve, which must fail at start, and returns its error.
func serveFails(c *cli, flags ...string) error {
	_, _, err := c.run(append([]string{"serve", "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"}, flags...)...)
	if err == nil {
		return errors.New("serve returned no error")
	}
	return err
}

// TestServe_APITLSFiles: --api-tls CERT,KEY serves the operator's pair,
// re-reads it when the files change, and keeps the old pair when a new one
// does not load.
func TestServe_APITLSFiles(t *testing.T) {
	c, _, _ := newDataDir(t)
	issue := func() (cert, key, chain string) {
		dir := t.TempDir()
		var v struct{ Certificate certView }
		c.json(&v, "cert", "issue", "--kind", "server", "--cn", "127.0.0.1", "--san", "127.0.0.1", "--days", "30", "--out-dir", dir)
		id := v.Certificate.Identifier
		return filepath.Join(dir, id+".pem"), filepath.Join(dir, id+".key.pem"), filepath.Join(dir, id+".chain.pem")
	}
	cert1, key1, chain := issue()
	cert2, key2, _ := issue()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "api.pem"), filepath.Join(dir, "api.key")
	cp := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(cert1, certFile)
	cp(key1, keyFile)
	serialOf := func(file string) string {
		b, _ := os.ReadFile(file)
		xs, err := certs.ParseCertsPEM(b)
		if err != nil || len(xs) == 0 {
			t.Fatalf("%s: %v", file, err)
		}
		return xs[0].SerialNumber.Text(16)
	}

	api, out, logs, _ := startServeWith(t, c, "--api-tls", certFile+","+keyFile)
	addr := strings.TrimPrefix(api, "https://")
	if !strings.Contains(out.String(), "files "+certFile+" and "+keyFile) {
		t.Errorf("summary:\n%s", out)
	}
	if got := handshake(t, addr, chain, time.Now()); got != serialOf(cert1) {
		t.Fatalf("serving %s, want the first pair's %s", got, serialOf(cert1))
	}
	// The operator replaces the pair, certificate first.
	cp(cert2, certFile)
	cp(key2, keyFile)
	waitFor(t, 15*time.Second, "the second pair", func() bool { return handshake(t, addr, chain, time.Now()) == serialOf(cert2) })

	// A broken certificate file: reported, and the second pair kept.
	if err := os.WriteFile(certFile, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the error in the log", func() bool { return strings.Contains(logs.String(), "certificate not replaced") })
	if got := handshake(t, addr, chain, time.Now()); got != serialOf(cert2) {
		t.Errorf("after a bad file: serving %s, want the second pair's %s", got, serialOf(cert2))
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited %v for %s", d, what)
}

// TestServe_APITLSFilesMissing: serve refuses to start without its pair.
func TestServe_APITLSFilesMissing(t *testing.T) {
	c, _, _ := newDataDir(t)
	dir := t.TempDir()
	err := serveFails(c, "--api-tls", filepath.Join(dir, "no.pem")+","+filepath.Join(dir, "no.key"))
	if !strings.Contains(err.Error(), "API TLS (files") || !strings.Contains(err.Error(), "no.pem") {
		t.Errorf("serve: %v", err)
	}
}
