package ca_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
)

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

func TestIssueResponder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, key, err := f.auth.IssueResponder(ctx, f.sub.Identifier, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, r.DER)
	if err := c.CheckSignatureFrom(mustParse(t, f.sub.DER)); err != nil {
		t.Errorf("not signed by its CA: %v", err)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning || c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA {
		t.Errorf("usages: EKU %v KU %b CA %v", c.ExtKeyUsage, c.KeyUsage, c.IsCA)
	}
	nocheck := false
	for _, e := range c.Extensions {
		nocheck = nocheck || e.Id.Equal(oidOCSPNoCheck)
	}
	if !nocheck {
		t.Error("no id-pkix-ocsp-nocheck extension")
	}
	if len(c.OCSPServer) != 0 || len(c.CRLDistributionPoints) != 0 {
		t.Error("a responder certificate carries no OCSP or CRL URL")
	}
	if d := time.Until(c.NotAfter); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("validity %v", d)
	}
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey) {
		t.Error("returned key does not match")
	}
	opened, err := f.auth.ResponderSigner(r)
	if err != nil || !opened.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey) {
		t.Errorf("ResponderSigner: %v", err)
	}
	if got := lintFindings(t, r.DER); len(got) > 0 {
		t.Errorf("zlint findings on the responder certificate:\n%s", joinLines(got))
	}
	if err := f.store.PutResponder(ctx, r); err != nil {
		t.Fatal(err)
	}

	// Capped at the CA's own validity.
	long, _, err := f.auth.IssueResponder(ctx, f.sub.Identifier, 100*365*24*time.Hour)
	if err != nil || !long.NotAfter.Equal(f.sub.NotAfter) {
		t.Errorf("long validity: %v, %v (CA until %v)", long.NotAfter, err, f.sub.NotAfter)
	}
	// A disabled CA still answers OCSP; a revoked one gets no new responder.
	f.auth.SetCADisabled(ctx, f.sub.Identifier, true)
	if _, _, err := f.auth.IssueResponder(ctx, f.sub.Identifier, 24*time.Hour); err != nil {
		t.Errorf("disabled CA: %v", err)
	}
	f.auth.RevokeCA(ctx, f.sub.Identifier, certs.KeyCompromise, time.Time{})
	if _, _, err := f.auth.IssueResponder(ctx, f.sub.Identifier, 24*time.Hour); !errors.Is(err, certs.ErrIssuerUnusable) {
		t.Errorf("revoked CA: %v", err)
	}
	if _, _, err := f.auth.IssueResponder(ctx, f.root.Identifier, time.Minute); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("a minute of validity: %v", err)
	}
	if s, err := f.auth.CASigner(ctx, f.root.Identifier); err != nil || !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(mustParse(t, f.root.DER).PublicKey) {
		t.Errorf("CASigner: %v", err)
	}
}

// TestPresign: the Presign hook's responses land in the store in the same
// transaction as the issued or revoked record.
func TestPresign(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var seen []certs.Record
	auth, err := ca.New(f.store, newSealer(t), &ca.Options{Now: f.clock.Now, Presign: func(_ context.Context, r certs.Record) ([]certs.OCSPResponse, error) {
		seen = append(seen, r)
		st := certs.Good
		if r.State == certs.StateRevoked {
			st = certs.Revoked
		}
		now := time.Now()
		return []certs.OCSPResponse{{Issuer: r.Issuer, Serial: r.Serial, Hash: crypto.SHA1, Status: st, DER: []byte(st.String()), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's sub CA key is sealed under another sealer: make a sub CA of this authority.
	root, _ := auth.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "P", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}})
	sub, _ := auth.CreateSub(ctx, certs.SubRequest{Parent: root.Identifier, Subject: certs.Subject{CommonName: "PS", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 5}})
	out, err := auth.Issue(ctx, certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "p"}, Validity: certs.Validity{Days: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := f.store.OCSPResponse(ctx, sub.Identifier, out.Record.Serial, crypto.SHA1); err != nil || string(o.DER) != "good" {
		t.Fatalf("pre-signed at issuance: %v %v", o, err)
	}
	if _, err := auth.Revoke(ctx, out.Record.Identifier, certs.Superseded, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if o, err := f.store.OCSPResponse(ctx, sub.Identifier, out.Record.Serial, crypto.SHA1); err != nil || string(o.DER) != "revoked" {
		t.Fatalf("pre-signed at revocation: %v %v", o, err)
	}
	if len(seen) != 2 || seen[1].State != certs.StateRevoked || seen[1].Reason != certs.Superseded {
		t.Errorf("Presign saw %+v", seen)
	}
	// A failing hook never blocks issuance or revocation.
	failing, _ := ca.New(f.store, newSealer(t), &ca.Options{Presign: func(context.Context, certs.Record) ([]certs.OCSPResponse, error) {
		return nil, errors.New("responder down")
	}})
	r2, err := failing.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "F", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := failing.CreateSub(ctx, certs.SubRequest{Parent: r2.Identifier, Subject: certs.Subject{CommonName: "FS", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 5}})
	o2, err := failing.Issue(ctx, certs.IssueRequest{Issuer: s2.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "f"}, Validity: certs.Validity{Days: 1}})
	if err != nil {
		t.Fatalf("issue with a failing Presign: %v", err)
	}
	if _, err := failing.Revoke(ctx, o2.Record.Identifier, certs.Unspecified, time.Time{}); err != nil {
		t.Fatalf("revoke with a failing Presign: %v", err)
	}
}
