package responder_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/responder"
)

// serveBoth answers der through ServeHTTP by POST and by GET and returns
// both bodies.
func serveBoth(t *testing.T, rsp *responder.Responder, der []byte) (post, get []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	rsp.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(der)))
	post = rec.Body.Bytes()
	rec = httptest.NewRecorder()
	rsp.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+base64.StdEncoding.EncodeToString(der), nil))
	return post, rec.Body.Bytes()
}

// Every request the quick path can take is answered by ServeHTTP with the
// bytes Respond gives, whether the quick path took it or left it: good,
// revoked, unknown (remembered), a SHA-256 CertID once its answer is
// stored, a serial with a high bit, and requests the quick path must leave
// alone (no NULL parameters, two CertIDs, malformed).
func TestQuickPath_AnswersAsRespond(t *testing.T) {
	w := newWorld(t, responder.Options{})
	ctx := context.Background()
	_, good := w.issue("quick good")
	revRec, revoked := w.issue("quick revoked")
	if _, err := w.auth.Revoke(ctx, revRec.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		der    []byte
		status int  // ocsp.Good, Revoked, Unknown; -1 for an error response
		stored bool // answered from the store or the unknown cache
		cert   *x509.Certificate
	}{
		{"good", request(t, good, w.subCert, crypto.SHA1), ocsp.Good, true, nil},
		{"revoked", request(t, revoked, w.subCert, crypto.SHA1), ocsp.Revoked, true, nil},
		{"good sha256", request(t, good, w.subCert, crypto.SHA256), ocsp.Good, true, nil},
		{"unknown", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(0x7f1234), false, false)}, nil), ocsp.Unknown, true, nil},
		{"unknown high bit", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, new(big.Int).Lsh(big.NewInt(1), 127), false, false)}, nil), ocsp.Unknown, true, nil},
		{"root's CertID", buildRequest([][]byte{certID(w.rootCert, crypto.SHA1, w.subCert.SerialNumber, false, false)}, nil), ocsp.Good, true, nil},
		{"no NULL", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, good.SerialNumber, true, false)}, nil), ocsp.Good, false, nil},
		{"empty key hash", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, good.SerialNumber, false, true)}, nil), ocsp.Good, false, nil},
		{"two CertIDs", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, good.SerialNumber, false, false), certID(w.subCert, crypto.SHA1, revoked.SerialNumber, false, false)}, nil), ocsp.Good, false, good},
		{"malformed", []byte{0x30, 0x03, 0x30, 0x01, 0x30}, -1, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The first ask may sign and remember.
			serveBoth(t, w.rsp, c.der)
			post, get := serveBoth(t, w.rsp, c.der)
			a, err := w.rsp.Respond(ctx, c.der)
			if c.status < 0 {
				if err == nil || !bytes.Equal(post, get) {
					t.Fatalf("malformed request: Respond error %v; POST and GET answers equal: %v", err, bytes.Equal(post, get))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Cached != c.stored {
				t.Fatalf("Respond answered from storage: %v, want %v", a.Cached, c.stored)
			}
			for _, got := range [][]byte{post, get} {
				r, err := ocsp.ParseResponseForCert(got, c.cert, w.subCert)
				if err != nil {
					r, err = ocsp.ParseResponseForCert(got, c.cert, w.rootCert)
				}
				if err != nil || r.Status != c.status {
					t.Fatalf("answer: %v, status %v, want %v", err, r, c.status)
				}
				if a.Cached && !bytes.Equal(got, a.DER) {
					t.Error("ServeHTTP and Respond give different bytes for a stored answer")
				}
			}
		})
	}
	// Revoking between two asks: the next answer says revoked.
	rec, c := w.issue("quick then revoked")
	der := request(t, c, w.subCert, crypto.SHA1)
	if post, _ := serveBoth(t, w.rsp, der); mustStatus(t, post, w) != ocsp.Good {
		t.Fatal("not good before the revocation")
	}
	if _, err := w.auth.Revoke(ctx, rec.Identifier, certs.Superseded, time.Time{}); err != nil {
		t.Fatal(err)
	}
	post, get := serveBoth(t, w.rsp, der)
	if mustStatus(t, post, w) != ocsp.Revoked || mustStatus(t, get, w) != ocsp.Revoked {
		t.Error("the answer after the revocation is not revoked")
	}
}

