package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/responder"
)

func get(t *testing.T, url string, hdr map[string]string) ([]byte, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp
}

func TestHTTP_GETCachingAnd304(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, c := w.issue("get")
	req := request(t, c, w.subCert, crypto.SHA1)
	url := w.srv.URL + "/" + base64.StdEncoding.EncodeToString(req)
	der, resp := get(t, url, nil)
	if r, err := ocsp.ParseResponseForCert(der, c, w.subCert); err != nil || r.Status != ocsp.Good {
		t.Fatalf("GET: %v %v", r, err)
	}
	cc := resp.Header.Get("Cache-Control")
	if !strings.Contains(cc, "public") || !strings.Contains(cc, "no-transform") || !strings.Contains(cc, "must-revalidate") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q", cc)
	}
	var maxAge int
	for _, p := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "max-age="); ok {
			maxAge = atoi(v)
		}
	}
	// Never cached past half the validity (the next refresh) nor nextUpdate.
	if maxAge <= 0 || maxAge > int((12*time.Hour)/time.Second) {
		t.Errorf("max-age %d, want (0, 12h]", maxAge)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("Expires") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	_, resp2 := get(t, url, map[string]string{"If-None-Match": etag})
	if resp2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", resp2.StatusCode)
	}
	_, resp3 := get(t, url, map[string]string{"If-None-Match": `"other"`})
	if resp3.StatusCode != http.StatusOK {
		t.Errorf("other ETag: %d", resp3.StatusCode)
	}
	// POST answers carry no caching headers.
	_, hr := w.post(req)
	if hr.Header.Get("Cache-Control") != "" || hr.Header.Get("ETag") != "" {
		t.Errorf("POST headers %v", hr.Header)
	}
	// HEAD gets GET's headers and no body.
	head, _ := http.NewRequest(http.MethodHead, url, nil)
	if hr, err := http.DefaultClient.Do(head); err != nil || hr.StatusCode != 200 || hr.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %v %v", hr, err)
	}
	// Other methods.
	put, _ := http.NewRequest(http.MethodPut, w.srv.URL, bytes.NewReader(req))
	pr, err := http.DefaultClient.Do(put)
	if err != nil || pr.StatusCode != http.StatusMethodNotAllowed || pr.Header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("PUT: %v %v", pr, err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestCache_PresignedAndRevocation(t *testing.T) {
	w := newWorld(t, responder.Options{})
	rec, c := w.issue("cached")
	ctx := context.Background()
	// Issuance stored the SHA-1 answer in the same transaction.
	o, err := w.store.OCSPResponse(ctx, w.sub.Identifier, rec.Serial, crypto.SHA1)
	if err != nil || o.Status != certs.Good {
		t.Fatalf("pre-signed at issuance: %v %v", o, err)
	}
	a, err := w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA1))
	if err != nil || !a.Cached || !bytes.Equal(a.DER, o.DER) {
		t.Fatalf("not served from the cache: cached=%v err=%v", a.Cached, err)
	}
	// SHA-256 is signed on first use, then cached.
	a, _ = w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA256))
	if a.Cached {
		t.Error("SHA-256 answered from a cache it was never put in")
	}
	w.rsp.Wait()
	if a, _ = w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA256)); !a.Cached {
		t.Error("SHA-256 answer not cached after first use")
	}
	// Revocation: the very next answer is revoked, for every hash.
	if _, err := w.auth.Revoke(ctx, rec.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		der, _ := w.post(request(t, c, w.subCert, h))
		if r, err := ocsp.ParseResponseForCert(der, c, w.subCert); err != nil || r.Status != ocsp.Revoked {
			t.Errorf("%v right after revoke: %v %v", h, r, err)
		}
	}
	// Deleted but revoked stays revoked.
	w.store.Delete(ctx, rec.Identifier, time.Now())
	der, _ := w.post(request(t, c, w.subCert, crypto.SHA384))
	if r, _ := ocsp.ParseResponseForCert(der, c, w.subCert); r == nil || r.Status != ocsp.Revoked {
		t.Errorf("deleted certificate: %v", r)
	}
}

