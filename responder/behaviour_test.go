package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/keyseal"
	"github.com/certstatus/certstatus/internal/ocspclient"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/internal/syncbuf"
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
	// SHA-256 is signed on first use, then remembered (in memory: the
	// responder stores nothing).
	writes := w.store.Stats().Writes
	a, _ = w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA256))
	if a.Cached {
		t.Error("SHA-256 answered from a cache it was never put in")
	}
	if a, _ = w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA256)); !a.Cached {
		t.Error("SHA-256 answer not remembered after first use")
	}
	if n := w.store.Stats().Writes - writes; n != 0 {
		t.Errorf("answering made %d store writes", n)
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

// Past its nextUpdate a stored answer is not served: a new one is signed
// live, remembered, and not served past the refresh age either.
func TestCache_NeverPastNextUpdate(t *testing.T) {
	w := newWorld(t, responder.Options{}, ca.OCSPOptions{Policy: ocspsign.Policy{Validity: 8 * time.Hour}})
	rec, c := w.issue("refresh")
	ctx := context.Background()
	first, _ := w.store.OCSPResponse(ctx, w.sub.Identifier, rec.Serial, crypto.SHA1)
	w.clock.Add(9 * time.Hour)
	a, err := w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA1))
	if err != nil || a.Cached || !a.ThisUpdate.After(first.ThisUpdate) {
		t.Fatalf("expired cache served: cached=%v this=%v err=%v", a.Cached, a.ThisUpdate, err)
	}
	if a, _ := w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA1)); !a.Cached {
		t.Error("the live answer was not remembered")
	}
	// A third of the validity later the remembered answer is too old.
	w.clock.Add(8*time.Hour/3 + time.Second)
	if a, _ := w.rsp.Respond(ctx, request(t, c, w.subCert, crypto.SHA1)); a.Cached {
		t.Error("a remembered answer was served past the refresh age")
	}
}

func TestOptions(t *testing.T) {
	if _, err := responder.New(nil, nil, nil); err == nil {
		t.Error("no Source and Signers accepted")
	}
	w := newWorld(t, responder.Options{})
	if _, err := responder.New(w.store, w.signers, &responder.Options{MaxLiveSigning: -1}); err == nil {
		t.Error("MaxLiveSigning -1 accepted")
	}
}

func TestUnknownAsRevokedByNameAndCAKey(t *testing.T) {
	w := newWorld(t, responder.Options{UnknownAsRevoked: true}, ca.OCSPOptions{Policy: ocspsign.Policy{ByName: true}})
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

	w2 := newWorld(t, responder.Options{}, ca.OCSPOptions{SignWithCA: true})
	_, c := w2.issue("ca-signed")
	der, _ = w2.post(request(t, c, w2.subCert, crypto.SHA256))
	r, err = ocspclient.Verify(der, c, w2.subCert, time.Now()) // x/crypto refuses the CA's own certificate included: golang/go#59641
	if err != nil || r.Status != ocsp.Good || r.Certificate == nil || !r.Certificate.Equal(w2.subCert) {
		t.Fatalf("CA-key signed, the CA's certificate included: %v %v", r, err)
	}
}

func TestTryLaterWhenSigningSaturated(t *testing.T) {
	logs := &syncbuf.Buffer{}
	w := newWorld(t, responder.Options{MaxLiveSigning: 1, Logger: slog.New(slog.NewTextHandler(logs, nil))})
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
	// The log names the limit and how to raise it.
	if l := logs.String(); !strings.Contains(l, "answered tryLater") || !strings.Contains(l, "limit=1") || !strings.Contains(l, "--ocsp-max-live") {
		t.Errorf("saturation log %q: want the limit and how to raise it", l)
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

// setBlockingSigner has the responder sign for the sub CA with its signer
// wrapped so that signing blocks until block is closed.
func (w *world) setBlockingSigner(t *testing.T, block, started chan struct{}) {
	t.Helper()
	set := w.auth.OCSPSigners()
	var list []ocspsign.Issuer
	for _, s := range set.Signers() {
		is := s.Issuer
		if is.ID == w.sub.Identifier {
			is.Signer = &slowSigner{Signer: is.Signer, block: block, started: started}
		}
		list = append(list, is)
	}
	slow, err := ocspsign.NewSet(set.Policy(), list...)
	if err != nil {
		t.Fatal(err)
	}
	w.signers.override.Store(slow)
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

// A request can never cause a write: not for a CA the responder has no
// signer for (it is unauthorized; nothing is issued or loaded on its
// account), nor an unknown serial, a first-use SHA-256 CertID, a nonce, or
// several CertIDs. (An unknown issuer used to trigger a reload that could
// issue and store a responder certificate: a CA signature and an fsync
// from an unauthenticated request.)
func TestRequestsNeverWrite(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, c := w.issue("read only")
	ctx := context.Background()
	// A CA in the store that the published signers do not hold.
	other, err := ca.New(w.store, mustSealer(t), &ca.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := other.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "Other", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Years: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rootCert, _ := root.Certificate()
	before := w.store.Stats().Writes
	for name, der := range map[string][]byte{
		"unknown issuer": buildRequest([][]byte{certID(rootCert, crypto.SHA1, big.NewInt(7), false, false)}, nil),
		"unknown serial": buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(7), false, false)}, nil),
		"sha256":         request(t, c, w.subCert, crypto.SHA256),
		"nonce":          buildRequest([][]byte{certID(w.subCert, crypto.SHA1, c.SerialNumber, false, false)}, []byte("n")),
		"two":            buildRequest([][]byte{certID(w.subCert, crypto.SHA1, c.SerialNumber, false, false), certID(w.subCert, crypto.SHA512, c.SerialNumber, false, false)}, nil),
	} {
		for range 3 {
			_, err := w.rsp.Respond(ctx, der)
			if name == "unknown issuer" {
				if !errors.Is(err, responder.ErrUnauthorized) {
					t.Errorf("%s: %v, want unauthorized", name, err)
				}
			} else if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if n := w.store.Stats().Writes - before; n != 0 {
		t.Fatalf("requests made %d store writes", n)
	}
}

func mustSealer(t *testing.T) *keyseal.Sealer {
	t.Helper()
	key := make([]byte, keyseal.KeySize)
	rand.Read(key)
	s, err := keyseal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
