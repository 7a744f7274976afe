package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/responder"
)

func TestRespond_Statuses(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, goodCert := w.issue("good")
	rev, revCert := w.issue("revoked")
	unspec, unspecCert := w.issue("unspecified")
	ctx := context.Background()
	if _, err := w.auth.Revoke(ctx, rev.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.auth.Revoke(ctx, unspec.Identifier, certs.Unspecified, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		for _, tc := range []struct {
			name   string
			cert   *x509.Certificate
			status int
			reason int
		}{
			{"good", goodCert, ocsp.Good, 0},
			{"revoked/keyCompromise", revCert, ocsp.Revoked, ocsp.KeyCompromise},
			{"revoked/unspecified", unspecCert, ocsp.Revoked, ocsp.Unspecified},
		} {
			t.Run(h.String()+"/"+tc.name, func(t *testing.T) {
				req := request(t, tc.cert, w.subCert, h)
				der, hr := w.post(req)
				if hr.Header.Get("Content-Type") != "application/ocsp-response" {
					t.Errorf("content type %q", hr.Header.Get("Content-Type"))
				}
				r, err := ocsp.ParseResponseForCert(der, tc.cert, w.subCert)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != tc.status || (tc.status == ocsp.Revoked && r.RevocationReason != tc.reason) || r.IssuerHash != h {
					t.Errorf("status %d reason %d hash %v, want %d %d %v", r.Status, r.RevocationReason, r.IssuerHash, tc.status, tc.reason, h)
				}
				if got := r.NextUpdate.Sub(r.ThisUpdate); got != 24*time.Hour {
					t.Errorf("validity %v, want 24h", got)
				}
				if r.Certificate == nil || len(r.Certificate.ExtKeyUsage) != 1 || r.Certificate.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning {
					t.Errorf("no delegated responder certificate in the response")
				}
				if len(r.ResponderKeyHash) != sha1.Size {
					t.Errorf("ResponderID is not byKey")
				}
				parsed, _ := responder.ParseRequest(req)
				if !bytes.Contains(der, parsed.CertIDs[0].Raw) {
					t.Error("the CertID is not echoed exactly")
				}
				// revocationReason [0] EXPLICIT ENUMERATED 0 must not appear.
				if tc.name == "revoked/unspecified" && bytes.Contains(der, []byte{0xa0, 0x03, 0x0a, 0x01, 0x00}) {
					t.Error("an unspecified reason is encoded; RFC 5280 says omit it")
				}
			})
		}
	}
}

func TestRespond_UnknownUnauthorizedMalformed(t *testing.T) {
	w := newWorld(t, responder.Options{})
	// A serial our issuer never issued: unknown, never good.
	der, _ := w.post(buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(0x1234), false, false)}, nil))
	r, err := ocsp.ParseResponse(der, w.subCert)
	if err != nil || r.Status != ocsp.Unknown {
		t.Fatalf("unknown serial: %v %v", r, err)
	}
	// An issuer we do not serve.
	other, _ := x509.ParseCertificate(w.rootCert.Raw)
	other.RawSubject = []byte{0x30, 0x00}
	der, _ = w.post(buildRequest([][]byte{certID(other, crypto.SHA1, big.NewInt(1), false, false)}, nil))
	var re ocsp.ResponseError
	if _, err := ocsp.ParseResponse(der, nil); !errors.As(err, &re) || re.Status != ocsp.Unauthorized {
		t.Fatalf("foreign issuer: %v", err)
	}
	for name, body := range map[string][]byte{
		"garbage":     []byte("not DER"),
		"empty":       {},
		"nonce 0":     buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(1), false, false)}, []byte{}),
		"nonce 129":   buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(1), false, false)}, make([]byte, 129)),
		"over 10 KiB": append(buildRequest([][]byte{certID(w.subCert, crypto.SHA1, big.NewInt(1), false, false)}, nil), make([]byte, 11<<10)...),
	} {
		t.Run("malformed/"+name, func(t *testing.T) {
			der, hr := w.post(body)
			if _, err := ocsp.ParseResponse(der, nil); !errors.As(err, &re) || re.Status != ocsp.Malformed {
				t.Fatalf("got %v, want malformedRequest", err)
			}
			if hr.StatusCode != 200 || hr.Header.Get("Cache-Control") != "" {
				t.Errorf("HTTP %d Cache-Control %q; want 200 and no cache headers", hr.StatusCode, hr.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestRespond_NonceAndSeveralCertIDs(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, a := w.issue("a")
	rb, b := w.issue("b")
	w.auth.Revoke(context.Background(), rb.Identifier, certs.Superseded, time.Time{})
	for _, n := range []int{1, 16, 32, 128} {
		nonce := bytes.Repeat([]byte{byte(n)}, n)
		der, _ := w.post(buildRequest([][]byte{certID(w.subCert, crypto.SHA256, a.SerialNumber, false, false)}, nonce))
		if got := responseNonce(t, der); !bytes.Equal(got, nonce) {
			t.Errorf("nonce of %d octets echoed as %x", n, got)
		}
		if _, err := ocsp.ParseResponseForCert(der, a, w.subCert); err != nil {
			t.Errorf("nonce response: %v", err)
		}
	}
	// Two CertIDs, one response, one SingleResponse each.
	der, _ := w.post(buildRequest([][]byte{
		certID(w.subCert, crypto.SHA1, a.SerialNumber, false, false),
		certID(w.subCert, crypto.SHA256, b.SerialNumber, false, false),
	}, []byte("0123456789abcdef")))
	ra, errA := ocsp.ParseResponseForCert(der, a, w.subCert)
	rbResp, errB := ocsp.ParseResponseForCert(der, b, w.subCert)
	if errA != nil || errB != nil || ra.Status != ocsp.Good || rbResp.Status != ocsp.Revoked || rbResp.RevocationReason != ocsp.Superseded {
		t.Fatalf("multi: %v %v %v %v", ra, errA, rbResp, errB)
	}
}

func TestRespond_CryptoAPIEmptyKeyHash(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, c := w.issue("windows")
	for _, noParams := range []bool{false, true} {
		req := buildRequest([][]byte{certID(w.subCert, crypto.SHA1, c.SerialNumber, noParams, true)}, nil)
		der, _ := w.post(req)
		r, err := ocsp.ParseResponse(der, w.subCert)
		if err != nil || r.Status != ocsp.Good || r.SerialNumber.Cmp(c.SerialNumber) != 0 {
			t.Fatalf("empty issuerKeyHash (noParams=%v): %v %v", noParams, r, err)
		}
		parsed, _ := responder.ParseRequest(req)
		if !bytes.Contains(der, parsed.CertIDs[0].Raw) {
			t.Error("the CryptoAPI CertID is not echoed exactly")
		}
	}
}

func TestRespond_TwoIssuersSameSerialSpace(t *testing.T) {
	w := newWorld(t, responder.Options{})
	ctx := context.Background()
	sub2, err := w.auth.CreateSub(ctx, certs.SubRequest{Parent: w.root.Identifier, Subject: certs.Subject{CommonName: "Second Issuing", Organization: "certstatus", Country: "US"}, Algorithm: certs.RSA2048, Validity: certs.Validity{Years: 1}})
	if err != nil {
		t.Fatal(err)
	}
	sub2Cert, _ := sub2.Certificate()
	out, err := w.auth.Issue(ctx, certs.IssueRequest{Issuer: sub2.Identifier, Kind: certs.KindServer, Subject: certs.Subject{CommonName: "s.example.com"}, Validity: certs.Validity{Days: 5}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(out.Record.DER)
	// The new CA is answered at once (the responder reloads its issuers).
	der, _ := w.post(request(t, leaf, sub2Cert, crypto.SHA1))
	if r, err := ocsp.ParseResponseForCert(der, leaf, sub2Cert); err != nil || r.Status != ocsp.Good {
		t.Fatalf("second issuer: %v %v", r, err)
	}
	// The same serial asked of the first issuer is not its certificate.
	der, _ = w.post(buildRequest([][]byte{certID(w.subCert, crypto.SHA1, leaf.SerialNumber, false, false)}, nil))
	if r, err := ocsp.ParseResponse(der, w.subCert); err != nil || r.Status != ocsp.Unknown {
		t.Errorf("cross-issuer serial: %v %v, want unknown", r, err)
	}
	// The root answers for its sub CAs.
	der, _ = w.post(request(t, sub2Cert, w.rootCert, crypto.SHA256))
	if r, err := ocsp.ParseResponseForCert(der, sub2Cert, w.rootCert); err != nil || r.Status != ocsp.Good {
		t.Errorf("root about sub CA: %v %v", r, err)
	}
	w.auth.RevokeCA(ctx, sub2.Identifier, certs.CACompromise, time.Time{})
	der, _ = w.post(request(t, sub2Cert, w.rootCert, crypto.SHA256))
	if r, err := ocsp.ParseResponseForCert(der, sub2Cert, w.rootCert); err != nil || r.Status != ocsp.Revoked {
		t.Errorf("root about revoked sub CA: %v %v", r, err)
	}
}

// TestRespond_ForeignCertIDsLeftOut: a request mixing our CertIDs with one
// of an issuer we do not serve gets answers for ours only; nothing is
// signed about the other issuer's serial.
func TestRespond_ForeignCertIDsLeftOut(t *testing.T) {
	w := newWorld(t, responder.Options{})
	_, c := w.issue("mixed")
	other, _ := x509.ParseCertificate(w.rootCert.Raw)
	other.RawSubject = []byte{0x30, 0x03, 0x31, 0x01, 0x30} // another name
	foreign := certID(other, crypto.SHA1, c.SerialNumber, false, false)
	der, _ := w.post(buildRequest([][]byte{foreign, certID(w.subCert, crypto.SHA1, c.SerialNumber, false, false)}, nil))
	r, err := ocsp.ParseResponseForCert(der, c, w.subCert)
	if err != nil || r.Status != ocsp.Good {
		t.Fatalf("our CertID: %v %v", r, err)
	}
	if bytes.Contains(der, foreign) {
		t.Error("the response answers a CertID of an issuer we do not serve")
	}
}

// TestRespond_RecertifiedCASharesCertIDs: two CA records with the same
// name and key (a CA certificate renewed with its key, then imported) give
// identical CertIDs; each serial is answered from the record that issued it.
func TestRespond_RecertifiedCASharesCertIDs(t *testing.T) {
	w := newWorld(t, responder.Options{})
	ctx := context.Background()
	rootKey, err := w.auth.CASigner(ctx, w.root.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	subKey, err := w.auth.CASigner(ctx, w.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	// Re-certify the sub CA's name and key with a new serial and validity.
	tmpl := *w.subCert
	tmpl.SerialNumber = big.NewInt(0x5eed)
	tmpl.NotBefore = w.subCert.NotBefore.Add(time.Minute)
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, w.rootCert, subKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	twin, created, err := w.auth.ImportCA(ctx, der, subKey)
	if err != nil || !created {
		t.Fatalf("import twin: %v %v", created, err)
	}
	out, err := w.auth.Issue(ctx, certs.IssueRequest{Issuer: twin.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "twin leaf"}, Validity: certs.Validity{Days: 2}})
	if err != nil {
		t.Fatal(err)
	}
	twinLeaf, _ := x509.ParseCertificate(out.Record.DER)
	w.auth.Revoke(ctx, out.Record.Identifier, certs.KeyCompromise, time.Time{})
	_, origLeaf := w.issue("original leaf")
	twinCert, _ := x509.ParseCertificate(der)
	for _, tc := range []struct {
		leaf   *x509.Certificate
		issuer *x509.Certificate
		want   int
	}{{twinLeaf, twinCert, ocsp.Revoked}, {origLeaf, w.subCert, ocsp.Good}} {
		der, _ := w.post(buildRequest([][]byte{certID(tc.issuer, crypto.SHA1, tc.leaf.SerialNumber, false, false)}, []byte("nonce-twin-000001")))
		r, err := ocsp.ParseResponse(der, tc.issuer)
		if err != nil || r.Status != tc.want {
			t.Errorf("serial %x: %v %v, want status %d", tc.leaf.SerialNumber, r, err, tc.want)
		}
	}
}

// TestRespond_UnknownAnswersRemembered: a second ask about a serial never
// issued is answered from memory (no new signature), and a certificate
// added to the store afterwards — by import, with no pre-signed answer —
// is answered from its record at once, never from the remembered unknown.
func TestRespond_UnknownAnswersRemembered(t *testing.T) {
	w := newWorld(t, responder.Options{})
	ctx := context.Background()
	serial := big.NewInt(0x5eed5eed)
	req := buildRequest([][]byte{certID(w.subCert, crypto.SHA1, serial, false, false)}, nil)
	first, err := w.rsp.Respond(ctx, req)
	if err != nil || first.Cached || first.Statuses[0] != certs.Unknown {
		t.Fatalf("first ask: %+v %v", first, err)
	}
	second, err := w.rsp.Respond(ctx, req)
	if err != nil || !second.Cached || !bytes.Equal(second.DER, first.DER) {
		t.Fatalf("second ask not answered from memory: cached=%v same=%v %v", second.Cached, bytes.Equal(second.DER, first.DER), err)
	}
	// Nonce requests are always signed live.
	withNonce, err := w.rsp.Respond(ctx, buildRequest([][]byte{certID(w.subCert, crypto.SHA1, serial, false, false)}, []byte("n0nce")))
	if err != nil || withNonce.Cached {
		t.Fatalf("nonce ask: cached=%v %v", withNonce.Cached, err)
	}

	// Import a certificate with that serial, issued by the sub CA.
	signer, err := w.auth.CASigner(ctx, w.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	leafKey := newKey(t)
	now := w.clock.Now()
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "imported"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		w.subCert, leafKey.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	if _, err := w.store.PutMany(ctx, []certs.Record{{Identifier: certs.IdentifierOf(der), Issuer: w.sub.Identifier, Serial: certs.SerialFromBig(serial),
		Kind: certs.KindClient, DER: der, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, State: certs.StateIssued, CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	after, err := w.rsp.Respond(ctx, req)
	if err != nil || after.Statuses[0] != certs.Good {
		t.Fatalf("after import: %+v %v, want good", after.Statuses, err)
	}
}