func mustStatus(t *testing.T, der []byte, w *world) int {
	t.Helper()
	r, err := ocsp.ParseResponse(der, w.subCert)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// body is a reusable request body.
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

// discard is a ResponseWriter that keeps nothing, reused across requests.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// The quick path allocates nothing of its own: a POST costs no more
// allocations than the one store read it makes, a GET two more (its four
// caching headers share one string and one slice), and AppendQuickHTTP
// none more for either.
func TestQuickPath_Allocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector are not the program's (make test runs this without it)")
	}
	w := newWorld(t, responder.Options{})
	ctx := context.Background()
	rec, c := w.issue("allocs")
	der := request(t, c, w.subCert, crypto.SHA1)
	serial := c.SerialNumber.Bytes()
	if serial[0]&0x80 != 0 {
		serial = append([]byte{0}, serial...)
	}
	buf := make([]byte, 0, 4096)
	store := testing.AllocsPerRun(200, func() {
		if _, _, err := w.store.AppendOCSPResponse(ctx, buf, rec.Issuer, serial, crypto.SHA1); err != nil {
			t.Fatal(err)
		}
	})
	b := &body{}
	post := httptest.NewRequest(http.MethodPost, "/", b)
	get := httptest.NewRequest(http.MethodGet, "/"+base64.StdEncoding.EncodeToString(der), nil)
	d := &discard{h: http.Header{}}
	serve := func(req *http.Request) func() {
		return func() {
			clear(d.h)
			d.n = 0
			b.Reset(der)
			w.rsp.ServeHTTP(d, req)
			if d.code != http.StatusOK || d.n < 100 {
				t.Fatalf("HTTP %d, %d bytes", d.code, d.n)
			}
		}
	}
	serve(post)() // warm the scratch pool
	if n := testing.AllocsPerRun(200, serve(post)); n > store {
		t.Errorf("POST: %v allocations per request, the store read alone %v", n, store)
	}
	if n := testing.AllocsPerRun(200, serve(get)); n > store+2 {
		t.Errorf("GET: %v allocations per request, the store read alone %v", n, store)
	}
	t.Logf("allocations: store read %v, POST %v, GET %v", store, testing.AllocsPerRun(50, serve(post)), testing.AllocsPerRun(50, serve(get)))
	// The whole-response form for internal/quickhttp: nothing beyond the
	// store read, caching headers included.
	target := "/" + base64.StdEncoding.EncodeToString(der)
	escaped := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(target[1:])
	for _, tc := range []struct {
		get    bool
		target string
	}{{false, "/"}, {true, target}, {true, "/" + escaped}} {
		if n := testing.AllocsPerRun(200, func() {
			if out, ok := w.rsp.AppendQuickHTTP(ctx, buf[:0], tc.get, tc.target, der); !ok || len(out) < 100 {
				t.Fatal("AppendQuickHTTP declined")
			}
		}); n > store {
			t.Errorf("AppendQuickHTTP (%v %s): %v allocations, the store read alone %v", tc.get, tc.target, n, store)
		}
	}
	var _ io.ReadCloser = b
}

func TestAppendHTTPDate(t *testing.T) {
	loc := time.FixedZone("X", 5*3600+1800)
	for _, tm := range []time.Time{time.Unix(0, 0), time.Date(2026, 11, 28, 2, 3, 4, 999, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 0, loc), time.Date(2100, 2, 28, 0, 0, 0, 0, time.UTC)} {
		for d := time.Duration(0); d < 400*24*time.Hour; d += 37*time.Hour + 11*time.Minute + 13*time.Second {
			x := tm.Add(d)
			if got, want := string(responder.AppendHTTPDate(nil, x)), x.UTC().Format(http.TimeFormat); got != want {
				t.Fatalf("%v: %q, want %q", x, got, want)
			}
		}
	}
}

// The ETag hashes the response's signature: different for every signing,
// the same for the same bytes.
func TestETagInput(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, c := w.issue("etag")
	der, _ := w.post(request(t, c, w.subCert, crypto.SHA1))
	r, err := ocsp.ParseResponse(der, w.subCert)
	if err != nil {
		t.Fatal(err)
	}
	if got := responder.ETagInput(der); !bytes.Equal(got, r.Signature) {
		t.Errorf("ETag input % x, signature % x", got, r.Signature)
	}
	if got := responder.ETagInput([]byte("not a response")); string(got) != "not a response" {
		t.Errorf("ETag input of a non-response: %q", got)
	}
}