func TestCache_NeverPastNextUpdateAndRefresh(t *testing.T) {
	w := newWorld(t, responder.Options{Validity: 8 * time.Hour})
	rec, c := w.issue("refresh")
	ctx := context.Background()
	first, _ := w.store.OCSPResponse(ctx, w.sub.Identifier, rec.Serial, crypto.SHA1)
	// Past nextUpdate the cached answer is not served: a new one is signed.
	w.clock.Add(9 * time.Hour)
	a, err := w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA1))
	if err != nil || a.Cached || !a.ThisUpdate.After(first.ThisUpdate) {
		t.Fatalf("expired cache served: cached=%v this=%v err=%v", a.Cached, a.ThisUpdate, err)
	}
	w.rsp.Wait()
	// Refresh re-signs answers older than a third of the validity.
	w.clock.Add(3 * time.Hour)
	n, err := w.rsp.Refresh(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Refresh = %d, %v; want 1", n, err)
	}
	o, _ := w.store.OCSPResponse(ctx, w.sub.Identifier, rec.Serial, crypto.SHA1)
	if !o.ThisUpdate.Equal(w.clock.Now().Truncate(time.Second)) {
		t.Errorf("refreshed thisUpdate %v, want now %v", o.ThisUpdate, w.clock.Now())
	}
	if n, _ := w.rsp.Refresh(ctx); n != 0 {
		t.Errorf("second Refresh re-signed %d fresh answers", n)
	}
	if w.rsp.RefreshInterval() > 8*time.Hour/12 {
		t.Errorf("refresh interval %v too long to refresh before half validity", w.rsp.RefreshInterval())
	}
}

func TestOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := responder.New(ctx, nil, &responder.Options{Validity: time.Hour, Issuers: func(context.Context) ([]responder.Issuer, error) { return nil, nil }}); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("1h validity: %v", err)
	}
	if _, err := responder.New(ctx, nil, &responder.Options{Validity: 8 * 24 * time.Hour, Issuers: func(context.Context) ([]responder.Issuer, error) { return nil, nil }}); err == nil {
		t.Error("8 days accepted")
	}
	if _, err := responder.New(ctx, nil, nil); err == nil {
		t.Error("no Issuers accepted")
	}
	none := func(context.Context) ([]responder.Issuer, error) { return nil, nil }
	for _, o := range []responder.Options{{RefreshAfter: 59 * time.Second}, {RefreshAfter: 12*time.Hour + time.Second}, {RefreshShare: -0.1}, {RefreshShare: 1.5}} {
		o.Issuers = none
		if _, err := responder.New(ctx, nil, &o); err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("refresh after %v, share %v: %v", o.RefreshAfter, o.RefreshShare, err)
		}
	}
}

// RefreshAfter sets the age at which answers are re-signed, and the pass
// interval follows it.
func TestRefreshAfter(t *testing.T) {
	w := newWorld(t, responder.Options{RefreshAfter: 10 * time.Minute, RefreshShare: 1})
	rec, _ := w.issue("refresh after")
	ctx := context.Background()
	first, _ := w.store.OCSPResponse(ctx, w.sub.Identifier, rec.Serial, crypto.SHA1)
	w.clock.Add(9 * time.Minute)
	if n, err := w.rsp.Refresh(ctx); n != 0 || err != nil {
		t.Fatalf("Refresh of a 9-minute-old answer = %d, %v; want 0", n, err)
	}
	w.clock.Add(2 * time.Minute)
	if n, err := w.rsp.Refresh(ctx); n != 1 || err != nil {
		t.Fatalf("Refresh of an 11-minute-old answer = %d, %v; want 1", n, err)
	}
	if o, _ := w.store.OCSPResponse(ctx, w.sub.Identifier, rec.Serial, crypto.SHA1); !o.ThisUpdate.After(first.ThisUpdate) {
		t.Error("the answer was not re-signed")
	}
	if got := w.rsp.RefreshInterval(); got != 150*time.Second {
		t.Errorf("refresh interval %v, want a quarter of 10m", got)
	}
}

// A refresh pass pauses after every page of its scan, every signature and
// every batch write as RefreshShare asks, and not at all with a share of 1;
// the re-signed answers are counted batch by batch.
func TestRefreshShare(t *testing.T) {
	for _, c := range []struct {
		share float64
		certs int
	}{{1, 501}, {0.25, 501}} {
		w := newWorld(t, responder.Options{RefreshShare: c.share})
		for range c.certs {
			w.issue("share")
		}
		var pauses []time.Duration
		w.rsp.WatchRefreshPauses(&pauses)
		w.clock.Add(9 * time.Hour)
		if n, err := w.rsp.Refresh(context.Background()); n != c.certs || err != nil {
			t.Fatalf("share %v: Refresh = %d, %v", c.share, n, err)
		}
		positive := 0
		for _, p := range pauses {
			if p > 0 {
				positive++
			}
		}
		switch {
		case c.share == 1 && len(pauses) != 0:
			t.Errorf("share 1 paused %d times", len(pauses))
		case c.share < 1 && positive != 2+c.certs+2:
			t.Errorf("share %v: %d pauses, want one per page of the scan (2), per signature and per batch write (2): %d", c.share, positive, 2+c.certs+2)
		}
	}
}

