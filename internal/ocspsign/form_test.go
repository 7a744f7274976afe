package ocspsign_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	encasn1 "encoding/asn1"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// madeSigners are the ways one CA's answers can be signed: by the CA or a
// delegated responder, byKey or byName, and a responder rotated to a new
// key with the same name (1b) or another name (2); caNamedResponder is a
// responder certificate with the CA's own subject.
type madeSigners struct {
	caKey, caName           *ocspsign.Signer
	d1Key, d1bKey, d2Key    *ocspsign.Signer
	d1Name, d1bName, d2Name *ocspsign.Signer
	caNamedResponder        *ocspsign.Signer
}

func newMadeSigners(t testing.TB) madeSigners {
	t.Helper()
	k := keyKinds[0]
	year := time.Now().Add(365 * 24 * time.Hour)
	caKey := key(t, k, "made ca")
	ca := newCA(t, "Made CA", caKey, year)
	k1, k2, k3 := key(t, k, "made 1"), key(t, k, "made 1b"), key(t, k, "made 2")
	r1 := newResponder(t, ca, caKey, "Made Responder 1", k1, year)
	r1b := newResponder(t, ca, caKey, "Made Responder 1", k2, year)
	r2 := newResponder(t, ca, caKey, "Made Responder 2", k3, year)
	rCA := create(t, &x509.Certificate{SerialNumber: randSerial(t), Subject: ca.Subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: year,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, ca, k1.Public(), caKey)
	if !bytes.Equal(rCA.RawSubject, ca.RawSubject) {
		t.Fatal("the responder does not carry the CA's subject")
	}
	byKey, byName := ocspsign.Policy{}, ocspsign.Policy{ByName: true}
	d := func(r *x509.Certificate) ocspsign.Issuer {
		is := delegatedIssuer(ca, r, nil)
		switch r {
		case r1, rCA:
			is.Signer = k1
		case r1b:
			is.Signer = k2
		case r2:
			is.Signer = k3
		}
		return is
	}
	return madeSigners{
		caKey:            mustSigner(t, caIssuer(ca, caKey), byKey),
		caName:           mustSigner(t, caIssuer(ca, caKey), byName),
		d1Key:            mustSigner(t, d(r1), byKey),
		d1bKey:           mustSigner(t, d(r1b), byKey),
		d2Key:            mustSigner(t, d(r2), byKey),
		d1Name:           mustSigner(t, d(r1), byName),
		d1bName:          mustSigner(t, d(r1b), byName),
		d2Name:           mustSigner(t, d(r2), byName),
		caNamedResponder: mustSigner(t, d(rCA), byName),
	}
}

// answerOf is an answer s signed: good, with or without extensions.
func answerOf(t testing.TB, s *ocspsign.Signer, nonce bool) []byte {
	t.Helper()
	if !nonce {
		o, err := s.Answer(certs.StatusFacts{Found: true, Serial: "1234", State: certs.StateIssued}, crypto.SHA1, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return o.DER
	}
	singles, _ := singlesFor(t, s, time.Now())
	der, err := s.Sign(singles, time.Now(), []byte("nonce"), true)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// withCerts is der with its BasicOCSPResponse's certs replaced by list
// (none when empty): the signature does not cover them, so the answer
// still verifies with its signer's key, as one stored before the CA's
// certificate was included does.
func withCerts(t testing.TB, der []byte, list ...*x509.Certificate) []byte {
	t.Helper()
	in := cryptobyte.String(der)
	var resp, rb, octets, basic cryptobyte.String
	var status []byte
	var oid encasn1.ObjectIdentifier
	var tbs, alg, sig cryptobyte.String
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Bytes(&status, cbasn1.ENUM) ||
		!resp.ReadASN1(&rb, cbasn1.Tag(0).Constructed().ContextSpecific()) || !rb.ReadASN1(&rb, cbasn1.SEQUENCE) ||
		!rb.ReadASN1ObjectIdentifier(&oid) || !rb.ReadASN1(&octets, cbasn1.OCTET_STRING) ||
		!octets.ReadASN1(&basic, cbasn1.SEQUENCE) || !basic.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!basic.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !basic.ReadASN1Element(&sig, cbasn1.BIT_STRING) {
		t.Fatalf("cannot read the answer %x", der)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.ENUM, func(b *cryptobyte.Builder) { b.AddBytes(status) })
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oid)
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddBytes(tbs)
						b.AddBytes(alg)
						b.AddBytes(sig)
						if len(list) > 0 {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									for _, c := range list {
										b.AddBytes(c.Raw)
									}
								})
							})
						}
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// Made recognises answers signed in a signer's form: the same kind of
// ResponderID; for the CA exactly its own ResponderID and certificate;
// for a delegated responder byName the same name, byKey any key but the
// CA's, and a certificate that is not the CA's. Rotating a delegated
// responder keeps the form; anything else changes it, and so does an
// answer stored without its signer's certificate.
func TestSigner_Made(t *testing.T) {
	m := newMadeSigners(t)
	all := map[string]*ocspsign.Signer{"caKey": m.caKey, "caName": m.caName, "d1Key": m.d1Key, "d1bKey": m.d1bKey, "d2Key": m.d2Key,
		"d1Name": m.d1Name, "d1bName": m.d1bName, "d2Name": m.d2Name, "caNamedResponder": m.caNamedResponder}
	for name, s := range all {
		for _, nonce := range []bool{false, true} {
			if der := answerOf(t, s, nonce); !s.Made(der) {
				t.Errorf("%s: its own answer (extensions: %v) is not Made", name, nonce)
			}
		}
	}
	cases := []struct {
		name          string
		maker, reader *ocspsign.Signer
		want          bool
	}{
		{"rotated/byKey, same name", m.d1Key, m.d1bKey, true},
		{"rotated/byKey, back", m.d1bKey, m.d1Key, true},
		{"rotated/byKey, new name", m.d1Key, m.d2Key, true},
		{"rotated/byName, same name", m.d1Name, m.d1bName, true},
		{"rotated/byName, back", m.d1bName, m.d1Name, true},
		{"form/delegated byKey read as byName", m.d1Key, m.d1Name, false},
		{"form/delegated byName read as byKey", m.d1Name, m.d1Key, false},
		{"form/CA byKey read as byName", m.caKey, m.caName, false},
		{"form/CA byName read as byKey", m.caName, m.caKey, false},
		{"signer/CA-signed read by a delegated responder (byKey)", m.caKey, m.d1Key, false},
		{"signer/delegated read by the CA (byKey)", m.d1Key, m.caKey, false},
		{"signer/CA-signed read by a responder with the CA's name", m.caName, m.caNamedResponder, false},
		{"signer/responder with the CA's name read by the CA", m.caNamedResponder, m.caName, false},
		{"signer/CA-signed byName read by a delegated byName", m.caName, m.d1Name, false},
		{"name/another responder's name", m.d1Name, m.d2Name, false},
		{"name/back", m.d2Name, m.d1Name, false},
		{"name/the CA's name read by a responder", m.caNamedResponder, m.d1Name, false},
	}
	for _, c := range cases {
		for _, nonce := range []bool{false, true} {
			if got := c.reader.Made(answerOf(t, c.maker, nonce)); got != c.want {
				t.Errorf("%s (extensions: %v): Made = %v, want %v", c.name, nonce, got, c.want)
			}
		}
	}
	ca, r1 := m.caKey.Cert, m.d1Key.SignerCert
	certsCases := []struct {
		name   string
		signer *ocspsign.Signer
		list   []*x509.Certificate
		want   bool
	}{
		{"certs/CA byKey, none (stored before the CA's certificate was included)", m.caKey, nil, false},
		{"certs/CA byName, none", m.caName, nil, false},
		{"certs/CA byKey, a responder's", m.caKey, []*x509.Certificate{r1}, false},
		{"certs/CA byKey, the CA's and another", m.caKey, []*x509.Certificate{ca, r1}, false},
		{"certs/CA byKey, the CA's", m.caKey, []*x509.Certificate{ca}, true},
		{"certs/delegated byKey, none", m.d1Key, nil, false},
		{"certs/delegated byName, none", m.d1Name, nil, false},
		{"certs/delegated byKey, the CA's", m.d1Key, []*x509.Certificate{ca}, false},
		{"certs/delegated byName, the CA's", m.d1Name, []*x509.Certificate{ca}, false},
		{"certs/delegated byKey, the responder's", m.d1Key, []*x509.Certificate{r1}, true},
		{"certs/delegated byKey, the responder's and the CA's", m.d1Key, []*x509.Certificate{r1, ca}, true},
	}
	for _, c := range certsCases {
		for _, nonce := range []bool{false, true} {
			der := withCerts(t, answerOf(t, c.signer, nonce), c.list...)
			if _, err := ocsp.ParseResponse(der, nil); err != nil && c.want && !nonce {
				t.Fatalf("%s: the rewritten answer does not parse: %v", c.name, err)
			}
			if got := c.signer.Made(der); got != c.want {
				t.Errorf("%s (extensions: %v): Made = %v, want %v", c.name, nonce, got, c.want)
			}
		}
	}
}