// AppendQuickHTTP answers what ServeHTTP's quick path answers with the same
// bytes and headers (Date aside), for POST, GET and URL-encoded GET, and
// counts them the same; everything else it declines without writing or
// counting anything.
func TestAppendQuickHTTP_AnswersAsServeHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := newWorld(t, responder.Options{Metrics: responder.NewMetrics(reg)})
	ctx := context.Background()
	_, good := w.issue("quick http good")
	revRec, revoked := w.issue("quick http revoked")
	if _, err := w.auth.Revoke(ctx, revRec.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	unknown := buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(0x7f4321), false, false)}, nil)
	requests := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0.0
		for _, mf := range mfs {
			if mf.GetName() == "certstatus_ocsp_requests_total" {
				for _, m := range mf.GetMetric() {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return n
	}
	encoded := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D")
	ders := map[string][]byte{
		"good": request(t, good, w.subCert, crypto.SHA1), "revoked": request(t, revoked, w.subCert, crypto.SHA1),
		"unknown": unknown,
	}
	for _, der := range ders {
		serveBoth(t, w.rsp, der) // an unknown answer is remembered once asked for
	}
	for name, der := range ders {
		b64 := base64.StdEncoding.EncodeToString(der)
		for _, tc := range []struct {
			method, target string
		}{{http.MethodPost, "/"}, {http.MethodGet, "/" + b64}, {http.MethodGet, "/" + encoded.Replace(b64)}} {
			var body io.Reader
			if tc.method == http.MethodPost {
				body = bytes.NewReader(der)
			}
			rec := httptest.NewRecorder()
			w.rsp.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, body))
			before := requests()
			raw, ok := w.rsp.AppendQuickHTTP(ctx, []byte("kept"), tc.method == http.MethodGet, tc.target, der)
			if !ok {
				t.Fatalf("%s %s %s: declined", name, tc.method, tc.target)
			}
			if requests() != before+1 {
				t.Errorf("%s %s: counted %v requests, want 1", name, tc.method, requests()-before)
			}
			res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("kept")))), nil)
			if err != nil || !bytes.HasPrefix(raw, []byte("kept")) {
				t.Fatalf("%s %s: %v in %q", name, tc.method, err, raw)
			}
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != rec.Code || !bytes.Equal(got, rec.Body.Bytes()) || res.ContentLength != int64(len(got)) {
				t.Errorf("%s %s: HTTP %d, %d bytes (Content-Length %d); ServeHTTP: HTTP %d, %d bytes", name, tc.method, res.StatusCode, len(got), res.ContentLength, rec.Code, rec.Body.Len())
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "Etag", "Last-Modified", "Expires"} {
				if res.Header.Get(h) != rec.Header().Get(h) {
					t.Errorf("%s %s: %s %q, ServeHTTP's %q", name, tc.method, h, res.Header.Get(h), rec.Header().Get(h))
				}
			}
			// No header more or less than ServeHTTP's, but those net/http adds.
			names := map[string]bool{"Date": true, "Content-Length": true}
			for h := range rec.Header() {
				names[h] = true
			}
			for h := range res.Header {
				if !names[h] {
					t.Errorf("%s %s: header %s that ServeHTTP does not send", name, tc.method, h)
				}
				delete(names, h)
			}
			if len(names) > 0 {
				t.Errorf("%s %s: headers missing: %v", name, tc.method, names)
			}
			if d, err := http.ParseTime(res.Header.Get("Date")); err != nil || time.Since(d) > time.Minute {
				t.Errorf("%s %s: Date %q", name, tc.method, res.Header.Get("Date"))
			}
		}
	}
	good2 := request(t, good, w.subCert, crypto.SHA1)
	serveBoth(t, w.rsp, request(t, good, w.subCert, crypto.SHA256)) // remembered
	nonce := buildRequest([][]byte{certID(w.subCert, crypto.SHA1, good.SerialNumber, false, false)}, []byte("0123456789abcdef"))
	for name, tc := range map[string]struct {
		get    bool
		target string
		der    []byte
	}{
		"nonce":              {false, "/", nonce},
		"two CertIDs":        {false, "/", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, good.SerialNumber, false, false), certID(w.subCert, crypto.SHA1, revoked.SerialNumber, false, false)}, nil)},
		"no NULL":            {false, "/", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, good.SerialNumber, true, false)}, nil)},
		"malformed":          {false, "/", []byte{0x30, 0x03, 0x30, 0x01, 0x30}},
		"unknown, not asked": {false, "/", buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(0x7f9999), false, false)}, nil)},
		// Remembered, but about a certificate the store has: Respond checks
		// that the store still says the same before serving it.
		"good sha256, remembered": {false, "/", request(t, good, w.subCert, crypto.SHA256)},
		"query":                   {true, "/" + base64.StdEncoding.EncodeToString(good2) + "?x=1", nil},
		"bad escape":              {true, "/%zz" + base64.StdEncoding.EncodeToString(good2), nil},
		"GET not base64":          {true, "/healthz", nil},
		"POST over the limit":     {false, "/", make([]byte, responder.MaxRequestBytes+1)},
	} {
		before := requests()
		if out, ok := w.rsp.AppendQuickHTTP(ctx, []byte("kept"), tc.get, tc.target, tc.der); ok || string(out) != "kept" {
			t.Errorf("%s: taken (%v) or written to (%q)", name, ok, out)
		}
		if requests() != before {
			t.Errorf("%s: declined but counted", name)
		}
	}
}
