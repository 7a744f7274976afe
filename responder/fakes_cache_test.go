package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"math/big"
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
