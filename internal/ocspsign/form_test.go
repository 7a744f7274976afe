package ocspsign_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

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

// Made recognises answers signed in a signer's form: the same kind of
// ResponderID (byName with the same name) and a responder certificate
// exactly when the signer has one. Rotating a delegated responder keeps
// the form; anything else changes it.
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
