package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
)

// A new sub CA gets a delegated responder stored and a signer published
// at once (CreateSub reloads the signers); the answers of its
// certificates verify against it. A reload with nothing due issues no
// other responder.
func TestReloadOCSP_OnFake_AfterCreateSub(t *testing.T) {
	f := newFakeFixture(t, nil)
	ctx := context.Background()
	puts := f.store.callsTo("PutResponder")
	sub2, err := f.auth.CreateSub(ctx, certs.SubRequest{Parent: f.root.Identifier, Subject: certs.Subject{CommonName: "Fake Sub 2", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 20}})
	if err != nil {
		t.Fatal(err)
	}
	rsp, ok := f.store.responder(sub2.Identifier)
	if !ok {
		t.Fatal("no responder stored for the new sub CA")
	}
	if n := f.store.callsTo("PutResponder"); n != puts+1 {
		t.Errorf("%d responders stored for one new CA", n-puts)
	}
	s := f.auth.OCSPSigners().Get(sub2.Identifier)
	if s == nil || s.SignerCert == nil || !bytes.Equal(s.SignerCert.Raw, rsp.DER) {
		t.Fatal("the new CA's stored responder is not published as its signer")
	}
	subCert, _ := sub2.Certificate()
	rc, err := x509.ParseCertificate(rsp.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.CheckSignatureFrom(subCert); err != nil || !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		t.Errorf("responder certificate: signature %v, EKU %v; want signed by the new CA for OCSP signing", err, rc.ExtKeyUsage)
	}
	out, err := f.auth.Issue(ctx, certs.IssueRequest{Issuer: sub2.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 10}})
	if err != nil {
		t.Fatal(err)
	}
	o, ok := f.store.answer(sub2.Identifier, out.Record.Serial, crypto.SHA1)
	if !ok {
		t.Fatal("no answer stored for a certificate of the new CA")
	}
	leaf, _ := out.Record.Certificate()
	if resp, err := ocsp.ParseResponseForCert(o.DER, leaf, subCert); err != nil || !bytes.Equal(resp.Certificate.Raw, rsp.DER) {
		t.Errorf("answer of the new CA's certificate: %v; want one signed by its responder", err)
	}

	if err := f.auth.ReloadOCSP(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.store.callsTo("PutResponder"); n != puts+1 {
		t.Errorf("a reload with nothing due stored %d more responders", n-puts-1)
	}
	if s := f.auth.OCSPSigners().Get(sub2.Identifier); s == nil || !bytes.Equal(s.SignerCert.Raw, rsp.DER) {
		t.Error("the reload dropped or replaced the new CA's signer")
	}
}

// The refresh re-signs the answers due and only those; a certificate
// whose facts are corrupt is skipped, and the pass goes on.
func TestRefreshOCSP_OnFake_SkipsCorrupt(t *testing.T) {
	f := newFakeFixture(t, nil)
	ctx := context.Background()
	due := []certs.Record{f.issue(t), f.issue(t), f.issue(t)}
	// The corrupt one first in the store's order: the pass must go on after it.
	slices.SortFunc(due, func(a, b certs.Record) int {
		return bytes.Compare([]byte(answerKey(a.Issuer, a.Serial, crypto.SHA1)), []byte(answerKey(b.Issuer, b.Serial, crypto.SHA1)))
	})
	_, old := f.stored(t, due[0])
	f.clock.t = f.clock.t.Add(9 * time.Hour) // past the refresh age, a third of 24h
	young := f.issue(t)
	_, youngAnswer := f.stored(t, young)
	f.store.setCorrupt(due[0].Serial)
	f.clock.t = f.clock.t.Add(time.Minute)

	n, err := f.auth.RefreshOCSP(ctx)
	if n != 2 || err != nil {
		t.Fatalf("RefreshOCSP = %d, %v; want the 2 readable due answers", n, err)
	}
	for _, r := range due[1:] {
		if resp, _ := f.stored(t, r); !resp.ThisUpdate.Equal(f.clock.t) || resp.Status != ocsp.Good {
			t.Errorf("answer of %s: %v from %v, want good re-signed at %v", r.Identifier, resp.Status, resp.ThisUpdate, f.clock.t)
		}
	}
	if _, o := f.stored(t, due[0]); !o.ThisUpdate.Equal(old.ThisUpdate) {
		t.Error("the answer of the corrupt record was replaced")
	}
	if _, o := f.stored(t, young); !o.ThisUpdate.Equal(youngAnswer.ThisUpdate) {
		t.Error("an answer younger than the refresh age was re-signed")
	}
	if n := f.store.callsTo("LookupStatus"); n != 3 {
		t.Errorf("%d status lookups, want one per due answer (3)", n)
	}
}
