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
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
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