func TestUnknownAsRevokedByNameAndCAKey(t *testing.T) {
	w := newWorld(t, responder.Options{UnknownAsRevoked: true, ByName: true})
	der, _ := w.post(buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(0xdead), false, false)}, nil))
	r, err := ocsp.ParseResponse(der, w.subCert)
	if err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CertificateHold || !r.RevokedAt.Equal(time.Unix(0, 0)) {
		t.Fatalf("unknown as revoked: %v %v", r, err)
	}
	if !bytes.Contains(der, []byte{0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x09}) {
		t.Error("no id-pkix-ocsp-extended-revoke extension")
	}
	if len(r.RawResponderName) == 0 {
		t.Error("ResponderID is not byName")
	}

	w2 := newWorld(t, responder.Options{})
	w2.signWithCA = true
	if err := w2.rsp.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, c := w2.issue("ca-signed")
	der, _ = w2.post(request(t, c, w2.subCert, crypto.SHA256))
	r, err = ocsp.ParseResponseForCert(der, c, w2.subCert)
	if err != nil || r.Status != ocsp.Good || r.Certificate != nil {
		t.Fatalf("CA-key signed: %v %v", r, err)
	}
}

func TestTryLaterWhenSigningSaturated(t *testing.T) {
	w := newWorld(t, responder.Options{MaxLiveSigning: 1})
	_, c := w.issue("busy")
	nonceReq := func(n string) []byte {
		return buildRequest([][]byte{certID(w.subCert, crypto.SHA1, c.SerialNumber, false, false)}, []byte(n))
	}
	// occupy holds the only live-signing slot with a nonce request whose
	// signer blocks until release is called.
	occupy := func(n string) (release func()) {
		block := make(chan struct{})
		started := make(chan struct{}, 1)
		w.setBlockingSigner(t, block, started)
		done := make(chan struct{})
		go func() { defer close(done); w.rsp.Respond(context.Background(), nonceReq(n)) }()
		<-started
		return func() { close(block); <-done }
	}
	release := occupy("nonce-1")
	_, err := w.rsp.Respond(context.Background(), nonceReq("nonce-2"))
	release()
	if err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Fatalf("second live signing: %v, want tryLater", err)
	}
	// Over HTTP the same saturation is the tryLater answer.
	release = occupy("nonce-3")
	der, _ := w.post(nonceReq("nonce-4"))
	release()
	var re ocsp.ResponseError
	if _, perr := ocsp.ParseResponse(der, nil); !errors.As(perr, &re) || re.Status != ocsp.TryLater {
		t.Fatalf("HTTP answer under saturation: %v", perr)
	}
	// Once released, signing works again.
	if _, err := w.rsp.Respond(context.Background(), nonceReq("nonce-5")); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// slowSigner blocks signing until released.
type slowSigner struct {
	crypto.Signer
	block   chan struct{}
	started chan struct{}
}

func (s *slowSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	select {
	case s.started <- struct{}{}:
	default:
	}
	<-s.block
	return s.Signer.Sign(r, d, o)
}

// setBlockingSigner reloads the responder with the sub CA's signer wrapped
// so that signing blocks until block is closed.
func (w *world) setBlockingSigner(t *testing.T, block, started chan struct{}) {
	t.Helper()
	orig := w.issuersFn
	w.issuersFn = func(ctx context.Context) ([]responder.Issuer, error) {
		list, err := orig(ctx)
		for i := range list {
			if list[i].ID == w.sub.Identifier {
				list[i].Signer = &slowSigner{Signer: list[i].Signer, block: block, started: started}
			}
		}
		return list, err
	}
	if err := w.rsp.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReady(t *testing.T) {
	w := newWorld(t, responder.Options{})
	if err := w.rsp.Ready([]certs.Identifier{w.root.Identifier, w.sub.Identifier}); err != nil {
		t.Errorf("Ready: %v", err)
	}
	if err := w.rsp.Ready([]certs.Identifier{certs.IdentifierOf([]byte("x"))}); err == nil {
		t.Error("Ready with a CA it has no signer for")
	}
}
