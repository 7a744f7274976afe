package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/responder"
)

// Good, revoked (with and without a reason) and unknown, decided from the
// fake's facts and signed live by the Set's signer: through Respond and
// over HTTP, POST and GET, for SHA-1 and SHA-256 CertIDs; and the
// responder only reads.
func TestFakes_Statuses(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	revokedAt := f.clock.Now().Add(-3 * time.Hour)
	f.issued(1)
	f.revoke(2, revokedAt, certs.KeyCompromise)
	f.revoke(3, revokedAt, certs.Unspecified)
	before := f.src.snapshot()
	cases := []struct {
		name   string
		serial int64
		status int
		reason int
		want   certs.Status
	}{
		{"good", 1, ocsp.Good, 0, certs.Good},
		{"revoked/keyCompromise", 2, ocsp.Revoked, ocsp.KeyCompromise, certs.Revoked},
		{"revoked/unspecified", 3, ocsp.Revoked, ocsp.Unspecified, certs.Revoked},
		{"unknown serial", 4, ocsp.Unknown, 0, certs.Unknown},
	}
	for _, c := range cases {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			t.Run(c.name+"/"+h.String(), func(t *testing.T) {
				der := f.request(f.ca, c.serial, h)
				a := f.respond(der)
				if a.Cached || len(a.Statuses) != 1 || a.Statuses[0] != c.want {
					t.Errorf("Answer cached %v statuses %v, want live %v", a.Cached, a.Statuses, c.want)
				}
				check := func(how string, der []byte) {
					r := f.parse(der, c.serial)
					if r.Status != c.status || r.IssuerHash != h {
						t.Errorf("%s: status %d hash %v, want %d %v", how, r.Status, r.IssuerHash, c.status, h)
					}
					if c.status == ocsp.Revoked && (!r.RevokedAt.Equal(revokedAt) || r.RevocationReason != c.reason) {
						t.Errorf("%s: revoked at %v for %d, want %v for %d", how, r.RevokedAt, r.RevocationReason, revokedAt, c.reason)
					}
					if now := f.clock.Now(); !r.ThisUpdate.Equal(now) || !r.NextUpdate.Equal(now.Add(24*time.Hour)) {
						t.Errorf("%s: valid %v..%v, want from %v for 24h", how, r.ThisUpdate, r.NextUpdate, now)
					}
				}
				check("Respond", a.DER)
				check("POST", f.serve(der, false))
				check("GET", f.serve(der, true))
			})
		}
	}
	f.src.checkReadOnly(t, before)
}

// A request with a nonce, or several CertIDs, is signed live every time:
// the nonce echoed (RFC 9654), every CertID of the served issuer
// answered, none remembered.
func TestFakes_NonceAndSeveralCertIDs(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	f.issued(1)
	f.revoke(2, f.clock.Now().Add(-time.Hour), certs.Superseded)
	ids := map[int64][]byte{}
	ids[1], _ = f.signer.CertID(crypto.SHA1, big.NewInt(1))
	ids[2], _ = f.signer.CertID(crypto.SHA256, big.NewInt(2))
	want := map[int64]certs.Status{1: certs.Good, 2: certs.Revoked}
	xWant := map[int64]int{1: ocsp.Good, 2: ocsp.Revoked}
	for _, c := range []struct {
		name    string
		serials []int64
		nonce   []byte
	}{
		{"nonce", []int64{1}, []byte("a nonce of 32 bytes, as RFC 9654")},
		{"nonce/one byte", []int64{2}, []byte{0}},
		{"two CertIDs", []int64{1, 2}, nil},
		{"two CertIDs and a nonce", []int64{2, 1}, []byte("n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var certIDs [][]byte
			var statuses []certs.Status
			for _, n := range c.serials {
				certIDs = append(certIDs, ids[n])
				statuses = append(statuses, want[n])
			}
			der := withNonce(certIDs, c.nonce)
			for range 2 {
				a := f.respond(der)
				if a.Cached || a.Nonce != (c.nonce != nil) || !slices.Equal(a.Statuses, statuses) {
					t.Errorf("Answer cached %v nonce %v statuses %v, want live, %v", a.Cached, a.Nonce, a.Statuses, statuses)
				}
				for _, body := range [][]byte{a.DER, f.serve(der, false), f.serve(der, true)} {
					if got := f.nonceOf(body); !bytes.Equal(got, c.nonce) {
						t.Errorf("nonce %q, want %q", got, c.nonce)
					}
					for _, n := range c.serials {
						if r := f.parse(body, n); r.Status != xWant[n] {
							t.Errorf("serial %d: status %d, want %d", n, r.Status, xWant[n])
						}
					}
				}
			}
		})
	}
	if n := f.rsp.Remembered(); n != 0 {
		t.Errorf("%d answers to nonces or several CertIDs remembered", n)
	}
}

