package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// Issuance stores the record and its SHA-1 answer in one Put, the answer
// signed at issuance by the signer the CA publishes: the delegated
// responder it stored for the sub CA.
func TestIssue_OnFake_StoresRecordWithAnswer(t *testing.T) {
	f := newFakeFixture(t, nil)
	r := f.issue(t)
	if got, ok := f.store.record(r.Identifier); !ok || !reflect.DeepEqual(got, r) {
		t.Fatalf("stored record %+v (found %v), want the one Issue returned", got, ok)
	}
	if n := f.store.callsTo("Put"); n != 1 {
		t.Errorf("%d Put calls, want 1", n)
	}
	if n := f.store.callsTo("PutOCSPResponses"); n != 0 {
		t.Errorf("%d PutOCSPResponses calls: the answer must come with the record", n)
	}
	resp, o := f.stored(t, r)
	serial, _ := r.Serial.Big()
	if resp.Status != ocsp.Good || o.Status != certs.Good || resp.SerialNumber.Cmp(serial) != 0 {
		t.Errorf("answer says %v (stored as %v) for serial %v, want good for %v", resp.Status, o.Status, resp.SerialNumber, serial)
	}
	if !resp.ThisUpdate.Equal(f.clock.t) || !o.ThisUpdate.Equal(f.clock.t) {
		t.Errorf("thisUpdate %v (stored %v), want the CA's now %v", resp.ThisUpdate, o.ThisUpdate, f.clock.t)
	}
	signer := f.auth.OCSPSigners().Get(f.sub.Identifier)
	if signer == nil || signer.SignerCert == nil {
		t.Fatal("no delegated signer published for the sub CA")
	}
	rsp, ok := f.store.responder(f.sub.Identifier)
	if !ok || !bytes.Equal(rsp.DER, signer.SignerCert.Raw) {
		t.Fatal("the published signer is not the responder stored for the sub CA")
	}
	if resp.Certificate == nil || !bytes.Equal(resp.Certificate.Raw, rsp.DER) {
		t.Error("the answer is not signed by the published responder")
	}
}

// A CA that is revoked, or chains to a revoked CA, cannot issue, and
// nothing is stored; revoking a CA twice fails and leaves it as it was.
func TestIssue_OnFake_RevokedCA(t *testing.T) {
	for _, c := range []struct {
		name    string
		revoked func(*fakeFixture) certs.Identifier
	}{
		{"revoked/issuing CA", func(f *fakeFixture) certs.Identifier { return f.sub.Identifier }},
		{"revoked/parent", func(f *fakeFixture) certs.Identifier { return f.root.Identifier }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeFixture(t, nil)
			ctx := context.Background()
			id := c.revoked(f)
			if _, err := f.auth.RevokeCA(ctx, id, certs.KeyCompromise, f.clock.t); err != nil {
				t.Fatal(err)
			}
			before := f.store.data()
			if _, err := f.auth.RevokeCA(ctx, id, certs.Superseded, f.clock.t); !errors.Is(err, certs.ErrAlreadyRevoked) {
				t.Errorf("second RevokeCA: %v, want ErrAlreadyRevoked", err)
			}
			if !reflect.DeepEqual(before, f.store.data()) {
				t.Error("a refused second revocation changed the store")
			}
			_, err := f.auth.Issue(ctx, certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 10}})
			if !errors.Is(err, certs.ErrIssuerUnusable) {
				t.Errorf("Issue: %v, want ErrIssuerUnusable", err)
			}
			if n := f.store.callsTo("Put"); n != 0 {
				t.Errorf("%d Put calls from a refused issuance", n)
			}
		})
	}
}

// A failing pre-signature (here: the authority has no signers yet, and
// loading them fails on the responder read) is logged; the certificate
// is issued and revoked anyway, without an answer, and the good answer
// of a revoked certificate does not outlive its revocation.
func TestIssue_OnFake_PresignFailureDoesNotBlock(t *testing.T) {
	f := newFakeFixture(t, nil)
	ctx := context.Background()
	old := f.issue(t) // with its answer, before the failure
	f.store.setFail("responder", errors.New("responder table unreadable"))
	reads := f.store.callsTo("Responder")
	// A second authority over the same store, as an offline command is:
	// its first signature loads the signers.
	auth, err := ca.New(f.store, f.auth.Sealer(), &f.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(auth.Wait)
	out, err := auth.Issue(ctx, certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 10}})
	if err != nil {
		t.Fatalf("Issue with pre-signing failing: %v", err)
	}
	if _, ok := f.store.record(out.Record.Identifier); !ok {
		t.Fatal("certificate not stored")
	}
	if _, ok := f.store.answer(out.Record.Issuer, out.Record.Serial, crypto.SHA1); ok {
		t.Error("an answer was stored though pre-signing failed")
	}
	if f.store.callsTo("Responder") == reads {
		t.Fatal("pre-signing never tried to load the signers: the test does not test a failure")
	}
	if auth.OCSPSigners() != nil {
		t.Error("signers published though loading them failed")
	}
	r, err := auth.Revoke(ctx, old.Identifier, certs.KeyCompromise, f.clock.t)
	if err != nil || r.State != certs.StateRevoked {
		t.Fatalf("Revoke with pre-signing failing: %+v, %v", r.State, err)
	}
	for _, h := range ocspsign.Hashes {
		if o, ok := f.store.answer(old.Issuer, old.Serial, h); ok {
			t.Errorf("a %v answer (%v) outlived the revocation", h, o.Status)
		}
	}
}
