package ca_test

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
)

func parseCRL(t *testing.T, c certs.CRL, issuer *x509.Certificate) *x509.RevocationList {
	t.Helper()
	rl, err := x509.ParseRevocationList(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return rl
}

func TestCRL_RevocationsListed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "good"}})
	kc := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "kc"}})
	unspec := f.issue(t, certs.IssueRequest{Kind: certs.KindServer, Subject: certs.Subject{CommonName: "u.example.com"}})
	if _, err := f.auth.Revoke(ctx, kc.Record.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.auth.Wait()
	if _, err := f.auth.Revoke(ctx, unspec.Record.Identifier, certs.Unspecified, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.store.Delete(ctx, unspec.Record.Identifier, time.Now()) // deleted, still listed
	// Each revocation regenerated the CRL in the background: current and
	// complete once that is done.
	f.auth.Wait()
	c, err := f.store.CRL(ctx, f.sub.Identifier)
	if err != nil || c.Stale || c.Number != 2 {
		t.Fatalf("CRL after two revocations: number %d stale %v err %v", c.Number, c.Stale, err)
	}
	rl := parseCRL(t, c, mustParse(t, f.sub.DER))
	if rl.Number.Uint64() != 2 || !rl.NextUpdate.After(rl.ThisUpdate) || rl.NextUpdate.Sub(rl.ThisUpdate) != 24*time.Hour {
		t.Errorf("number %v, this %v, next %v", rl.Number, rl.ThisUpdate, rl.NextUpdate)
	}
	got := map[string]int{}
	for _, e := range rl.RevokedCertificateEntries {
		got[certs.SerialFromBig(e.SerialNumber).String()] = e.ReasonCode
		if e.RevocationTime.IsZero() {
			t.Error("entry without revocation time")
		}
	}
	if len(got) != 2 || got[string(kc.Record.Serial)] != int(certs.KeyCompromise) || got[string(unspec.Record.Serial)] != 0 {
		t.Errorf("entries %v", got)
	}
	if _, listed := got[string(good.Record.Serial)]; listed {
		t.Error("a good certificate is listed")
	}
	for _, e := range rl.RevokedCertificateEntries {
		if certs.SerialFromBig(e.SerialNumber) == unspec.Record.Serial && len(e.Extensions) != 0 {
			t.Errorf("an unspecified reason is encoded: %v", e.Extensions)
		}
	}

	// The root's CRL lists a revoked sub CA.
	sub2, _ := f.auth.CreateSub(ctx, certs.SubRequest{Parent: f.root.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 30}})
	if _, err := f.auth.RevokeCA(ctx, sub2.Identifier, certs.CACompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.auth.Wait()
	rc, err := f.store.CRL(ctx, f.root.Identifier)
	if err != nil || rc.Stale {
		t.Fatalf("root CRL: %v %v", rc, err)
	}
	rrl := parseCRL(t, rc, mustParse(t, f.root.DER))
	if len(rrl.RevokedCertificateEntries) != 1 || certs.SerialFromBig(rrl.RevokedCertificateEntries[0].SerialNumber) != sub2.Serial || rrl.RevokedCertificateEntries[0].ReasonCode != int(certs.CACompromise) {
		t.Errorf("root CRL entries %+v", rrl.RevokedCertificateEntries)
	}

	// zlint's CRL lints.
	zrl, err := zx509.ParseRevocationList(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range zlint.LintRevocationList(zrl).Results {
		if r.Status >= lint.Warn {
			t.Errorf("zlint %s: %v %s", name, r.Status, r.Details)
		}
	}
}

func TestCRL_NumbersMonotonicAndRetention(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "short"}, Validity: certs.Validity{Days: 2}})
	f.auth.Revoke(ctx, old.Record.Identifier, certs.Superseded, time.Time{})
	f.auth.Wait()
	var last uint64
	for range 3 {
		c, err := f.auth.UpdateCRL(ctx, f.sub.Identifier, ca.CRLPolicy{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Number <= last {
			t.Fatalf("CRL number %d after %d", c.Number, last)
		}
		last = c.Number
	}
	// Past notAfter + retention the expired certificate leaves the CRL.
	f.clock.t = old.Record.NotAfter.Add(24 * time.Hour)
	c, _ := f.auth.UpdateCRL(ctx, f.sub.Identifier, ca.CRLPolicy{Retention: 48 * time.Hour})
	if n := len(parseCRL(t, c, mustParse(t, f.sub.DER)).RevokedCertificateEntries); n != 1 {
		t.Errorf("within retention: %d entries, want 1", n)
	}
	f.clock.t = old.Record.NotAfter.Add(72 * time.Hour)
	c, _ = f.auth.UpdateCRL(ctx, f.sub.Identifier, ca.CRLPolicy{Retention: 48 * time.Hour})
	if n := len(parseCRL(t, c, mustParse(t, f.sub.DER)).RevokedCertificateEntries); n != 0 {
		t.Errorf("past retention: %d entries, want 0", n)
	}
	if c.NextUpdate.Sub(c.ThisUpdate) != 24*time.Hour {
		t.Errorf("validity %v", c.NextUpdate.Sub(c.ThisUpdate))
	}
}

// TestCRL_ConcurrentRevocations: whatever the interleaving, once the dust
// settles the CRL is either current or marked stale — never silently
// missing a revocation.
func TestCRL_ConcurrentRevocations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []certs.Identifier
	for i := range 8 {
		ids = append(ids, f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "c" + string(rune('a'+i))}}).Record.Identifier)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.auth.Revoke(ctx, id, certs.KeyCompromise, time.Time{}); err != nil {
				t.Errorf("revoke %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	f.auth.Wait()
	// Generations are serialised and coalesced per CA, so the last one to
	// run saw every revocation: the stored CRL is current without a manual
	// regeneration.
	c, err := f.store.CRL(ctx, f.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stale {
		t.Fatal("CRL left stale after concurrent revocations")
	}
	if n := len(parseCRL(t, c, mustParse(t, f.sub.DER)).RevokedCertificateEntries); n != len(ids) {
		t.Errorf("CRL lists %d of %d revocations", n, len(ids))
	}
	// A revocation that bypasses the CA (the store alone) marks it stale.
	extra := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "direct"}})
	f.store.Revoke(ctx, extra.Record.Identifier, certs.Unspecified, time.Now())
	if c, _ := f.store.CRL(ctx, f.sub.Identifier); !c.Stale {
		t.Error("a store-level revocation did not mark the CRL stale")
	}
}

