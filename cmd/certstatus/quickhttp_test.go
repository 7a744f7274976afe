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
func forResponderRef(r ocspRoutes, target string) bool {
	path, _, _ := strings.Cut(target, "?")
	p, err := url.PathUnescape(path)
	if err != nil {
		return false
	}
	return !r.other(p)
}

// routings are the listener's routings forResponder is checked under:
// none, an OCSP path prefix (the CRL base URL defaults to the OCSP URL,
// which has the same path), a CRL base URL with another path, and a base
// longer than forResponder's buffer.
var routings = map[string]ocspRoutes{
	"no prefix":            newOCSPRoutes("", "http://127.0.0.1:8888"),
	"prefix /ocsp":         newOCSPRoutes("/ocsp", "http://h.example/ocsp"),
	"prefix, CRLs at /pki": newOCSPRoutes("ocsp/", "http://h.example/pki/"),
	"long base":            newOCSPRoutes("", "http://h.example/"+strings.Repeat("p", 200)),
}

func TestForResponder(t *testing.T) {
	targets := []string{
		"/", "/MFEwTzBN%2FwYF", "/healthz", "/%68ealthz", "/healthz%3F", "/healthzz", "/%2568ealthz",
		"/ca/x.crt", "/%63a/x.crt", "/c%61/", "/crl/x.crl", "/%63%72%6C/x", "/cr%6c/", "/crl",
		"/bad%2", "/bad%zz", "/%", "/MFE%2F%2Fw?x=%zz", "/healthz?x", "/%2Fhealthz", "%2Fhealthz",
		"/ocsp/crl/x.crl", "/ocsp/ca/x.crt", "/%6Fcsp/crl/x", "/ocsp%2Fcrl/x", "/ocsp/MFEwTzBN%2FwYF", "/ocsp/healthz",
		"/ocspcrl/x", "/ocsp/crl", "/pki/crl/x.crl", "/pki/ca/x.crt", "/pki/MFE", "/" + strings.Repeat("p", 200) + "/crl/x",
		"/" + strings.Repeat("p", 200) + "/%63rl/x",
	}
	for name, r := range routings {
		for _, target := range targets {
			if got, want := r.forResponder(quickhttp.Request{Target: target}), forResponderRef(r, target); got != want {
				t.Errorf("%s: forResponder(%q) = %v, want %v", name, target, got, want)
			}
		}
		long := "/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ%2F" + strings.Repeat("abc%2F", 20)
		if name == "long base" {
			continue // a base beyond the buffer unescapes the whole path
		}
		if n := testing.AllocsPerRun(100, func() { r.forResponder(quickhttp.Request{Target: long}) }); n != 0 {
			t.Errorf("%s: forResponder allocates %v times for an escaped GET path", name, n)
		}
	}
	// What the routings send to echo: the CA certificates and CRLs under
	// each base, and nothing else under it.
	for _, c := range []struct {
		routing, path string
		other         bool
	}{
		{"no prefix", "/ocsp/crl/x.crl", false},
		{"prefix /ocsp", "/ocsp/crl/x.crl", true},
		{"prefix /ocsp", "/ocsp/ca/x.crt", true},
		{"prefix /ocsp", "/crl/x.crl", true},
		{"prefix /ocsp", "/ocsp/healthz", false},
		{"prefix /ocsp", "/ocsp/MFEw", false},
		{"prefix /ocsp", "/ocspx/crl/x.crl", false},
		{"prefix, CRLs at /pki", "/pki/crl/x.crl", true},
		{"prefix, CRLs at /pki", "/ocsp/ca/x.crt", true},
		{"prefix, CRLs at /pki", "/pki/MFEw", false},
	} {
		if got := routings[c.routing].other(c.path); got != c.other {
			t.Errorf("%s: other(%q) = %v, want %v", c.routing, c.path, got, c.other)
		}
	}
}

func FuzzForResponder(f *testing.F) {
	for _, s := range []string{"/healthz", "/%68ealthz", "/ca/x", "/%zz", "/MFE%2F?q", "/ocsp/crl/x", "/%6Fcsp/%63a/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		for name, r := range routings {
			if got, want := r.forResponder(quickhttp.Request{Target: target}), forResponderRef(r, target); got != want {
				t.Fatalf("%s: forResponder(%q) = %v, want %v", name, target, got, want)
			}
		}
	})
}
