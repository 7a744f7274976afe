package main

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// The OCSP listener's HTTP layer against the real curl (RFC 6960
// Appendix A, RFC 9919 §2.1 and §6): the GET encodings clients and proxies
// send, cache headers, conditional GET, POST, and the protocol errors.

// curlResult is one curl exchange.
type curlResult struct {
	code   int
	header http.Header
	body   []byte
}

// runCurl runs curl with args (which include the URL), keeping the path as
// given, and returns the status, headers and body.
func runCurl(t *testing.T, args ...string) curlResult {
	t.Helper()
	dir := t.TempDir()
	bodyFile, headerFile := filepath.Join(dir, "body"), filepath.Join(dir, "headers")
	out := toolOK(t, "curl", append([]string{"-sS", "--path-as-is", "-o", bodyFile, "-D", headerFile, "-w", "%{http_code}"}, args...)...)
	code, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("curl %v printed %q", args, out)
	}
	raw, _ := os.ReadFile(headerFile)
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	if _, err := tp.ReadLine(); err != nil {
		t.Fatalf("curl headers %q: %v", raw, err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		t.Fatalf("curl headers %q: %v", raw, err)
	}
	body, _ := os.ReadFile(bodyFile)
	return curlResult{code: code, header: http.Header(h), body: body}
}

// getCandidate is a request and what it must be answered.
type getCandidate struct {
	name   string
	req    []byte
	cert   *x509.Certificate
	status int
}

// pickRequest returns the first request among the certificates and CertID
// hashes whose standard base64 contains every character of chars, so that
// the encodings under test really occur.
func pickRequest(t *testing.T, cands []getCandidate, issuer *x509.Certificate, chars string) getCandidate {
	t.Helper()
	for _, c := range cands {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			req := ocspRequest(t, c.cert, issuer, &ocsp.RequestOptions{Hash: h})
			b64 := base64.StdEncoding.EncodeToString(req)
			ok := true
			for _, ch := range chars {
				ok = ok && strings.ContainsRune(b64, ch)
			}
			if ok {
				c.req, c.name = req, c.name+"/"+h.String()
				return c
			}
		}
	}
	t.Fatalf("no request of %d certificates has %q in its base64; issue more", len(cands), chars)
	return getCandidate{}
}

// wantStatus parses an OCSP answer for c and compares its status.
func wantStatus(t *testing.T, body []byte, c getCandidate, issuer *x509.Certificate) {
	t.Helper()
	r, err := ocsp.ParseResponseForCert(body, c.cert, issuer)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	if r.Status != c.status {
		t.Errorf("%s: got status %d, want %d", c.name, r.Status, c.status)
	}
}

// wantOCSPError expects an unsigned OCSP error answer.
func wantOCSPError(t *testing.T, res curlResult, want ocsp.ResponseStatus) {
	t.Helper()
	if res.code != http.StatusOK || res.header.Get("Content-Type") != "application/ocsp-response" {
		t.Errorf("got HTTP %d %q, want 200 application/ocsp-response", res.code, res.header.Get("Content-Type"))
	}
	_, err := ocsp.ParseResponse(res.body, nil)
	var re ocsp.ResponseError
	if !errors.As(err, &re) || re.Status != want {
		t.Errorf("got %v, want ResponseError %v", err, want)
	}
	if cc := res.header.Get("Cache-Control"); strings.Contains(cc, "max-age") || strings.Contains(cc, "public") {
		t.Errorf("error answer is cacheable: Cache-Control %q", cc)
	}
	if res.header.Get("ETag") != "" {
		t.Errorf("error answer has an ETag")
	}
}