// RFC 6960 §2.2: with UnknownAsRevoked a serial the CA never issued is
// revoked on hold since 1970, with the extended-revoke extension.
func TestFakes_UnknownAsRevoked(t *testing.T) {
	f := newOnFakes(t, responder.Options{UnknownAsRevoked: true})
	f.issued(1)
	r := f.parse(f.serve(f.request(f.ca, 2, crypto.SHA1), false), 2)
	if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CertificateHold || !r.RevokedAt.Equal(time.Unix(0, 0)) {
		t.Errorf("unknown serial: status %d reason %d at %v, want revoked, certificateHold, 1970", r.Status, r.RevocationReason, r.RevokedAt)
	}
	if r := f.parse(f.serve(f.request(f.ca, 1, crypto.SHA1), false), 1); r.Status != ocsp.Good {
		t.Errorf("issued serial: status %d", r.Status)
	}
}

// An issuer not in the Set is unauthorized, and nothing is read or
// written on its account: not even the facts the fake has of it.
func TestFakes_UnauthorizedIssuer(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	f.src.setFacts(certs.IdentifierOf(f.foreign.Raw), certs.StatusFacts{Found: true, Serial: "1", State: certs.StateIssued})
	// A CA with the served CA's name and another key is another CA.
	k := fakeKey(t)
	sameName := fakeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Fake CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, k, k, time.Now().Add(time.Hour))
	if !bytes.Equal(sameName.RawSubject, f.ca.RawSubject) {
		t.Fatal("the look-alike CA has another name")
	}
	before := f.src.snapshot()
	lookups := f.signers.calls.Load()
	n := 0
	for name, issuer := range map[string]*x509.Certificate{"foreign": f.foreign, "same name, other key": sameName} {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			der := f.request(issuer, 1, h)
			if _, err := f.rsp.Respond(context.Background(), der); !errors.Is(err, responder.ErrUnauthorized) {
				t.Errorf("%s %v: Respond: %v, want unauthorized", name, h, err)
			}
			for _, get := range []bool{false, true} {
				if body := f.serve(der, get); !bytes.Equal(body, ocsp.UnauthorizedErrorResponse) {
					t.Errorf("%s %v (GET %v): %x, want unauthorized", name, h, get, body)
				}
				n++
			}
		}
	}
	if calls := f.src.callsTo(); len(calls) != 0 {
		t.Errorf("the Source was called for issuers not served: %v", calls)
	}
	f.src.checkReadOnly(t, before)
	if f.signers.calls.Load() == lookups {
		t.Error("the Signers were never asked")
	}
	if got := f.answers("unauthorized", "foreign issuer"); got != float64(n) {
		t.Errorf("unauthorized answers counted %v, want %d", got, n)
	}
}

// A store that cannot say what it knows gets internalError, never a
// status: not a live one, and not a good one remembered from before.
func TestFakes_LookupErrorIsInternalError(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	f.issued(1)
	plain := f.request(f.ca, 1, crypto.SHA1)
	if r := f.parse(f.respond(plain).DER, 1); r.Status != ocsp.Good { // remembered
		t.Fatalf("status %d", r.Status)
	}
	f.src.setFailLookup(errors.New("fake: the disk is on fire"))
	n := 0
	for name, der := range map[string][]byte{"remembered": plain, "SHA-256": f.request(f.ca, 1, crypto.SHA256), "nonce": f.nonceRequest(1)} {
		for _, get := range []bool{false, true} {
			if body := f.serve(der, get); !bytes.Equal(body, ocsp.InternalErrorErrorResponse) {
				t.Errorf("%s (GET %v): %x, want internalError", name, get, body)
			}
			n++
		}
		a, err := f.rsp.Respond(context.Background(), der)
		if err == nil || errors.Is(err, responder.ErrUnauthorized) || errors.Is(err, responder.ErrTryLater) || errors.Is(err, certs.ErrCorrupt) {
			t.Errorf("%s: Respond = %v statuses, %v; want the lookup's error", name, a.Statuses, err)
		}
	}
	if got := f.answers("internal", "error"); got != float64(n) {
		t.Errorf("internal errors counted %v, want %d", got, n)
	}
}

