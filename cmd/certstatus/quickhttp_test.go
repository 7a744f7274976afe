package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// One kept-alive connection to the OCSP listener carrying what clients
// mix: plain requests (the quick path), a nonce (answered in place by the
// responder), the health check (handed to net/http with the connection),
// then plain requests again (now net/http's). Every answer is right, and
// the responder counts each OCSP request once.
func TestServe_QuickHTTPMixedConnection(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "mixed")
	e.serve(t)
	cert := e.cert(t, id)
	req := ocspRequest(t, cert, e.subCert, nil)
	nonce := []byte("mixed-connection")
	u, _ := url.Parse(e.ocsp)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	send := func(method, path string, body []byte) *http.Response {
		t.Helper()
		hr, _ := http.NewRequest(method, e.ocsp+path, bytes.NewReader(body))
		if body == nil {
			hr.Body = nil
		}
		hr.Header.Set("Content-Type", "application/ocsp-request")
		if err := hr.Write(c); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, hr)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return res
	}
	check := func(res *http.Response, wantNonce []byte) {
		t.Helper()
		der, _ := io.ReadAll(res.Body)
		r, err := ocsp.ParseResponseForCert(der, cert, e.subCert)
		if err != nil || r.Status != ocsp.Good {
			t.Fatalf("answer: %v, %+v", err, r)
		}
		if got := responseNonce(t, der); !bytes.Equal(got, wantNonce) {
			t.Errorf("nonce %q, want %q", got, wantNonce)
		}
	}
	getPath := "/" + base64.StdEncoding.EncodeToString(req)
	for range 2 {
		check(send(http.MethodPost, "/", req), nil)
	}
	check(send(http.MethodPost, "/", withNonce(t, req, nonce)), nonce)
	res := send(http.MethodGet, getPath, nil)
	if !strings.HasPrefix(res.Header.Get("Cache-Control"), "public") || res.Header.Get("Etag") == "" || res.Header.Get("Date") == "" {
		t.Errorf("GET headers: %v", res.Header)
	}
	check(res, nil)
	res = send(http.MethodGet, "/healthz", nil)
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK || !strings.Contains(string(b), "ok") {
		t.Errorf("/healthz on the same connection: %d %s", res.StatusCode, b)
	}
	check(send(http.MethodPost, "/", req), nil)
	check(send(http.MethodGet, getPath, nil), nil)
	m := scrape(t, e.api)
	for _, want := range []string{`certstatus_ocsp_requests_total{method="POST"} 4`, `certstatus_ocsp_requests_total{method="GET"} 2`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
