package ocspsign_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

var (
	oidNonce          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidExtendedRevoke = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 9}
)

// form is one way a CA's answers are signed.
type form struct {
	name      string
	delegated bool // by a delegated responder (else the CA's own key)
	byName    bool // ResponderID byName (else byKey)
}

var forms = []form{
	{"ca/byKey", false, false},
	{"ca/byName", false, true},
	{"delegated/byKey", true, false},
	{"delegated/byName", true, true},
}

// signer prepares p's CA for signing in form f, and returns the
// certificate whose key signs and its key.
func (p pki) signer(t testing.TB, f form) (*ocspsign.Signer, *x509.Certificate, crypto.Signer) {
	t.Helper()
	if f.delegated {
		return mustSigner(t, p.delegated, ocspsign.Policy{ByName: f.byName}), p.resp, p.respKey
	}
	return mustSigner(t, p.caSigned, ocspsign.Policy{ByName: f.byName}), p.ca, p.caKey
}

// xStatus is x/crypto's status integer for s.
func xStatus(s certs.Status) int {
	switch s {
	case certs.Good:
		return ocsp.Good
	case certs.Revoked:
		return ocsp.Revoked
	}
	return ocsp.Unknown
}

// whole is t as a GeneralizedTime carries it.
func whole(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// rawCertID encodes a CertID by hand, with or without NULL hash
// parameters, to check that a CertID is echoed exactly as given.
func rawCertID(t testing.TB, s *ocspsign.Signer, oid asn1.ObjectIdentifier, h crypto.Hash, serial *big.Int, null bool) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if null {
				b.AddASN1NULL()
			}
		})
		b.AddASN1OctetString(s.NameHash(h))
		b.AddASN1OctetString(s.KeyHash(h))
		b.AddASN1BigInt(serial)
	})
	return b.BytesOrPanic()
}

// singlesFor returns one SingleResponse of each kind for s, at now: good
// (SHA-1), revoked for keyCompromise (SHA-256), revoked unspecified
// (SHA-384), unknown (SHA-512) and on hold with a CertID without NULL
// parameters, with the serial of each.
func singlesFor(t testing.TB, s *ocspsign.Signer, now time.Time) ([]ocspsign.Single, []*big.Int) {
	t.Helper()
	this, next := s.Window(now)
	revokedAt := now.Add(-36*time.Hour - 123*time.Millisecond)
	var serials []*big.Int
	id := func(h crypto.Hash) []byte {
		n := randSerial(t)
		serials = append(serials, n)
		der, err := s.CertID(h, n)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	singles := []ocspsign.Single{
		{CertID: id(crypto.SHA1), Status: certs.Good, ThisUpdate: this, NextUpdate: next},
		{CertID: id(crypto.SHA256), Status: certs.Revoked, RevokedAt: revokedAt, Reason: certs.KeyCompromise, ThisUpdate: this, NextUpdate: next},
		{CertID: id(crypto.SHA384), Status: certs.Revoked, RevokedAt: revokedAt, Reason: certs.Unspecified, ThisUpdate: this, NextUpdate: next},
		{CertID: id(crypto.SHA512), Status: certs.Unknown, ThisUpdate: this, NextUpdate: next},
	}
	n := randSerial(t)
	serials = append(serials, n)
	singles = append(singles, ocspsign.Single{CertID: rawCertID(t, s, asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1, n, false),
		Status: certs.Revoked, RevokedAt: revokedAt, Reason: certs.CertificateHold, ThisUpdate: this, NextUpdate: next})
	return singles, serials
}

// singleHashes are the CertID hashes of singlesFor's answers.
var singleHashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA1}

