package ca_test

import (
	"context"
	"crypto/x509"
	"slices"
	"sync"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// A burst of revocations under one CA shares its CRL regenerations: at
// most two passes (the one they wait for, and one more for those that
// came while it was scheduled), not one each, and the CRL they leave
// lists them all.
func TestCRL_OnFake_BurstCoalesces(t *testing.T) {
	f := newFakeFixture(t, nil)
	ctx := context.Background()
	const burst = 8
	revoked := map[string]bool{}
	for range burst {
		r := f.issue(t)
		if _, err := f.auth.Revoke(ctx, r.Identifier, certs.KeyCompromise, f.clock.t); err != nil {
			t.Fatal(err)
		}
		revoked[string(r.Serial)] = true
	}
	if n := f.store.callsTo("PutCRL"); n != 0 {
		t.Fatalf("%d CRLs stored before the delay (an hour) passed", n)
	}
	f.auth.Wait()
	if n := f.store.callsTo("PutCRL"); n < 1 || n > 2 {
		t.Errorf("%d CRLs stored for a burst of %d revocations, want 1 or 2", n, burst)
	}
	c, err := f.store.crl(f.sub.Identifier)
	if err != nil || c.Stale {
		t.Fatalf("CRL after the burst: stale %v, %v", c.Stale, err)
	}
	subCert, _ := f.sub.Certificate()
	l, err := x509.ParseRevocationList(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CheckSignatureFrom(subCert); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	for _, e := range l.RevokedCertificateEntries {
		delete(revoked, string(certs.SerialFromBig(e.SerialNumber)))
	}
	if len(revoked) != 0 || len(l.RevokedCertificateEntries) != burst {
		t.Errorf("CRL lists %d entries and misses %d of the %d revoked", len(l.RevokedCertificateEntries), len(revoked), burst)
	}
}

// A revocation that comes while its CA's CRL pass is running gets a pass
// of its own after it: the CRL left at the end lists it and is not stale.
func TestCRL_OnFake_RevocationDuringAPass(t *testing.T) {
	f := newFakeFixture(t, nil)
	ctx := context.Background()
	first, late := f.issue(t), f.issue(t)
	var (
		once    sync.Once
		lateErr error
	)
	// The pass lists the revoked certificates: the late revocation comes then.
	f.store.setBeforeList(func() {
		once.Do(func() { _, lateErr = f.auth.Revoke(ctx, late.Identifier, certs.Superseded, f.clock.t) })
	})
	if _, err := f.auth.Revoke(ctx, first.Identifier, certs.KeyCompromise, f.clock.t); err != nil {
		t.Fatal(err)
	}
	f.auth.Wait()
	if lateErr != nil {
		t.Fatalf("late revocation: %v", lateErr)
	}
	c, err := f.store.crl(f.sub.Identifier)
	if err != nil || c.Stale {
		t.Fatalf("CRL after a revocation during its pass: stale %v, %v", c.Stale, err)
	}
	l, err := x509.ParseRevocationList(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	var listed []certs.Serial
	for _, e := range l.RevokedCertificateEntries {
		listed = append(listed, certs.SerialFromBig(e.SerialNumber))
	}
	if !slices.Contains(listed, late.Serial) || !slices.Contains(listed, first.Serial) {
		t.Errorf("CRL lists %v, want both %s and the late %s", listed, first.Serial, late.Serial)
	}
}