// Made is false for anything that is not a successful answer: the error
// responses, every truncation of a good answer, and garbage; and it never
// panics on a corrupted one.
func TestSigner_Made_NotAnAnswer(t *testing.T) {
	m := newMadeSigners(t)
	signers := []*ocspsign.Signer{m.caKey, m.caName, m.d1Key, m.d1Name}
	errs := map[string][]byte{
		"malformedRequest": ocsp.MalformedRequestErrorResponse, "internalError": ocsp.InternalErrorErrorResponse,
		"tryLater": ocsp.TryLaterErrorResponse, "sigRequired": ocsp.SigRequredErrorResponse, "unauthorized": ocsp.UnauthorizedErrorResponse,
		"nil": nil, "empty": {}, "empty SEQUENCE": {0x30, 0x00}, "successful without bytes": {0x30, 0x03, 0x0a, 0x01, 0x00},
		"INTEGER status": {0x30, 0x03, 0x02, 0x01, 0x00}, "not a SEQUENCE": {0x04, 0x01, 0x00},
	}
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range 200 {
		g := make([]byte, rng.IntN(300))
		for j := range g {
			g[j] = byte(rng.Uint32())
		}
		if i%2 == 0 && len(g) > 2 {
			g[0], g[1] = 0x30, byte(len(g)-2) // a SEQUENCE of garbage
		}
		errs[fmt.Sprintf("garbage %d", i)] = g
	}
	for _, s := range signers {
		for name, der := range errs {
			if s.Made(der) {
				t.Errorf("%s: Made", name)
			}
		}
		good := answerOf(t, s, false)
		// A response with its status changed from successful (0) to
		// tryLater (3), response bytes kept.
		status := bytes.Clone(good)
		at := bytes.Index(status, []byte{0x0a, 0x01, 0x00})
		if at < 0 || at > 4 {
			t.Fatalf("no responseStatus at the start of %x", good[:8])
		}
		status[at+2] = 3
		if s.Made(status) {
			t.Error("a tryLater with response bytes: Made")
		}
		for n := range len(good) {
			if s.Made(good[:n]) {
				t.Errorf("the answer cut to %d of %d bytes: Made", n, len(good))
			}
		}
		for i := range good {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(good)
				bad[i] ^= x
				s.Made(bad) // must not panic
			}
		}
	}
}

