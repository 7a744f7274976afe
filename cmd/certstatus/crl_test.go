package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

func getCRL(t *testing.T, url string, hdr map[string]string) ([]byte, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b, res
}

func listed(rl *x509.RevocationList) map[certs.Serial]int {
	m := map[certs.Serial]int{}
	for _, e := range rl.RevokedCertificateEntries {
		m[certs.SerialFromBig(e.SerialNumber)] = e.ReasonCode
	}
	return m
}

// TestCRL_ServedAndCurrent: the CRL URL issued certificates carry is
// served, verifies against its CA, lists offline and online revocations at
// once, and has the caching headers; crl fetch saves it.
func TestCRL_ServedAndCurrent(t *testing.T) {
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "crl-good")
	bad := e.issue(t, "--cn", "crl-bad")
	e.c.ok("cert", "revoke", bad, "--reason", "keyCompromise")
	e.serve(t)
	url := e.ocsp + "/crl/" + e.subID + ".crl"
	if dp := e.cert(t, good).CRLDistributionPoints; len(dp) != 1 || !strings.HasSuffix(dp[0], "/crl/"+e.subID+".crl") {
		t.Fatalf("certificate CRL DP %v", dp)
	}
	der, res := getCRL(t, url, nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil || rl.CheckSignatureFrom(e.subCert) != nil {
		t.Fatalf("CRL: %v", err)
	}
	goodSerial := certs.SerialFromBig(e.cert(t, good).SerialNumber)
	badSerial := certs.SerialFromBig(e.cert(t, bad).SerialNumber)
	if m := listed(rl); m[badSerial] != int(certs.KeyCompromise) || len(m) != 1 {
		t.Fatalf("entries %v", m)
	}
	cc := res.Header.Get("Cache-Control")
	if !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") || res.Header.Get("Last-Modified") == "" {
		t.Errorf("headers %v", res.Header)
	}
	if _, r304 := getCRL(t, url, map[string]string{"If-None-Match": res.Header.Get("ETag")}); r304.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r304.StatusCode)
	}

	// Revoked through the API while serving: the next CRL lists it.
	e.callAPI(t, "CreateRevokeClientCertificate", map[string]any{"Identifier": good, "Reason": "superseded"})
	der, _ = getCRL(t, url, nil)
	rl2, _ := x509.ParseRevocationList(der)
	if m := listed(rl2); m[goodSerial] != int(certs.Superseded) || len(m) != 2 || rl2.Number.Cmp(rl.Number) <= 0 {
		t.Fatalf("after an online revocation: number %v entries %v", rl2.Number, m)
	}

	pemBody, res := getCRL(t, e.ocsp+"/crl/"+e.subID+".pem", nil)
	if b, _ := pem.Decode(pemBody); b == nil || b.Type != "X509 CRL" || res.Header.Get("Content-Type") != "application/x-pem-file" {
		t.Errorf("PEM CRL: %q", pemBody)
	}
	for _, p := range []string{"/crl/0123456789abcdef0123456789abcdef.crl", "/crl/nothex.crl", "/crl/" + e.subID + ".txt"} {
		if _, res := getCRL(t, e.ocsp+p, nil); res.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}

	// crl fetch: verified against the CA certificate, written atomically.
	e.c.env["CERTSTATUS_CRL_BASE_URL"] = e.ocsp
	out := filepath.Join(t.TempDir(), "sub.crl")
	var v map[string]any
	e.c.json(&v, "crl", "fetch", "--ca", e.subID, "--out", out)
	if v["Entries"] != float64(2) {
		t.Errorf("crl fetch: %v", v)
	}
	if b, err := os.ReadFile(out); err != nil || len(b) == 0 {
		t.Fatalf("written CRL: %v", err)
	}
	toolOK(t, "openssl", "crl", "-inform", "DER", "-in", out, "-CAfile", e.sub, "-noout", "-verify")
	e.c.fails("not CA", "crl", "fetch", "--ca", e.subID, "--issuer", e.root, "--out", filepath.Join(t.TempDir(), "x.crl"))
	e.c.fails("needs --ca and --out", "crl", "fetch", "--ca", e.subID)
}

// TestCRLFetch_StoredBaseURL: without --url or --crl-base-url, crl fetch
// takes the CRL base URL the data directory stores — from the server
// while it holds the directory — not a flag default.
func TestCRLFetch_StoredBaseURL(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	c.ok("init", "--ocsp-url", "http://"+addr, "--ca-cn", "CRL Root", "--o", "O", "--c", "DE")
	var cas []certView
	c.json(&cas, "ca", "list")
	_, _, _, stop := startServe(t, c, "--ocsp-addr", addr)
	defer stop()
	var v map[string]any
	c.json(&v, "crl", "fetch", "--ca", cas[len(cas)-1].Identifier, "--out", filepath.Join(t.TempDir(), "sub.crl"))
	if _, ok := v["Entries"]; !ok {
		t.Errorf("crl fetch: %v", v)
	}
}