// Facts that no write could have made (a revocation without a time, a
// state that does not exist) and a store reporting corruption are
// internalError, counted as corrupt records.
func TestFakes_CorruptFactsAreInternalError(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	corrupt := []struct {
		name  string
		setup func(n int64)
	}{
		{"revoked without a time", func(n int64) {
			f.src.setFacts(f.id, certs.StatusFacts{Found: true, Serial: certs.SerialFromBig(big.NewInt(n)), State: certs.StateRevoked, Reason: certs.KeyCompromise})
		}},
		{"revoked for removeFromCRL", func(n int64) {
			f.src.setFacts(f.id, certs.StatusFacts{Found: true, Serial: certs.SerialFromBig(big.NewInt(n)), State: certs.StateRevoked,
				RevokedAt: f.clock.Now(), Reason: certs.RemoveFromCRL})
		}},
		{"no such state", func(n int64) {
			f.src.setFacts(f.id, certs.StatusFacts{Found: true, Serial: certs.SerialFromBig(big.NewInt(n)), State: certs.State(9)})
		}},
		{"the store says corrupt", func(n int64) {
			f.issued(n)
			f.src.setFailLookup(fmt.Errorf("fake: record of serial %d: %w", n, certs.ErrCorrupt))
		}},
	}
	n := 0
	for i, c := range corrupt {
		t.Run(c.name, func(t *testing.T) {
			serial := int64(10 + i)
			c.setup(serial)
			defer f.src.setFailLookup(nil)
			for _, der := range [][]byte{f.request(f.ca, serial, crypto.SHA1), f.nonceRequest(serial)} {
				if _, err := f.rsp.Respond(context.Background(), der); !errors.Is(err, certs.ErrCorrupt) {
					t.Errorf("Respond: %v, want certs.ErrCorrupt", err)
				}
				for _, get := range []bool{false, true} {
					if body := f.serve(der, get); !bytes.Equal(body, ocsp.InternalErrorErrorResponse) {
						t.Errorf("GET %v: %x, want internalError", get, body)
					}
					n++
				}
			}
		})
	}
	if got := f.answers("internal", "corrupt record"); got != float64(n) {
		t.Errorf("corrupt records counted %v, want %d", got, n)
	}
}