// checkRFC checks der, signed by signerCert in form f, field by field as
// encoding/asn1 reads it: what x/crypto/ocsp reads, and the
// responseExtensions, exact CertIDs and absent reasons it does not.
func checkRFC(t *testing.T, k keyKind, f form, signerCert *x509.Certificate, der []byte, singles []ocspsign.Single, producedAt time.Time, nonce []byte, ext bool) {
	t.Helper()
	p := parseRFC(t, der)
	if p.data.Version != 0 {
		t.Errorf("version %d", p.data.Version)
	}
	rid := p.data.ResponderID
	if f.byName {
		if rid.Class != asn1.ClassContextSpecific || rid.Tag != 1 || !rid.IsCompound || !bytes.Equal(rid.Bytes, signerCert.RawSubject) {
			t.Errorf("ResponderID %x, want byName %x", rid.FullBytes, signerCert.RawSubject)
		}
	} else {
		var kh []byte
		if rid.Class != asn1.ClassContextSpecific || rid.Tag != 2 || !rid.IsCompound {
			t.Errorf("ResponderID %x, want byKey", rid.FullBytes)
		} else if rest, err := asn1.Unmarshal(rid.Bytes, &kh); err != nil || len(rest) > 0 || !bytes.Equal(kh, sha1Of(spkiBits(t, signerCert))) {
			t.Errorf("ResponderID byKey %x (%v), want SHA-1 of the signer's key %x", kh, err, sha1Of(spkiBits(t, signerCert)))
		}
	}
	if !p.data.ProducedAt.Equal(whole(producedAt)) {
		t.Errorf("producedAt %v, want %v", p.data.ProducedAt, whole(producedAt))
	}
	// GeneralizedTime in UTC ("Z"): encoding/asn1 reads an offset as
	// another location.
	times := []time.Time{p.data.ProducedAt}
	for _, r := range p.data.Responses {
		times = append(times, r.ThisUpdate, r.NextUpdate)
		if !r.Revoked.RevocationTime.IsZero() {
			times = append(times, r.Revoked.RevocationTime)
		}
	}
	for _, tm := range times {
		if tm.Location() != time.UTC {
			t.Errorf("time %v is not written in UTC", tm)
		}
	}
	if len(p.data.Responses) != len(singles) {
		t.Fatalf("%d SingleResponses, want %d", len(p.data.Responses), len(singles))
	}
	for i, sg := range singles {
		got := p.data.Responses[i]
		if !bytes.Equal(got.CertID.FullBytes, sg.CertID) {
			t.Errorf("single %d: CertID %x, want %x echoed", i, got.CertID.FullBytes, sg.CertID)
		}
		switch sg.Status {
		case certs.Good:
			if !bool(got.Good) || bool(got.Unknown) || !got.Revoked.RevocationTime.IsZero() {
				t.Errorf("single %d: not good: %+v", i, got)
			}
		case certs.Unknown:
			if !bool(got.Unknown) || bool(got.Good) || !got.Revoked.RevocationTime.IsZero() {
				t.Errorf("single %d: not unknown: %+v", i, got)
			}
		case certs.Revoked:
			if bool(got.Good) || bool(got.Unknown) || !got.Revoked.RevocationTime.Equal(whole(sg.RevokedAt)) {
				t.Errorf("single %d: revoked %+v, want at %v", i, got, whole(sg.RevokedAt))
			}
			want := asn1.Enumerated(sg.Reason)
			if sg.Reason == certs.Unspecified {
				want = -1 // omitted (RFC 5280 §5.3.1)
			}
			if got.Revoked.Reason != want {
				t.Errorf("single %d: reason %d, want %d (-1: absent)", i, got.Revoked.Reason, want)
			}
		}
		if !got.ThisUpdate.Equal(whole(sg.ThisUpdate)) || !got.NextUpdate.Equal(whole(sg.NextUpdate)) {
			t.Errorf("single %d: %v..%v, want %v..%v", i, got.ThisUpdate, got.NextUpdate, whole(sg.ThisUpdate), whole(sg.NextUpdate))
		}
		if got.Extensions != nil {
			t.Errorf("single %d: singleExtensions %v", i, got.Extensions)
		}
	}
	var wantExt []pkix.Extension
	if nonce != nil {
		v, _ := asn1.Marshal(nonce) // extnValue holds the nonce OCTET STRING (RFC 9654 §2.1)
		wantExt = append(wantExt, pkix.Extension{Id: oidNonce, Value: v})
	}
	if ext {
		wantExt = append(wantExt, pkix.Extension{Id: oidExtendedRevoke, Value: []byte{5, 0}})
	}
	if len(p.data.Extensions) != len(wantExt) {
		t.Errorf("responseExtensions %+v, want %+v", p.data.Extensions, wantExt)
	} else {
		for i, e := range wantExt {
			g := p.data.Extensions[i]
			if !g.Id.Equal(e.Id) || g.Critical || !bytes.Equal(g.Value, e.Value) {
				t.Errorf("responseExtension %d: %+v, want %+v", i, g, e)
			}
		}
	}
	if !p.basic.SigAlg.Algorithm.Equal(k.oid) {
		t.Errorf("signatureAlgorithm %v, want %v", p.basic.SigAlg.Algorithm, k.oid)
	}
	if params := p.basic.SigAlg.Parameters.FullBytes; k.null != bytes.Equal(params, []byte{5, 0}) || !k.null && len(params) > 0 {
		t.Errorf("signatureAlgorithm parameters %x (NULL wanted: %v)", params, k.null)
	}
	if err := signerCert.CheckSignature(k.sigAlg, p.basic.TBS.FullBytes, p.basic.Signature.RightAlign()); err != nil {
		t.Errorf("signature does not verify with the signer's certificate: %v", err)
	}
	if len(p.basic.Certificates) != 1 || !bytes.Equal(p.basic.Certificates[0].FullBytes, signerCert.Raw) {
		t.Errorf("certs %d, want the signer's certificate (delegated: %v)", len(p.basic.Certificates), f.delegated)
	}
}

