package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/keyseal"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/responder"
)

// fakeNow is a settable clock.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// world is a real store and CA with a responder over them.
type world struct {
	t        testing.TB
	store    *db.Store
	auth     *ca.Authority
	clock    *fakeNow
	rsp      *responder.Responder
	srv      *httptest.Server
	root     certs.CA
	sub      certs.CA
	rootCert *x509.Certificate
	subCert  *x509.Certificate
	signers  *worldSigners
}

// worldSigners is the CA's published Set, unless a test put another in.
type worldSigners struct {
	auth     *ca.Authority
	override atomic.Pointer[ocspsign.Set]
}

func (s *worldSigners) OCSPSigners() *ocspsign.Set {
	if o := s.override.Load(); o != nil {
		return o
	}
	return s.auth.OCSPSigners()
}

// newWorld makes a store, a CA signing OCSP with o (the first, if given:
// delegated responders valid 30 days by default) and a responder.
func newWorld(t testing.TB, opts responder.Options, o ...ca.OCSPOptions) *world {
	t.Helper()
	store, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, keyseal.KeySize)
	rand.Read(key)
	sealer, _ := keyseal.New(key)
	w := &world{t: t, store: store, clock: &fakeNow{t: time.Now().Truncate(time.Second)}}
	oo := ca.OCSPOptions{}
	if len(o) > 0 {
		oo = o[0]
	}
	w.auth, err = ca.New(store, sealer, &ca.Options{OCSPURL: "http://ocsp.test", Now: w.clock.Now, OCSP: &oo})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.root, _ = w.auth.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "OCSP Test Root", Organization: "certstatus", Country: "US"}, Algorithm: certs.ECC384, Validity: certs.Validity{Years: 5}})
	w.sub, err = w.auth.CreateSub(ctx, certs.SubRequest{Parent: w.root.Identifier, Subject: certs.Subject{CommonName: "OCSP Test Issuing", Organization: "certstatus", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Years: 2}})
	if err != nil {
		t.Fatal(err)
	}
	w.rootCert, _ = w.root.Certificate()
	w.subCert, _ = w.sub.Certificate()
	opts.Now = w.clock.Now
	w.signers = &worldSigners{auth: w.auth}
	if w.rsp, err = responder.New(store, w.signers, &opts); err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(w.rsp)
	t.Cleanup(func() {
		w.srv.Close()
		w.auth.Wait()
		if ps, err := store.Check(context.Background()); err != nil || len(ps) > 0 {
			t.Errorf("store check: %v %v", err, ps)
		}
		store.Close()
	})
	return w
}

// issue makes a client certificate of the sub CA.
func (w *world) issue(cn string) (certs.Record, *x509.Certificate) {
	w.t.Helper()
	out, err := w.auth.Issue(context.Background(), certs.IssueRequest{Issuer: w.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: cn}, Validity: certs.Validity{Days: 30}})
	if err != nil {
		w.t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(out.Record.DER)
	return out.Record, c
}

// post sends a DER request and returns the DER answer and the response.
func (w *world) post(der []byte) ([]byte, *http.Response) {
	w.t.Helper()
	resp, err := http.Post(w.srv.URL, "application/ocsp-request", bytes.NewReader(der))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp
}

func request(t testing.TB, cert, issuer *x509.Certificate, h crypto.Hash) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// certID encodes a CertID for serial with hash h (NULL parameters unless
// noParams), as a client would.
func certID(issuer *x509.Certificate, h crypto.Hash, serial *big.Int, noParams bool, emptyKey bool) []byte {
	oids := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA1: {1, 3, 14, 3, 2, 26}, crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3}}
	var spki struct {
		Alg asn1.RawValue
		Key asn1.BitString
	}
	asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki)
	nh := h.New()
	nh.Write(issuer.RawSubject)
	kh := h.New()
	kh.Write(spki.Key.Bytes)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oids[h])
			if !noParams {
				b.AddASN1NULL()
			}
		})
		b.AddASN1OctetString(nh.Sum(nil))
		if emptyKey {
			b.AddASN1OctetString(nil)
		} else {
			b.AddASN1OctetString(kh.Sum(nil))
		}
		b.AddASN1BigInt(serial)
	})
	return b.BytesOrPanic()
}

// buildRequest wraps CertIDs and an optional nonce into an OCSPRequest.
func buildRequest(ids [][]byte, nonce []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, id := range ids {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(id) })
				}
			})
			if nonce != nil {
				b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2})
							b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
						})
					})
				})
			}
		})
	})
	return b.BytesOrPanic()
}

// responseNonce digs the nonce out of a response's responseExtensions.
func responseNonce(t *testing.T, der []byte) []byte {
	t.Helper()
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type asn1.ObjectIdentifier
			Resp []byte
		} `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		t.Fatal(err)
	}
	var basic struct {
		TBS asn1.RawValue
	}
	asn1.Unmarshal(resp.Bytes.Resp, &basic)
	s := cryptobyte.String(basic.TBS.FullBytes)
	var tbs cryptobyte.String
	s.ReadASN1(&tbs, cbasn1.SEQUENCE)
	return findNonce(t, tbs)
}

// findNonce walks ResponseData's elements to responseExtensions [1] (after
// the responderID, which may itself be [1] byName).
func findNonce(t *testing.T, tbs cryptobyte.String) []byte {
	t.Helper()
	var rid cryptobyte.String
	var ridTag cbasn1.Tag
	tbs.ReadAnyASN1(&rid, &ridTag)
	for !tbs.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !tbs.ReadAnyASN1(&el, &tag) {
			t.Fatal("bad tbs")
		}
		if tag != cbasn1.Tag(1).Constructed().ContextSpecific() {
			continue
		}
		var seq cryptobyte.String
		el.ReadASN1(&seq, cbasn1.SEQUENCE)
		for !seq.Empty() {
			var ext cryptobyte.String
			seq.ReadASN1(&ext, cbasn1.SEQUENCE)
			var oid asn1.ObjectIdentifier
			ext.ReadASN1ObjectIdentifier(&oid)
			var outer, inner cryptobyte.String
			ext.ReadASN1(&outer, cbasn1.OCTET_STRING)
			if oid.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}) {
				outer.ReadASN1(&inner, cbasn1.OCTET_STRING)
				return inner
			}
		}
	}
	return nil
}
