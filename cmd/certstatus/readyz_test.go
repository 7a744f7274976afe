package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// getReady fetches /readyz and decodes every field of its body.
func getReady(t *testing.T, api string) (int, readyReport) {
	t.Helper()
	resp, err := http.Get(api + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r readyReport
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	return resp.StatusCode, r
}

// parts indexes a report's parts by name.
func parts(r readyReport) map[string]readyPart {
	m := map[string]readyPart{}
	for _, p := range r.Parts {
		m[p.Name] = p
	}
	return m
}

// /readyz names each part: the store, issuance, each CA's OCSP signer and
// the refresh; all pass on a bootstrapped directory, and a disabled
// issuing CA fails issuance alone.
func TestReadyz_Parts(t *testing.T) {
	c := newCLI(t, filepath.Join(t.TempDir(), "d"))
	api, _, _, stop := startServe(t, c)
	var cas []certView
	code, r := getReady(t, api)
	if code != http.StatusOK || r.Status != "ready" || r.Reason != "" {
		t.Errorf("readyz: %d %+v", code, r)
	}
	stop()
	c.json(&cas, "ca", "list")
	want := []string{"store", "issuing", "ocsp-signer/" + cas[0].Identifier, "ocsp-signer/" + cas[1].Identifier, "ocsp-refresh"}
	if len(r.Parts) != len(want) {
		t.Fatalf("parts %+v, want %v", r.Parts, want)
	}
	for i, p := range r.Parts {
		if p.Name != want[i] || !p.OK {
			t.Errorf("part %d: %+v, want %s passing", i, p, want[i])
		}
	}
	if d := parts(r)["ocsp-signer/"+cas[1].Identifier].Detail; d != "certstatus dev issuing CA" {
		t.Errorf("signer part names %q, want the CA's common name", d)
	}

	c.ok("ca", "disable", cas[1].Identifier)
	api, _, _, stop = startServe(t, c)
	defer stop()
	code, r = getReady(t, api)
	if code != http.StatusServiceUnavailable || r.Status != "not ready" || !strings.Contains(r.Reason, "no sub CA can issue") {
		t.Errorf("readyz with the issuing CA disabled: %d %+v", code, r)
	}
	for name, p := range parts(r) {
		if p.OK != (name != "issuing") {
			t.Errorf("part %s: %+v; want only issuing to fail", name, p)
		}
	}
}

// A data directory whose only CA is an imported single-level OpenSSL CA
// answers OCSP and serves CRLs, and issues nothing: it is ready, and says
// why issuance is no part of it.
func TestReadyz_OCSPOnly(t *testing.T) {
	l := newLegacyCA(t)
	good := l.issue("good", "usr_cert")
	kc := l.issue("compromised", "usr_cert")
	l.revoke(kc, "-crl_reason", "keyCompromise")

	c := newCLI(t, filepath.Join(t.TempDir(), "ocsp-only"))
	mk := make([]byte, 32)
	rand.Read(mk)
	c.env["CERTSTATUS_MASTER_KEY"] = hex.EncodeToString(mk)
	c.ok("import", "openssl-index", "--index", l.path("index.txt"), "--ca-cert", l.path("ca.pem"), "--ca-key", l.path("ca.key"), "--certs", l.path("newcerts"))
	api, _, out, stop := startServe(t, c)
	if strings.Contains(out.String(), "created root CA") {
		t.Fatalf("serve bootstrapped a dev PKI next to the imported CA:\n%s", out.String())
	}
	code, r := getReady(t, api)
	if code != http.StatusOK || r.Status != "ready" {
		t.Fatalf("readyz of an OCSP-only directory: %d %+v", code, r)
	}
	p := parts(r)
	if is := p["issuing"]; !is.OK || !strings.Contains(is.Detail, "no CA here issues") {
		t.Errorf("issuing part %+v", is)
	}
	var cas []certView
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c.json(&cas, "ca", "list")
	if len(cas) != 1 || cas[0].CertificateType != "ROOT" {
		t.Fatalf("CAs %+v, want the imported one alone", cas)
	}
	if s := p["ocsp-signer/"+cas[0].Identifier]; !s.OK || s.Detail != "Legacy OpenSSL CA" {
		t.Errorf("signer part of the imported CA: %+v", s)
	}
	_, ocspURL, _, _ := startServe(t, c) // stopped by its cleanup
	if got := l.ask(ocspURL, "-cert", good); got != "good" {
		t.Errorf("good: %q", got)
	}
	if got := l.ask(ocspURL, "-cert", kc); got != "revoked keyCompromise" {
		t.Errorf("compromised: %q", got)
	}
}

// A part a component adds (the API's TLS certificate) is reported by name
// and fails readiness like the others; the first failing part is the
// reason.
func TestReadyz_Report(t *testing.T) {
	tls := readyCheck(func(context.Context) readyPart {
		return readyPart{Name: "api-tls", Detail: errors.New("certificate expired").Error()}
	})
	code, r := report([]readyPart{{Name: "store", OK: true}, tls(context.Background()), {Name: "ocsp-refresh", Detail: "late"}})
	if code != http.StatusServiceUnavailable || r.Status != "not ready" || r.Reason != "certificate expired" || len(r.Parts) != 3 {
		t.Errorf("report: %d %+v", code, r)
	}
	code, r = report([]readyPart{{Name: "store", OK: true}})
	if code != http.StatusOK || r.Status != "ready" || r.Reason != "" {
		t.Errorf("report: %d %+v", code, r)
	}
	s := &service{readyChecks: []readyCheck{tls}}
	if got := s.extraReady(context.Background()); len(got) != 1 || got[0].Name != "api-tls" || got[0].OK {
		t.Errorf("extraReady: %+v", got)
	}
}
