package ca_test

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/ocspclient"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

func newOCSPAuthority(t *testing.T, o ca.OCSPOptions) (*ca.Authority, *db.Store, *clock, certs.CA) {
	t.Helper()
	store, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().Truncate(time.Second)}
	auth, err := ca.New(store, newSealer(t), &ca.Options{Now: clk.Now, OCSP: &o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		auth.Wait()
		if ps, err := store.Check(context.Background()); err != nil || len(ps) > 0 {
			t.Errorf("store check: %v %v", err, ps)
		}
		store.Close()
	})
	ctx := context.Background()
	root, err := auth.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "P", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 100}})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := auth.CreateSub(ctx, certs.SubRequest{Parent: root.Identifier, Subject: certs.Subject{CommonName: "PS", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 50}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, store, clk, sub
}

func issueOne(t *testing.T, auth *ca.Authority, sub certs.CA) certs.Record {
	t.Helper()
	out, err := auth.Issue(context.Background(), certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "p"}, Validity: certs.Validity{Days: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Record
}

// storedStatus parses the stored SHA-1 answer of r, checking its signature
// against the sub CA (through the delegated responder it carries).
func storedStatus(t *testing.T, store *db.Store, sub certs.CA, r certs.Record) (*ocsp.Response, certs.OCSPResponse) {
	t.Helper()
	o, err := store.OCSPResponse(context.Background(), sub.Identifier, r.Serial, crypto.SHA1)
	if err != nil {
		t.Fatalf("no stored answer: %v", err)
	}
	subCert, _ := sub.Certificate()
	leaf, _ := r.Certificate()
	// ocspclient verifies what x/crypto cannot: a CA-signed answer with the
	// CA's certificate included (golang/go#59641).
	resp, err := ocspclient.Verify(o.DER, leaf, subCert, o.ThisUpdate)
	if err != nil {
		t.Fatalf("stored answer does not verify: %v", err)
	}
	return resp, o
}

// The CA signs the answer stored with a certificate at issuance and the
// revoked one in the revocation transaction, with the delegated responder
// it issued when the CA was created.
func TestOCSP_PresignedAtIssuanceAndRevocation(t *testing.T) {
	auth, store, _, sub := newOCSPAuthority(t, ca.OCSPOptions{})
	ctx := context.Background()
	if auth.OCSPSigners().Get(sub.Identifier) == nil {
		t.Fatal("a new CA is not in the published signers")
	}
	if _, err := store.Responder(ctx, sub.Identifier); err != nil {
		t.Fatalf("no delegated responder for a new CA: %v", err)
	}
	rec := issueOne(t, auth, sub)
	if resp, _ := storedStatus(t, store, sub, rec); resp.Status != ocsp.Good || resp.Certificate == nil {
		t.Fatalf("at issuance: status %v, responder certificate %v", resp.Status, resp.Certificate != nil)
	}
	if _, err := auth.Revoke(ctx, rec.Identifier, certs.Superseded, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := storedStatus(t, store, sub, rec); resp.Status != ocsp.Revoked || resp.RevocationReason != ocsp.Superseded {
		t.Fatalf("at revocation: status %v reason %v", resp.Status, resp.RevocationReason)
	}
}

// Without OCSP options the CA stores no answers and publishes no signers.
func TestOCSP_Off(t *testing.T) {
	f := newFixture(t)
	out, err := f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "n"}, Validity: certs.Validity{Days: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.OCSPResponse(context.Background(), f.sub.Identifier, out.Record.Serial, crypto.SHA1); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("an answer was stored: %v", err)
	}
	if f.auth.OCSPSigners() != nil {
		t.Error("signers published")
	}
	if err := f.auth.ReloadOCSP(context.Background()); err == nil {
		t.Error("ReloadOCSP without OCSP options")
	}
}

// ReloadOCSP rotates a responder certificate only when it is due, and a
// reload with nothing due writes nothing; a revoked CA keeps its
// responder and stays answered for.
func TestOCSP_ReloadRotatesOnlyWhenDue(t *testing.T) {
	auth, store, clk, sub := newOCSPAuthority(t, ca.OCSPOptions{ResponderValidity: 3 * 24 * time.Hour})
	ctx := context.Background()
	first, _ := store.Responder(ctx, sub.Identifier)
	before := store.Stats().Writes
	if err := auth.ReloadOCSP(ctx); err != nil {
		t.Fatal(err)
	}
	if n := store.Stats().Writes - before; n != 0 {
		t.Fatalf("a reload with nothing due made %d writes", n)
	}
	// Two days on, the 3-day responder would expire within validity + a
	// day: rotated, and the new one published.
	clk.t = clk.t.Add(2 * 24 * time.Hour)
	if err := auth.ReloadOCSP(ctx); err != nil {
		t.Fatal(err)
	}
	second, _ := store.Responder(ctx, sub.Identifier)
	if !second.NotAfter.After(first.NotAfter) {
		t.Fatalf("responder not rotated: %v then %v", first.NotAfter, second.NotAfter)
	}
	if s := auth.OCSPSigners().Get(sub.Identifier); s == nil || !s.NotAfter().Equal(second.NotAfter) {
		t.Fatal("the rotated responder is not the one published")
	}
	if _, err := auth.RevokeCA(ctx, sub.Identifier, certs.CACompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if auth.OCSPSigners().Get(sub.Identifier) == nil {
		t.Error("a revoked CA is no longer answered for")
	}
}

func TestOCSP_SignWithCA(t *testing.T) {
	auth, store, _, sub := newOCSPAuthority(t, ca.OCSPOptions{SignWithCA: true})
	if _, err := store.Responder(context.Background(), sub.Identifier); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("a delegated responder was issued: %v", err)
	}
	rec := issueOne(t, auth, sub)
	subCert, _ := sub.Certificate()
	if resp, _ := storedStatus(t, store, sub, rec); resp.Status != ocsp.Good || resp.Certificate == nil || !resp.Certificate.Equal(subCert) {
		t.Fatalf("CA-signed answer: status %v, certificate %v; want the CA's certificate included", resp.Status, resp.Certificate != nil)
	}
}

func TestOCSPOptions_Bounds(t *testing.T) {
	store, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, o := range []ca.OCSPOptions{
		{Policy: ocspsign.Policy{Validity: time.Hour}},
		{Policy: ocspsign.Policy{Validity: 8 * 24 * time.Hour}},
		{Policy: ocspsign.Policy{RefreshAfter: 59 * time.Second}},
		{Policy: ocspsign.Policy{RefreshAfter: 12*time.Hour + time.Second}},
		{RefreshShare: -0.1}, {RefreshShare: 1.5},
		{ResponderValidity: 47 * time.Hour},
	} {
		if _, err := ca.New(store, newSealer(t), &ca.Options{OCSP: &o}); err == nil || !(strings.Contains(err.Error(), "outside") || strings.Contains(err.Error(), "twice")) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// The refresh re-signs stored answers older than the refresh age (a third
// of the validity by default), and only those; its interval lets it do so
// before half the validity has passed.
func TestOCSP_Refresh(t *testing.T) {
	auth, store, clk, sub := newOCSPAuthority(t, ca.OCSPOptions{Policy: ocspsign.Policy{Validity: 8 * time.Hour}})
	ctx := context.Background()
	rec := issueOne(t, auth, sub)
	clk.t = clk.t.Add(2 * time.Hour)
	if n, err := auth.RefreshOCSP(ctx); n != 0 || err != nil {
		t.Fatalf("Refresh of a 2h-old answer = %d, %v; want 0", n, err)
	}
	clk.t = clk.t.Add(time.Hour)
	if n, err := auth.RefreshOCSP(ctx); n != 1 || err != nil {
		t.Fatalf("Refresh of a 3h-old answer = %d, %v; want 1", n, err)
	}
	if _, o := storedStatus(t, store, sub, rec); !o.ThisUpdate.Equal(clk.t) {
		t.Errorf("refreshed thisUpdate %v, want now %v", o.ThisUpdate, clk.t)
	}
	if n, _ := auth.RefreshOCSP(ctx); n != 0 {
		t.Errorf("second Refresh re-signed %d fresh answers", n)
	}
	if auth.OCSPRefreshInterval() > 8*time.Hour/12 {
		t.Errorf("refresh interval %v too long to refresh before half validity", auth.OCSPRefreshInterval())
	}
	// A revocation meanwhile: the refresh signs the current status.
	if _, err := auth.Revoke(ctx, rec.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(3 * time.Hour)
	if n, err := auth.RefreshOCSP(ctx); n != 1 || err != nil {
		t.Fatalf("Refresh after revocation = %d, %v", n, err)
	}
	if resp, _ := storedStatus(t, store, sub, rec); resp.Status != ocsp.Revoked {
		t.Errorf("refreshed a revoked certificate as %v", resp.Status)
	}
	if err := auth.OCSPReady(); err != nil {
		t.Errorf("OCSPReady after a pass: %v", err)
	}
}

// RefreshAfter sets the age at which answers are re-signed, and the pass
// interval follows it.
func TestOCSP_RefreshAfter(t *testing.T) {
	auth, store, clk, sub := newOCSPAuthority(t, ca.OCSPOptions{Policy: ocspsign.Policy{RefreshAfter: 10 * time.Minute}, RefreshShare: 1})
	ctx := context.Background()
	rec := issueOne(t, auth, sub)
	_, first := storedStatus(t, store, sub, rec)
	clk.t = clk.t.Add(9 * time.Minute)
	if n, err := auth.RefreshOCSP(ctx); n != 0 || err != nil {
		t.Fatalf("Refresh of a 9-minute-old answer = %d, %v; want 0", n, err)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if n, err := auth.RefreshOCSP(ctx); n != 1 || err != nil {
		t.Fatalf("Refresh of an 11-minute-old answer = %d, %v; want 1", n, err)
	}
	if _, o := storedStatus(t, store, sub, rec); !o.ThisUpdate.After(first.ThisUpdate) {
		t.Error("the answer was not re-signed")
	}
	if got := auth.OCSPRefreshInterval(); got != 150*time.Second {
		t.Errorf("refresh interval %v, want a quarter of 10m", got)
	}
}

// A refresh pass pauses after every page of its scan, every signature and
// every batch write as RefreshShare asks, and not at all with a share of 1.
func TestOCSP_RefreshShare(t *testing.T) {
	for _, c := range []struct {
		share float64
		certs int
	}{{1, 501}, {0.25, 501}} {
		auth, _, clk, sub := newOCSPAuthority(t, ca.OCSPOptions{RefreshShare: c.share})
		for range c.certs {
			issueOne(t, auth, sub)
		}
		var pauses []time.Duration
		auth.WatchRefreshPauses(&pauses)
		clk.t = clk.t.Add(9 * time.Hour)
		if n, err := auth.RefreshOCSP(context.Background()); n != c.certs || err != nil {
			t.Fatalf("share %v: Refresh = %d, %v", c.share, n, err)
		}
		positive := 0
		for _, p := range pauses {
			if p > 0 {
				positive++
			}
		}
		switch {
		case c.share == 1 && len(pauses) != 0:
			t.Errorf("share 1 paused %d times", len(pauses))
		case c.share < 1 && positive != 2+c.certs+2:
			t.Errorf("share %v: %d pauses, want one per page of the scan (2), per signature and per batch write (2): %d", c.share, positive, 2+c.certs+2)
		}
	}
}

// After a restart with another signer setting, the start pass re-signs
// the young answers signed under the old one, and only those.
func TestOCSP_StartPassResignsOtherForms(t *testing.T) {
	auth, store, clk, sub := newOCSPAuthority(t, ca.OCSPOptions{})
	ctx := context.Background()
	rec := issueOne(t, auth, sub)
	if n, err := auth.RefreshOCSPAll(ctx); n != 0 || err != nil {
		t.Fatalf("start pass with unchanged settings = %d, %v; want 0", n, err)
	}
	// The same store and keys, now signing with the CA key.
	caSigned, err := ca.New(store, auth.Sealer(), &ca.Options{Now: clk.Now, OCSP: &ca.OCSPOptions{SignWithCA: true}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := caSigned.RefreshOCSP(ctx); n != 0 || err != nil {
		t.Fatalf("a normal pass re-signed %d young answers (%v)", n, err)
	}
	if !caSigned.OCSPSigners().CheckForm() {
		t.Fatal("signers settled before the start pass")
	}
	if n, err := caSigned.RefreshOCSPAll(ctx); n != 1 || err != nil {
		t.Fatalf("start pass after the switch = %d, %v; want 1", n, err)
	}
	// Every stored answer is now in the current form: the responder may
	// skip the check, also in the Sets published later.
	if caSigned.OCSPSigners().CheckForm() {
		t.Error("signers not settled after the start pass")
	}
	if err := caSigned.ReloadOCSP(ctx); err != nil || caSigned.OCSPSigners().CheckForm() {
		t.Errorf("a reload after the start pass unsettled the signers (%v)", err)
	}
	subCert, _ := sub.Certificate()
	if resp, _ := storedStatus(t, store, sub, rec); resp.Certificate == nil || !resp.Certificate.Equal(subCert) {
		t.Error("the re-signed answer does not carry the CA's certificate: it still carries the delegated responder")
	}
}