// A stored answer is served as it is only while current and signed in
// the current signer's form (ocspsign.Signer.Made), and only for the
// canonical CertID; otherwise the request is signed live by the Set's
// signer.
func TestFakes_StoredAnswers(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	now := f.clock.Now()
	signer := func(is ocspsign.Issuer, p ocspsign.Policy) *ocspsign.Signer {
		s, err := ocspsign.New(is, p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	caSigned := signer(ocspsign.Issuer{ID: f.id, Cert: f.ca, Signer: f.caKey}, ocspsign.Policy{})
	byName := signer(f.delegated(f.respKey), ocspsign.Policy{ByName: true})
	earlier := signer(f.delegated(f.respKey), ocspsign.Policy{}) // an earlier Set's signer of the same form
	cases := []struct {
		name   string
		s      *ocspsign.Signer
		at     time.Time
		served bool
	}{
		{"served/current, the Set's signer", f.signer, now.Add(-time.Hour), true},
		{"served/current, an earlier signer of the same form", earlier, now.Add(-time.Hour), true},
		{"served/dated 5m ahead (clock skew)", f.signer, now.Add(5 * time.Minute), true},
		{"live/signed by the CA's key", caSigned, now.Add(-time.Hour), false},
		{"live/signed byName", byName, now.Add(-time.Hour), false},
		{"live/at its nextUpdate", f.signer, now.Add(-24 * time.Hour), false},
		{"live/expired", f.signer, now.Add(-25 * time.Hour), false},
		{"live/dated more than 5m ahead", f.signer, now.Add(5*time.Minute + time.Second), false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := int64(100 + i)
			o, err := c.s.Answer(f.issued(n), crypto.SHA1, c.at)
			if err != nil {
				t.Fatal(err)
			}
			f.src.store(o)
			der := f.request(f.ca, n, crypto.SHA1)
			lookups := f.src.callsTo()["LookupStatus"]
			for _, get := range []bool{false, true} {
				body := f.serve(der, get)
				if bytes.Equal(body, o.DER) != c.served {
					t.Errorf("GET %v: stored answer served: %v, want %v", get, !c.served, c.served)
				}
				r := f.parse(body, n)
				if r.Status != ocsp.Good {
					t.Errorf("GET %v: status %d", get, r.Status)
				}
				if !c.served && !r.ThisUpdate.Equal(now) {
					t.Errorf("GET %v: a live answer from %v, want now", get, r.ThisUpdate)
				}
			}
			a := f.respond(der)
			if bytes.Equal(a.DER, o.DER) != c.served || c.served && !a.Cached {
				t.Errorf("Respond: stored answer served %v (cached %v), want %v", bytes.Equal(a.DER, o.DER), a.Cached, c.served)
			}
			if got := f.src.callsTo()["LookupStatus"] - lookups; c.served && got != 0 {
				t.Errorf("a stored answer served after %d status lookups", got)
			}
		})
	}
	// The stored answer is for the canonical CertID: one encoded otherwise
	// (no NULL hash parameters) is answered live.
	n := int64(100)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier([]int{1, 3, 14, 3, 2, 26}) })
		b.AddASN1OctetString(f.signer.NameHash(crypto.SHA1))
		b.AddASN1OctetString(f.signer.KeyHash(crypto.SHA1))
		b.AddASN1BigInt(big.NewInt(n))
	})
	a := f.respond(withNonce([][]byte{b.BytesOrPanic()}, nil))
	if r := f.parse(a.DER, n); a.Cached || r.Status != ocsp.Good || !r.ThisUpdate.Equal(now) {
		t.Errorf("a CertID without NULL parameters: cached %v status %d from %v; want good, signed live", a.Cached, r.Status, r.ThisUpdate)
	}
}

// A live answer is remembered and served again while the facts say the
// same, it is young enough and its signer is current; a revocation (or an
// import of an unknown serial) meanwhile is answered anew.
func TestFakes_RememberedLiveAnswers(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	f.issued(7)
	der := f.request(f.ca, 7, crypto.SHA1)
	a1 := f.respond(der)
	if a1.Cached || f.parse(a1.DER, 7).Status != ocsp.Good {
		t.Fatal("the first answer is not a live good")
	}
	if a2 := f.respond(der); !a2.Cached || !bytes.Equal(a2.DER, a1.DER) {
		t.Error("Respond: the live answer is not served again")
	}
	for _, get := range []bool{false, true} {
		if body := f.serve(der, get); !bytes.Equal(body, a1.DER) {
			t.Errorf("GET %v: the live answer is not served again", get)
		}
	}

	revokedAt := f.clock.Now().Add(-time.Minute)
	f.revoke(7, revokedAt, certs.KeyCompromise)
	body := f.serve(der, false)
	if r := f.parse(body, 7); r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise || !r.RevokedAt.Equal(revokedAt) {
		t.Fatalf("after the revocation: status %d reason %d at %v", r.Status, r.RevocationReason, r.RevokedAt)
	}
	if a3 := f.respond(der); !a3.Cached || !bytes.Equal(a3.DER, body) {
		t.Error("the revoked answer is not remembered in turn")
	}

	f.clock.Add(f.signer.Policy().RefreshAfter) // as old as a stored answer may be served
	a4 := f.respond(der)
	if r := f.parse(a4.DER, 7); a4.Cached || r.Status != ocsp.Revoked || !r.ThisUpdate.Equal(f.clock.Now()) {
		t.Errorf("past the refresh age: cached %v, status %d from %v; want a new revoked answer", a4.Cached, r.Status, r.ThisUpdate)
	}

	f.publish(f.delegated(f.respKey)) // a new Set retires the old signer's answers
	if a5 := f.respond(der); a5.Cached {
		t.Error("an answer of a retired signer served")
	}
	if a6 := f.respond(der); !a6.Cached {
		t.Error("the new signer's answer is not remembered")
	}

	// An unknown serial: the quick path serves the remembered answer while
	// the store does not have the serial, without a status lookup.
	u := f.request(f.ca, 8, crypto.SHA1)
	u1 := f.respond(u)
	if u1.Cached || f.parse(u1.DER, 8).Status != ocsp.Unknown {
		t.Fatal("the first answer for serial 8 is not a live unknown")
	}
	lookups := f.src.callsTo()["LookupStatus"]
	if body := f.serve(u, false); !bytes.Equal(body, u1.DER) {
		t.Error("the remembered unknown is not served")
	}
	if got := f.src.callsTo()["LookupStatus"]; got != lookups {
		t.Errorf("the remembered unknown cost %d status lookups", got-lookups)
	}
	f.issued(8) // imported meanwhile
	if r := f.parse(f.serve(u, false), 8); r.Status != ocsp.Good {
		t.Errorf("serial 8 imported: status %d, want good", r.Status)
	}

	f.src.checkOnlyReads(t)
}

