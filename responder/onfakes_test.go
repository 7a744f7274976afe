package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/responder"
)

// onFakes is a responder over a fakeSource and fakeSigners, for one CA
// (P-256) answering through a delegated responder byKey, and a foreign CA
// that is not in the Set.
type onFakes struct {
	t       *testing.T
	ca      *x509.Certificate
	caKey   crypto.Signer
	id      certs.Identifier
	resp    *x509.Certificate
	respKey crypto.Signer
	foreign *x509.Certificate
	signer  *ocspsign.Signer // the Set's signer of ca
	src     *fakeSource
	signers *fakeSigners
	clock   *fakeClock
	reg     *prometheus.Registry
	rsp     *responder.Responder
}

func newOnFakes(t *testing.T, opts responder.Options) *onFakes {
	t.Helper()
	f := &onFakes{t: t, src: newFakeSource(), signers: &fakeSigners{}, clock: &fakeClock{t: time.Now().Truncate(time.Second)}, reg: prometheus.NewRegistry()}
	year := f.clock.Now().Add(365 * 24 * time.Hour)
	f.caKey, f.respKey = fakeKey(t), fakeKey(t)
	f.ca = fakeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Fake CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, f.caKey, f.caKey, year)
	f.resp = fakeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Fake Responder"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, f.ca, f.caKey, f.respKey, year)
	foreignKey := fakeKey(t)
	f.foreign = fakeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Foreign CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, foreignKey, foreignKey, year)
	f.id = certs.IdentifierOf(f.ca.Raw)
	f.publish(f.delegated(f.respKey))
	f.signer = f.signers.set.Load().Get(f.id)
	opts.Now = f.clock.Now
	opts.Metrics = responder.NewMetrics(f.reg)
	var err error
	if f.rsp, err = responder.New(f.src, f.signers, &opts); err != nil {
		t.Fatal(err)
	}
	return f
}

func fakeKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fakeCert signs tmpl for key with parentKey (self-signed when parent is
// nil), valid from an hour ago to notAfter.
func fakeCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey, key crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), notAfter
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// delegated is the CA answering through its responder certificate, signed
// with signer (the responder's key, or a wrapper of it).
func (f *onFakes) delegated(signer crypto.Signer) ocspsign.Issuer {
	return ocspsign.Issuer{ID: f.id, Cert: f.ca, Signer: signer, SignerCert: f.resp}
}

// publish makes a Set of issuers (default policy) the current one.
func (f *onFakes) publish(issuers ...ocspsign.Issuer) *ocspsign.Set {
	f.t.Helper()
	set, err := ocspsign.NewSet(ocspsign.Policy{}, issuers...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.signers.set.Store(set)
	return set
}

// issued records a certificate of the CA with serial n as issued, valid
// for 30 days.
func (f *onFakes) issued(n int64) certs.StatusFacts {
	facts := certs.StatusFacts{Found: true, Serial: certs.SerialFromBig(big.NewInt(n)), State: certs.StateIssued, NotAfter: f.clock.Now().Add(30 * 24 * time.Hour)}
	f.src.setFacts(f.id, facts)
	return facts
}

// revoke records serial n as revoked at at for reason.
func (f *onFakes) revoke(n int64, at time.Time, reason certs.Reason) {
	f.src.setFacts(f.id, certs.StatusFacts{Found: true, Serial: certs.SerialFromBig(big.NewInt(n)), State: certs.StateRevoked,
		RevokedAt: at, Reason: reason, NotAfter: f.clock.Now().Add(30 * 24 * time.Hour)})
}

// request is an OCSP request for serial n of issuer, as x/crypto writes it
// (one canonical CertID, no nonce).
func (f *onFakes) request(issuer *x509.Certificate, n int64, h crypto.Hash) []byte {
	f.t.Helper()
	der, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(n)}, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		f.t.Fatal(err)
	}
	return der
}

// withNonce is an OCSP request holding the CertIDs and a nonce.
func withNonce(certIDs [][]byte, nonce []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, id := range certIDs {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(id) })
				}
			})
			if nonce == nil {
				return
			}
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2})
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// nonceRequest asks for serial n with a nonce: always signed live.
func (f *onFakes) nonceRequest(n int64) []byte {
	f.t.Helper()
	id, err := f.signer.CertID(crypto.SHA1, big.NewInt(n))
	if err != nil {
		f.t.Fatal(err)
	}
	return withNonce([][]byte{id}, []byte(fmt.Sprintf("nonce %d", n)))
}

// respond is Respond, failing t on an error.
func (f *onFakes) respond(der []byte) responder.Answer {
	f.t.Helper()
	a, err := f.rsp.Respond(context.Background(), der)
	if err != nil {
		f.t.Fatalf("Respond: %v", err)
	}
	return a
}

// serve answers der over HTTP, POST or GET, and returns the body.
func (f *onFakes) serve(der []byte, get bool) []byte {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(der))
	if get {
		req = httptest.NewRequest(http.MethodGet, "/"+base64.StdEncoding.EncodeToString(der), nil)
	}
	rec := httptest.NewRecorder()
	f.rsp.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/ocsp-response" {
		f.t.Fatalf("HTTP %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body, _ := io.ReadAll(rec.Body)
	return body
}

// parse reads an answer about serial n with x/crypto, verifying that the
// CA's delegated responder signed it.
func (f *onFakes) parse(der []byte, n int64) *ocsp.Response {
	f.t.Helper()
	r, err := ocsp.ParseResponseForCert(der, &x509.Certificate{SerialNumber: big.NewInt(n)}, f.ca)
	if err != nil {
		f.t.Fatalf("x/crypto: %v", err)
	}
	if r.Certificate == nil || !bytes.Equal(r.Certificate.Raw, f.resp.Raw) {
		f.t.Fatal("the answer does not carry the delegated responder's certificate")
	}
	return r
}

// nonceOf reads the nonce of an answer's responseExtensions (RFC 9654:
// an OCTET STRING in the extnValue), nil if it has none.
func (f *onFakes) nonceOf(der []byte) []byte {
	f.t.Helper()
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct{ TBS asn1.RawValue }
	var data struct {
		Version     int `asn1:"optional,default:0,explicit,tag:0"`
		ResponderID asn1.RawValue
		ProducedAt  time.Time `asn1:"generalized"`
		Responses   []asn1.RawValue
		Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		f.t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		f.t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &data); err != nil {
		f.t.Fatal(err)
	}
	for _, e := range data.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}) {
			var nonce []byte
			if rest, err := asn1.Unmarshal(e.Value, &nonce); err != nil || len(rest) > 0 {
				f.t.Fatalf("nonce extension %x: %v", e.Value, err)
			}
			return nonce
		}
	}
	return nil
}

// answers is the count of certstatus_ocsp_answers_total{outcome, cause}.
func (f *onFakes) answers(outcome, cause string) float64 {
	f.t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "certstatus_ocsp_answers_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["outcome"] == outcome && labels["cause"] == cause {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