// TestCRL_OpenSSL: openssl crl -verify, and openssl verify -crl_check on a
// good and a revoked leaf.
func TestCRL_OpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required for interop tests (.ci/run installs it)")
	}
	f := newFixture(t)
	ctx := context.Background()
	good := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "good"}})
	bad := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "bad"}})
	f.auth.Revoke(ctx, bad.Record.Identifier, certs.KeyCompromise, time.Time{})
	f.auth.Wait()
	subCRL, _ := f.store.CRL(ctx, f.sub.Identifier)
	rootCRL, err := f.auth.UpdateCRL(ctx, f.root.Identifier, ca.CRLPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	root := w("root.pem", certs.EncodeCertPEM(f.root.DER))
	sub := w("sub.pem", certs.EncodeCertPEM(f.sub.DER))
	crlDER := w("sub.crl", subCRL.DER)
	if out, err := exec.Command(openssl, "crl", "-inform", "DER", "-in", crlDER, "-CAfile", sub, "-noout", "-verify").CombinedOutput(); err != nil || !strings.Contains(string(out), "verify OK") {
		t.Errorf("openssl crl -verify: %v\n%s", err, out)
	}
	out, _ := exec.Command(openssl, "crl", "-inform", "DER", "-in", crlDER, "-noout", "-text").CombinedOutput()
	if !strings.Contains(string(out), "Key Compromise") || !strings.Contains(string(out), "X509v3 CRL Number") {
		t.Errorf("openssl crl -text:\n%s", out)
	}
	// Both CRLs in PEM, for the whole chain.
	crls := w("crls.pem", append(pemCRL(subCRL.DER), pemCRL(rootCRL.DER)...))
	verify := func(leaf certs.Record) (string, error) {
		p := w(string(leaf.Identifier)+".pem", certs.EncodeCertPEM(leaf.DER))
		b, err := exec.Command(openssl, "verify", "-crl_check_all", "-CAfile", root, "-untrusted", sub, "-CRLfile", crls, p).CombinedOutput()
		return string(b), err
	}
	if out, err := verify(good.Record); err != nil || !strings.Contains(out, ": OK") {
		t.Errorf("good leaf with CRL check: %v\n%s", err, out)
	}
	if out, err := verify(bad.Record); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("revoked leaf with CRL check: %v\n%s", err, out)
	}
}

func pemCRL(der []byte) []byte {
	return []byte("-----BEGIN X509 CRL-----\n" + wrap64(der) + "-----END X509 CRL-----\n")
}

func wrap64(der []byte) string {
	s := encodeStd(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n")
	return b.String()
}