func TestOCSPInterop_Curl(t *testing.T) {
	needTool(t, "curl")
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good.example.com")
	good2 := e.issue(t, "--cn", "good2.example.com")
	revoked := e.issue(t, "--cn", "revoked.example.com")
	e.c.ok("cert", "revoke", revoked, "--reason", "superseded")
	e.serve(t)
	cands := []getCandidate{
		{"revoked", nil, e.cert(t, revoked), ocsp.Revoked},
		{"good", nil, e.cert(t, good), ocsp.Good},
		{"good2", nil, e.cert(t, good2), ocsp.Good},
	}
	plus := pickRequest(t, cands, e.subCert, "+/")
	std := base64.StdEncoding.EncodeToString(plus.req)
	pathEscaped := strings.NewReplacer("+", "%2B", "/", "%2F").Replace(std)

	gets := []struct{ name, path string }{
		{"standard base64 with padding", "/" + std},
		{"URL-safe base64 without padding", "/" + base64.RawURLEncoding.EncodeToString(plus.req)},
		{"'+' escaped as %2B", "/" + strings.ReplaceAll(std, "+", "%2B")},
		{"'+' as %2B and '/' as %2F", "/" + pathEscaped},
		{"'+' turned into a space by a proxy", "/" + strings.ReplaceAll(std, "+", "%20")},
		{"doubled leading slash", "//" + std},
	}
	for _, g := range gets {
		t.Run("GET/"+g.name, func(t *testing.T) {
			res := runCurl(t, e.ocsp+g.path)
			if res.code != http.StatusOK {
				t.Fatalf("got HTTP %d, want 200", res.code)
			}
			wantStatus(t, res.body, plus, e.subCert)
		})
	}

	t.Run("GET/cache headers", func(t *testing.T) {
		res := runCurl(t, e.ocsp+"/"+std)
		if ct := res.header.Get("Content-Type"); ct != "application/ocsp-response" {
			t.Errorf("got Content-Type %q, want application/ocsp-response", ct)
		}
		cc := res.header.Get("Cache-Control")
		for _, d := range []string{"public", "no-transform", "must-revalidate"} {
			if !strings.Contains(cc, d) {
				t.Errorf("Cache-Control %q lacks %s", cc, d)
			}
		}
		_, age, _ := strings.Cut(cc, "max-age=")
		// Caches must come back before half the 24h default validity has
		// passed, when the response is re-signed (RFC 9919 §6, CA/B BRs).
		if n, err := strconv.Atoi(strings.TrimSpace(strings.Split(age, ",")[0])); err != nil || n <= 0 || n > 12*3600 {
			t.Errorf("Cache-Control %q: got max-age %q, want 1..43200 seconds", cc, age)
		}
		if res.header.Get("ETag") == "" {
			t.Error("no ETag")
		}
		for _, h := range []string{"Last-Modified", "Expires"} {
			if _, err := http.ParseTime(res.header.Get(h)); err != nil {
				t.Errorf("%s %q: %v", h, res.header.Get(h), err)
			}
		}
		r, err := ocsp.ParseResponse(res.body, e.subCert)
		if err != nil {
			t.Fatal(err)
		}
		if lm, _ := http.ParseTime(res.header.Get("Last-Modified")); !lm.Equal(r.ThisUpdate) {
			t.Errorf("got Last-Modified %v, want thisUpdate %v", lm, r.ThisUpdate)
		}
		if exp, _ := http.ParseTime(res.header.Get("Expires")); exp.After(r.NextUpdate) {
			t.Errorf("got Expires %v, after nextUpdate %v", exp, r.NextUpdate)
		}
	})
	t.Run("GET/If-None-Match gets 304", func(t *testing.T) {
		// A first answer is signed live and cached in the background: wait
		// until two GETs agree, then the cached one is served.
		etag := runCurl(t, e.ocsp+"/"+std).header.Get("ETag")
		for i := 0; i < 100; i++ {
			next := runCurl(t, e.ocsp+"/"+std).header.Get("ETag")
			if next == etag {
				break
			}
			etag = next
			time.Sleep(20 * time.Millisecond)
		}
		res := runCurl(t, "-H", "If-None-Match: "+etag, e.ocsp+"/"+std)
		if res.code != http.StatusNotModified || len(res.body) != 0 {
			t.Errorf("got HTTP %d with %d bytes, want 304 and no body", res.code, len(res.body))
		}
		if res := runCurl(t, "-H", `If-None-Match: "0123"`, e.ocsp+"/"+std); res.code != http.StatusOK {
			t.Errorf("stale ETag: got HTTP %d, want 200", res.code)
		}
	})
	t.Run("HEAD/GET's headers without a body", func(t *testing.T) {
		get := runCurl(t, e.ocsp+"/"+std)
		head := runCurl(t, "-I", e.ocsp+"/"+std) // curl -I writes the headers as the body
		if head.code != http.StatusOK || bytes.Contains(head.body, get.body) {
			t.Errorf("got HTTP %d with the response in the body, want 200 and headers only", head.code)
		}
		if cl := head.header.Get("Content-Length"); cl != strconv.Itoa(len(get.body)) {
			t.Errorf("got Content-Length %q, want %d", cl, len(get.body))
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "ETag", "Last-Modified"} {
			if head.header.Get(h) == "" || head.header.Get(h) != get.header.Get(h) && h != "Cache-Control" {
				t.Errorf("HEAD %s: got %q, want GET's %q", h, head.header.Get(h), get.header.Get(h))
			}
		}
	})
	t.Run("GET/nonce request is not cacheable", func(t *testing.T) {
		req := withNonce(t, ocspRequest(t, cands[1].cert, e.subCert, nil), []byte("0123456789abcdef"))
		res := runCurl(t, e.ocsp+"/"+base64.StdEncoding.EncodeToString(req))
		wantStatus(t, res.body, cands[1], e.subCert)
		if got := responseNonce(t, res.body); string(got) != "0123456789abcdef" {
			t.Errorf("got nonce %q, want it echoed", got)
		}
		if cc := res.header.Get("Cache-Control"); strings.Contains(cc, "max-age") || res.header.Get("ETag") != "" {
			t.Errorf("nonce answer is cacheable: Cache-Control %q ETag %q", cc, res.header.Get("ETag"))
		}
	})
	t.Run("GET/not base64 is malformedRequest", func(t *testing.T) {
		wantOCSPError(t, runCurl(t, e.ocsp+"/this-is-not-an-ocsp-request"), ocsp.Malformed)
	})

	reqFile := filepath.Join(t.TempDir(), "req.der")
	os.WriteFile(reqFile, plus.req, 0o600)
	t.Run("POST/answered without max-age", func(t *testing.T) {
		res := runCurl(t, "--data-binary", "@"+reqFile, "-H", "Content-Type: application/ocsp-request", e.ocsp)
		if res.code != http.StatusOK || res.header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("got HTTP %d %q", res.code, res.header.Get("Content-Type"))
		}
		wantStatus(t, res.body, plus, e.subCert)
		if cc := res.header.Get("Cache-Control"); strings.Contains(cc, "max-age") {
			t.Errorf("POST answer has Cache-Control %q", cc)
		}
	})
	t.Run("POST/malformed body is malformedRequest", func(t *testing.T) {
		res := runCurl(t, "--data-binary", "not DER at all", "-H", "Content-Type: application/ocsp-request", e.ocsp)
		wantOCSPError(t, res, ocsp.Malformed)
	})
	t.Run("POST/20 KiB body is malformedRequest", func(t *testing.T) {
		big := filepath.Join(t.TempDir(), "big.der")
		os.WriteFile(big, append(append([]byte{}, plus.req...), make([]byte, 20<<10)...), 0o600)
		res := runCurl(t, "--data-binary", "@"+big, "-H", "Content-Type: application/ocsp-request", e.ocsp)
		wantOCSPError(t, res, ocsp.Malformed)
	})
	t.Run("PUT/405 with Allow", func(t *testing.T) {
		res := runCurl(t, "-X", "PUT", "--data-binary", "@"+reqFile, e.ocsp)
		if res.code != http.StatusMethodNotAllowed {
			t.Errorf("got HTTP %d, want 405", res.code)
		}
		if a := res.header.Get("Allow"); !strings.Contains(a, "GET") || !strings.Contains(a, "POST") {
			t.Errorf("got Allow %q, want GET, POST", a)
		}
	})
}