// checkXCrypto checks der with x/crypto/ocsp's parser and verifier: every
// single, found by its serial. x/crypto/ocsp cannot verify Ed25519
// signatures (its signature table has no Ed25519), and every answer
// embeds its signer's certificate, whose signature on the answer it checks
// even without an issuer: for Ed25519 it is not asked, and checkRFC
// verifies those signatures with crypto/x509.
func checkXCrypto(t *testing.T, p pki, f form, signerCert *x509.Certificate, der []byte, singles []ocspsign.Single, serials []*big.Int, hashes []crypto.Hash, producedAt time.Time) {
	t.Helper()
	if p.kind.sigAlg == x509.PureEd25519 {
		return
	}
	issuer := p.ca
	for i, sg := range singles {
		r, err := ocsp.ParseResponseForCert(der, &x509.Certificate{SerialNumber: serials[i]}, issuer)
		if err != nil {
			t.Errorf("single %d: x/crypto: %v", i, err)
			continue
		}
		if r.Status != xStatus(sg.Status) || r.SerialNumber.Cmp(serials[i]) != 0 || r.IssuerHash != hashes[i] {
			t.Errorf("single %d: x/crypto read status %d serial %v hash %v, want %d %v %v", i, r.Status, r.SerialNumber, r.IssuerHash, xStatus(sg.Status), serials[i], hashes[i])
		}
		if sg.Status == certs.Revoked && (!r.RevokedAt.Equal(whole(sg.RevokedAt)) || r.RevocationReason != int(sg.Reason)) {
			t.Errorf("single %d: x/crypto read revoked at %v for %d, want %v for %d", i, r.RevokedAt, r.RevocationReason, whole(sg.RevokedAt), sg.Reason)
		}
		if !r.ThisUpdate.Equal(whole(sg.ThisUpdate)) || !r.NextUpdate.Equal(whole(sg.NextUpdate)) || !r.ProducedAt.Equal(whole(producedAt)) {
			t.Errorf("single %d: x/crypto read %v..%v produced %v", i, r.ThisUpdate, r.NextUpdate, r.ProducedAt)
		}
		if f.byName {
			if !bytes.Equal(r.RawResponderName, signerCert.RawSubject) || r.ResponderKeyHash != nil {
				t.Errorf("x/crypto read responder name %x key hash %x, want name %x", r.RawResponderName, r.ResponderKeyHash, signerCert.RawSubject)
			}
		} else if !bytes.Equal(r.ResponderKeyHash, sha1Of(spkiBits(t, signerCert))) || r.RawResponderName != nil {
			t.Errorf("x/crypto read responder key hash %x name %x", r.ResponderKeyHash, r.RawResponderName)
		}
		if r.Certificate == nil || !bytes.Equal(r.Certificate.Raw, signerCert.Raw) {
			t.Errorf("x/crypto read embedded certificate %v, want the signer's (delegated: %v)", r.Certificate != nil, f.delegated)
		}
		if r.SignatureAlgorithm != p.kind.sigAlg {
			t.Errorf("x/crypto read signature algorithm %v, want %v", r.SignatureAlgorithm, p.kind.sigAlg)
		}
		// x/crypto's Extensions are the singleExtensions: none here (the
		// nonce and extended-revoke are responseExtensions: checkRFC).
		if len(r.Extensions) != 0 {
			t.Errorf("x/crypto read single extensions %v", r.Extensions)
		}
	}
}

