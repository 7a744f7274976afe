package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/quickhttp"
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
	// Until its first answer is stored, the certificate is signed live.
	for deadline := time.Now().Add(10 * time.Second); metric(t, scrape(t, e.api), "certstatus_ocsp_http_quick_total") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no answer was ever taken by the quick reader")
		}
		postOCSP(t, e.ocsp, req)
		time.Sleep(10 * time.Millisecond)
	}
	before := scrape(t, e.api)
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
	after := scrape(t, e.api)
	// The quick reader answered the two POSTs and the GET before
	// /healthz, the responder the nonce in place, net/http the rest.
	for name, want := range map[string]float64{
		`certstatus_ocsp_requests_total{method="POST"}`: 4, `certstatus_ocsp_requests_total{method="GET"}`: 2,
		"certstatus_ocsp_http_quick_total": 3, "certstatus_ocsp_http_local_total": 1, "certstatus_ocsp_http_handoffs_total": 1,
	} {
		if got := metric(t, after, name) - metric(t, before, name); got != want {
			t.Errorf("%s went up by %v, want %v", name, got, want)
		}
	}
}

// metric is the value of the sample name (with its labels) in a scrape, 0
// if absent.
func metric(t *testing.T, scrape, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(scrape)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The OCSP listener routes by net/http's URL.Path (no query, unescaped)
// whichever reader took the request: an OCSP body POSTed to /healthz,
// escaped or with a query, is not answered as OCSP, pre-signed or not.
func TestServe_QuickHTTPRoutesLikeNetHTTP(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "routes")
	e.serve(t)
	req := ocspRequest(t, e.cert(t, id), e.subCert, nil)
	postOCSP(t, e.ocsp, req) // the answer is pre-signed from here on
	for _, path := range []string{"/%68ealthz", "/healthz?x=1", "/%63a/x", "/crl/x?y"} {
		res, err := http.Post(e.ocsp+path, "application/ocsp-request", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if ct := res.Header.Get("Content-Type"); ct == "application/ocsp-response" {
			t.Errorf("POST %s: answered as OCSP (HTTP %d)", path, res.StatusCode)
		}
	}
}

// forResponderRef is forResponder's definition: net/http's URL.Path
// (without the query, unescaped) is not one of the other routes, and a path
// that does not unescape is net/http's to refuse.
func forResponderRef(target string) bool {
	path, _, _ := strings.Cut(target, "?")
	p, err := url.PathUnescape(path)
	if err != nil {
		return false
	}
	return !otherRoute(p)
}

func TestForResponder(t *testing.T) {
	for _, target := range []string{
		"/", "/MFEwTzBN%2FwYF", "/healthz", "/%68ealthz", "/healthz%3F", "/healthzz", "/%2568ealthz",
		"/ca/x.crt", "/%63a/x.crt", "/c%61/", "/crl/x.crl", "/%63%72%6C/x", "/cr%6c/", "/crl",
		"/bad%2", "/bad%zz", "/%", "/MFE%2F%2Fw?x=%zz", "/healthz?x", "/%2Fhealthz", "%2Fhealthz",
	} {
		if got, want := forResponder(quickhttp.Request{Target: target}), forResponderRef(target); got != want {
			t.Errorf("forResponder(%q) = %v, want %v", target, got, want)
		}
	}
	long := "/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ%2F" + strings.Repeat("abc%2F", 20)
	if n := testing.AllocsPerRun(100, func() { forResponder(quickhttp.Request{Target: long}) }); n != 0 {
		t.Errorf("forResponder allocates %v times for an escaped GET path", n)
	}
}

func FuzzForResponder(f *testing.F) {
	for _, s := range []string{"/healthz", "/%68ealthz", "/ca/x", "/%zz", "/MFE%2F?q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if got, want := forResponder(quickhttp.Request{Target: target}), forResponderRef(target); got != want {
			t.Fatalf("forResponder(%q) = %v, want %v", target, got, want)
		}
	})
}