// However many serials are asked for, the live answers remembered stay
// within liveCacheSize: a scan costs signatures, never memory.
func TestFakes_LiveCacheIsBounded(t *testing.T) {
	f := newOnFakes(t, responder.Options{})
	set := f.publish(f.delegated(constSigner{f.respKey}))
	s := set.Get(f.id)
	ctx := context.Background()
	most := 0
	for i := range responder.LiveCacheSize + 100 {
		id, err := s.CertID(crypto.SHA1, big.NewInt(int64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.rsp.Respond(ctx, withNonce([][]byte{id}, nil)); err != nil {
			t.Fatal(err)
		}
		n := f.rsp.Remembered()
		if n > responder.LiveCacheSize {
			t.Fatalf("after %d serials, %d answers remembered: more than %d", i+1, n, responder.LiveCacheSize)
		}
		most = max(most, n)
	}
	if most != responder.LiveCacheSize {
		t.Errorf("at most %d remembered, the bound is %d: the test never filled the cache", most, responder.LiveCacheSize)
	}
	if f.rsp.Remembered() == 0 {
		t.Error("nothing remembered after the cache started over")
	}
}

// Live signing is capped: past MaxLiveSigning signatures at once, a
// request that needs one gets tryLater, while stored answers are still
// served.
func TestFakes_TryLaterWhenLiveSigningSaturated(t *testing.T) {
	f := newOnFakes(t, responder.Options{MaxLiveSigning: 2})
	f.issued(1)
	o, err := f.signer.Answer(f.issued(2), crypto.SHA1, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.src.store(o)
	blocking := &blockingSigner{Signer: f.respKey, started: make(chan struct{}, 2), release: make(chan struct{})}
	f.publish(f.delegated(blocking))
	ctx := context.Background()
	ders := [][]byte{f.nonceRequest(1), f.nonceRequest(1)}
	errs := make([]error, len(ders))
	var wg sync.WaitGroup
	for i, der := range ders {
		wg.Go(func() { _, errs[i] = f.rsp.Respond(ctx, der) })
	}
	defer wg.Wait()
	released := false
	defer func() {
		if !released {
			close(blocking.release)
		}
	}()
	for range ders {
		select {
		case <-blocking.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the live signatures never started")
		}
	}
	third, done := f.nonceRequest(1), make(chan error, 1)
	wg.Go(func() { _, err := f.rsp.Respond(ctx, third); done <- err })
	select {
	case err := <-done:
		if !errors.Is(err, responder.ErrTryLater) {
			t.Errorf("a third live signature: %v, want tryLater", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a third live signature waited for the others instead of tryLater")
	}
	for _, der := range [][]byte{f.nonceRequest(1), f.request(f.ca, 1, crypto.SHA256)} {
		if body := f.serve(der, false); !bytes.Equal(body, ocsp.TryLaterErrorResponse) {
			t.Errorf("HTTP: %x, want tryLater", body)
		}
	}
	if got := f.answers("tryLater", "overload"); got != 2 {
		t.Errorf("tryLater counted %v, want 2", got)
	}
	if body := f.serve(f.request(f.ca, 2, crypto.SHA1), false); !bytes.Equal(body, o.DER) {
		t.Error("a stored answer is not served while live signing is saturated")
	}
	close(blocking.release)
	released = true
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("blocked request %d: %v", i, err)
		}
	}
	if r := f.parse(f.respond(f.nonceRequest(1)).DER, 1); r.Status != ocsp.Good {
		t.Errorf("after the release: status %d", r.Status)
	}
}