// Every answer Sign produces parses and verifies with x/crypto/ocsp and
// says, field by field, what it was asked to: for every key type, form,
// status, CertID hash, and with and without the nonce and the
// extended-revoke extension.
func TestSign_XCrypto(t *testing.T) {
	for _, k := range keyKinds {
		p := newPKI(t, k)
		for _, f := range forms {
			s, signerCert, _ := p.signer(t, f)
			for _, ext := range []struct {
				name  string
				nonce []byte
				ext   bool
			}{{"plain", nil, false}, {"nonce", randBytes(t, 32), false}, {"extendedRevoke", nil, true}, {"nonce+extendedRevoke", randBytes(t, 1), true}} {
				t.Run(k.name+"/"+f.name+"/"+ext.name, func(t *testing.T) {
					now := time.Now().In(time.FixedZone("UTC+5:30", 5*3600+1800)).Add(17 * time.Millisecond)
					singles, serials := singlesFor(t, s, now)
					der, err := s.Sign(singles, now, ext.nonce, ext.ext)
					if err != nil {
						t.Fatal(err)
					}
					checkRFC(t, k, f, signerCert, der, singles, now, ext.nonce, ext.ext)
					checkXCrypto(t, p, f, signerCert, der, singles, serials, singleHashes, now)
				})
			}
		}
	}
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// twin signs one answer both ways, with the same producedAt: with s, and
// with x/crypto's ocsp.CreateResponse (which signs byName only, dates
// producedAt to the minute, and knows no Ed25519). It retries when the
// minute turns between the two.
func twin(t *testing.T, sign func(producedAt time.Time) ([]byte, ocsp.Response), responderCert *x509.Certificate, issuer *x509.Certificate, key crypto.Signer) (ours, theirs []byte) {
	t.Helper()
	for range 3 {
		produced := time.Now().UTC().Truncate(time.Minute)
		var tmpl ocsp.Response
		ours, tmpl = sign(produced)
		var err error
		if theirs, err = ocsp.CreateResponse(issuer, responderCert, tmpl, key); err != nil {
			t.Fatal(err)
		}
		if time.Now().UTC().Truncate(time.Minute).Equal(produced) {
			return ours, theirs
		}
	}
	t.Fatal("the minute kept turning")
	return nil, nil
}

// sameAsXCrypto compares ours with x/crypto's answer: the signed data,
// the signature algorithm and the certificates exactly, and the whole DER
// for RSA, whose PKCS #1 v1.5 signatures are deterministic.
func sameAsXCrypto(t *testing.T, k keyKind, ours, theirs []byte) {
	t.Helper()
	o, x := parseRFC(t, ours), parseRFC(t, theirs)
	if !bytes.Equal(o.basic.TBS.FullBytes, x.basic.TBS.FullBytes) {
		t.Errorf("ResponseData differs from x/crypto's:\n ours   %x\n theirs %x", o.basic.TBS.FullBytes, x.basic.TBS.FullBytes)
	}
	oa, _ := asn1.Marshal(o.basic.SigAlg)
	xa, _ := asn1.Marshal(x.basic.SigAlg)
	if !bytes.Equal(oa, xa) {
		t.Errorf("signatureAlgorithm %x, x/crypto's %x", oa, xa)
	}
	if len(o.basic.Certificates) != len(x.basic.Certificates) || len(o.basic.Certificates) == 1 && !bytes.Equal(o.basic.Certificates[0].FullBytes, x.basic.Certificates[0].FullBytes) {
		t.Errorf("certs differ from x/crypto's")
	}
	if k.null && !bytes.Equal(ours, theirs) {
		t.Errorf("RSA answer differs from x/crypto's:\n ours   %x\n theirs %x", ours, theirs)
	}
}

// In the form x/crypto can sign (byName, ECDSA or RSA), Sign writes the
// bytes ocsp.CreateResponse writes for the same answer: every status,
// the revocation reason omitted when unspecified, every CertID hash, with
// and without a delegated responder.
func TestSign_SameBytesAsXCrypto(t *testing.T) {
	for _, k := range keyKinds[:3] { // x/crypto signs no Ed25519
		p := newPKI(t, k)
		for _, f := range []form{forms[1], forms[3]} {
			s, signerCert, signerKey := p.signer(t, f)
			now := time.Now()
			singles, serials := singlesFor(t, s, now)
			for i, sg := range singles[:4] { // the fifth has a CertID x/crypto cannot write
				t.Run(k.name+"/"+f.name+"/"+sg.Status.String()+"/"+singleHashes[i].String(), func(t *testing.T) {
					tmpl := ocsp.Response{Status: xStatus(sg.Status), SerialNumber: serials[i], ThisUpdate: sg.ThisUpdate, NextUpdate: sg.NextUpdate,
						RevokedAt: whole(sg.RevokedAt), RevocationReason: int(sg.Reason), IssuerHash: singleHashes[i]}
					tmpl.Certificate = signerCert
					ours, theirs := twin(t, func(produced time.Time) ([]byte, ocsp.Response) {
						der, err := s.Sign([]ocspsign.Single{sg}, produced, nil, false)
						if err != nil {
							t.Fatal(err)
						}
						return der, tmpl
					}, signerCert, p.ca, signerKey)
					sameAsXCrypto(t, k, ours, theirs)
				})
			}
		}
	}
}