// Made reads element headers only: it allocates nothing, on the path
// every pre-signed answer takes.
func TestSigner_Made_Allocations(t *testing.T) {
	m := newMadeSigners(t)
	for _, c := range []struct {
		name   string
		reader *ocspsign.Signer
		der    []byte
	}{
		{"made", m.d1Key, answerOf(t, m.d1Key, false)},
		{"made/byName", m.d1Name, answerOf(t, m.d1Name, true)},
		{"made/CA", m.caKey, answerOf(t, m.caKey, false)},
		{"CA's answer read by a delegated responder", m.d1Key, answerOf(t, m.caKey, false)},
		{"other form", m.d1Name, answerOf(t, m.d1Key, false)},
		{"error response", m.d1Key, ocsp.InternalErrorErrorResponse},
	} {
		if n := testing.AllocsPerRun(500, func() { c.reader.Made(c.der) }); n != 0 {
			t.Errorf("%s: %v allocations per Made", c.name, n)
		}
	}
}

// BenchmarkMade is the cost Made adds to every pre-signed answer served.
func BenchmarkMade(b *testing.B) {
	m := newMadeSigners(b)
	der := answerOf(b, m.d1Key, false)
	for b.Loop() {
		if !m.d1Key.Made(der) {
			b.Fatal("not made")
		}
	}
}

// With OmitCACert a CA signs without its certificate (for x/crypto/ocsp
// clients), and the two forms are told apart both ways; a delegated
// responder's certificate is included regardless.
func TestSigner_OmitCACert(t *testing.T) {
	caKey := key(t, keyKinds[0], "omit ca")
	ca := newCA(t, "Omit CA", caKey, time.Now().Add(365*24*time.Hour))
	with := mustSigner(t, caIssuer(ca, caKey), ocspsign.Policy{})
	without := mustSigner(t, caIssuer(ca, caKey), ocspsign.Policy{OmitCACert: true})
	derWith, derWithout := answerOf(t, with, false), answerOf(t, without, false)
	if len(derWithout) >= len(derWith) {
		t.Errorf("omitted answer %d bytes, included %d", len(derWithout), len(derWith))
	}
	if r, err := ocsp.ParseResponse(derWithout, ca); err != nil || r.Certificate != nil {
		t.Errorf("x/crypto on the answer without the CA certificate: %v", err)
	}
	if !without.Made(derWithout) || !with.Made(derWith) || without.Made(derWith) || with.Made(derWithout) {
		t.Error("Made does not tell the two CA-signed forms apart")
	}
	// A delegated responder's certificate stays, whatever the policy.
	rKey := key(t, keyKinds[0], "omit responder")
	r := newResponder(t, ca, caKey, "Omit Responder", rKey, time.Now().Add(30*24*time.Hour))
	d := mustSigner(t, delegatedIssuer(ca, r, rKey), ocspsign.Policy{OmitCACert: true})
	if resp, err := ocsp.ParseResponse(answerOf(t, d, false), ca); err != nil || resp.Certificate == nil || !resp.Certificate.Equal(r) {
		t.Errorf("delegated answer under OmitCACert: %v (responder certificate included: %v)", err, resp != nil && resp.Certificate != nil)
	}
}
