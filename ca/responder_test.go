package ca_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

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
